import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AutobahnClients, Inbox as WampInbox, rejectionOf, type Dict, type EventDetails } from '../support/autobahn-client.js';
import { dropConnection, MqttTestClients, uniqueName } from '../support/mqtt-client.js';
import { startServer, type RunningServer } from '../support/server-process.js';

/**
 * The WAMP ⇄ MQTT bridge (DESIGN.md "Topics across protocols"): one realm, one topic space, one retained store.
 * Every mapping rule is driven with real clients on both sides: autobahn (JSON, so bytes travel as the spec's
 * "\0" + base64 and autobahn hands them back as bytes) and MQTT.js at protocol 5.
 */
interface WampEvent {
  readonly args: unknown[];
  readonly kwargs: Dict;
  readonly details: EventDetails;
}

let server: RunningServer;
let wamp: AutobahnClients;
let mqtt: MqttTestClients;

beforeAll(async () => {
  server = await startServer(['--auto-realms']);
  wamp = new AutobahnClients(() => server.wampUrl);
  mqtt = new MqttTestClients(server.mqttUrl!, 5);
});

afterEach(async () => {
  await wamp.closeAll();
  await mqtt.closeAll();
});

afterAll(async () => {
  await server.stop();
});

/** A WAMP subscriber and what it receives. */
async function wampSubscriber(topic: string, options: Dict = {}, realm = 'realm1', serializer: 'json' | 'msgpack' = 'json') {
  const client = await wamp.connect(serializer, realm);
  const inbox = new WampInbox<WampEvent>();
  await client.session.subscribe(topic, (args, kwargs, details) => inbox.push({ args: args ?? [], kwargs: kwargs ?? {}, details }), options);
  return { client, inbox };
}

function bytesOf(value: unknown): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw new Error(`expected bytes, got ${JSON.stringify(value)}`);
}

describe('MQTT → WAMP', () => {
  it('a JSON payload on a/b/c reaches the WAMP subscriber of a.b.c as args [value]', async () => {
    const topic = uniqueName('bridge');
    const { inbox } = await wampSubscriber(`${topic}.b.c`);
    const device = await mqtt.connect();
    await device.client.publishAsync(`${topic}/b/c`, JSON.stringify({ temperature: 21.5, ok: true }), { qos: 1 });
    const [event] = await inbox.waitFor(1);
    expect(event!.args).toEqual([{ temperature: 21.5, ok: true }]);
    expect(event!.kwargs).toEqual({});
  });

  it('JSON scalars and strings keep their type: 0, false, "text", null', async () => {
    const topic = uniqueName('scalars');
    const { inbox } = await wampSubscriber(topic);
    const device = await mqtt.connect();
    for (const text of ['0', 'false', '"text"', 'null']) await device.client.publishAsync(topic, text, { qos: 1 });
    const events = await inbox.waitFor(4);
    expect(events.map((event) => event.args)).toEqual([[0], [false], ['text'], [null]]);
  });

  it('a payload that is not JSON (binary, or plain text) arrives as args [bytes], never as an error', async () => {
    const topic = uniqueName('binary');
    // MessagePack carries bytes as bytes (autobahn's JSON serializer leaves the spec's "\0"+base64 string as is).
    const { inbox } = await wampSubscriber(topic, {}, 'realm1', 'msgpack');
    const device = await mqtt.connect();
    const binary = Buffer.from([0x00, 0xff, 0xc3, 0x28, 0x7b]);
    await device.client.publishAsync(topic, binary, { qos: 1 });
    await device.client.publishAsync(topic, 'hello world', { qos: 1 });
    const events = await inbox.waitFor(2);
    expect(bytesOf(events[0]!.args[0]).equals(binary)).toBe(true);
    expect(bytesOf(events[1]!.args[0]).toString('utf8')).toBe('hello world');
  });

  it('an empty MQTT payload arrives with no args', async () => {
    const topic = uniqueName('empty');
    const { inbox } = await wampSubscriber(topic);
    const device = await mqtt.connect();
    await device.client.publishAsync(topic, Buffer.alloc(0), { qos: 1 });
    const [event] = await inbox.waitFor(1);
    expect(event!.args).toEqual([]);
  });

  it('WAMP wildcard and prefix subscriptions match MQTT topics level by level', async () => {
    const topic = uniqueName('levels');
    const wildcard = await wampSubscriber(`${topic}..temp`, { match: 'wildcard' });
    const prefix = await wampSubscriber(`${topic}.room1`, { match: 'prefix' });
    const device = await mqtt.connect();
    await device.client.publishAsync(`${topic}/room1/temp`, '1', { qos: 1 });
    await device.client.publishAsync(`${topic}/room2/temp`, '2', { qos: 1 });
    await device.client.publishAsync(`${topic}/room1/humidity`, '3', { qos: 1 });
    const matched = await wildcard.inbox.waitFor(2);
    expect(matched.map((event) => event.details.topic)).toEqual([`${topic}.room1.temp`, `${topic}.room2.temp`]);
    const prefixed = await prefix.inbox.waitFor(2);
    expect(prefixed.map((event) => event.args[0])).toEqual([1, 3]);
  });

  it('an MQTT level holding a dot is its own level: a.b/c does not reach the WAMP subscriber of a.b.c', async () => {
    const topic = uniqueName('dotted');
    const { inbox } = await wampSubscriber(`${topic}.b.c`);
    const device = await mqtt.connect();
    await device.client.publishAsync(`${topic}.b/c`, '"not for you"', { qos: 1 });
    await device.client.publishAsync(`${topic}/b/c`, '"for you"', { qos: 1 });
    const [event] = await inbox.waitFor(1);
    expect(event!.args).toEqual(['for you']);
    expect(inbox.items).toHaveLength(1);
  });

  it('an MQTT retained message is the WAMP retained value (get_retained), flagged retained', async () => {
    const topic = uniqueName('retained');
    const device = await mqtt.connect();
    await device.client.publishAsync(`${topic}/state`, JSON.stringify({ on: true }), { qos: 1, retain: true });
    const { inbox } = await wampSubscriber(`${topic}.state`, { get_retained: true });
    const [event] = await inbox.waitFor(1);
    expect(event!.args).toEqual([{ on: true }]);
    expect(event!.details.retained).toBe(true);
  });

  it("an MQTT client's will reaches WAMP subscribers when its connection is lost", async () => {
    const topic = uniqueName('will');
    const { inbox } = await wampSubscriber(`${topic}.status`);
    const device = await mqtt.connect({ will: { topic: `${topic}/status`, payload: Buffer.from('"offline"'), qos: 1, retain: false } });
    await dropConnection(device);
    const [event] = await inbox.waitFor(1);
    expect(event!.args).toEqual(['offline']);
  });

  it('the realm comes from the username (user@realm); the listener default otherwise', async () => {
    const topic = uniqueName('realm');
    const inOther = await wampSubscriber(topic, {}, 'other');
    const inDefault = await wampSubscriber(topic);
    const device = await mqtt.connect({ username: 'sensor7@other' });
    await device.client.publishAsync(topic, '"to other"', { qos: 1 });
    const plain = await mqtt.connect({ username: 'sensor8' });
    await plain.client.publishAsync(topic, '"to default"', { qos: 1 });
    expect((await inOther.inbox.waitFor(1))[0]!.args).toEqual(['to other']);
    expect((await inDefault.inbox.waitFor(1))[0]!.args).toEqual(['to default']);
    expect(inOther.inbox.items).toHaveLength(1);
  });
});

describe('WAMP → MQTT', () => {
  it('args [x] without kwargs is JSON(x); kwargs {} count as none (autobahn sends them)', async () => {
    const topic = uniqueName('tomqtt');
    const device = await mqtt.connect();
    await device.client.subscribeAsync(`${topic}/#`, { qos: 1 });
    const app = await wamp.connect('json');
    await app.session.publish(`${topic}.a`, [{ x: 1 }], {}, { acknowledge: true });
    await app.session.publish(`${topic}.b`, ['text'], undefined, { acknowledge: true });
    await app.session.publish(`${topic}.c`, [0], {}, { acknowledge: true });
    const messages = await device.inbox.waitForCount(3);
    expect(messages.map((message) => [message.topic, message.text])).toEqual([
      [`${topic}/a`, '{"x":1}'],
      [`${topic}/b`, '"text"'],
      [`${topic}/c`, '0'],
    ]);
  });

  it('several args or kwargs become JSON {args, kwargs}; no payload at all is an empty message', async () => {
    const topic = uniqueName('objects');
    const device = await mqtt.connect();
    await device.client.subscribeAsync(topic, { qos: 1 });
    const app = await wamp.connect('json');
    await app.session.publish(topic, [1, 2], {}, { acknowledge: true });
    await app.session.publish(topic, [], { k: 'v' }, { acknowledge: true });
    await app.session.publish(topic, [], {}, { acknowledge: true });
    const messages = await device.inbox.waitForCount(3);
    expect(messages.map((message) => message.text)).toEqual(['{"args":[1,2],"kwargs":{}}', '{"args":[],"kwargs":{"k":"v"}}', '']);
  });

  it('bytes in args [bytes] reach MQTT as the bytes themselves', async () => {
    const topic = uniqueName('bytes');
    const device = await mqtt.connect();
    await device.client.subscribeAsync(topic, { qos: 1 });
    const app = await wamp.connect('msgpack');
    const bytes = new Uint8Array([1, 2, 3, 250]);
    await app.session.publish(topic, [bytes], {}, { acknowledge: true });
    const [message] = await device.inbox.waitForCount(1);
    expect([...message!.payload]).toEqual([1, 2, 3, 250]);
  });

  it('MQTT wildcards match WAMP topics: + is one level, a/# matches a and below', async () => {
    const topic = uniqueName('wild');
    const device = await mqtt.connect();
    await device.client.subscribeAsync({ [`${topic}/+/temp`]: { qos: 1 }, [`${topic}/x/#`]: { qos: 1 } });
    const app = await wamp.connect('json');
    for (const uri of [`${topic}.r1.temp`, `${topic}.x`, `${topic}.x.y.z`, `${topic}.r1.humidity`]) {
      await app.session.publish(uri, [uri], {}, { acknowledge: true });
    }
    const messages = await device.inbox.waitForCount(3);
    expect(messages.map((message) => message.topic)).toEqual([`${topic}/r1/temp`, `${topic}/x`, `${topic}/x/y/z`]);
  });

  it('QoS: an acknowledged WAMP publish is delivered at QoS 1 to a QoS 1 subscriber, a plain one at QoS 0', async () => {
    const topic = uniqueName('qos');
    const device = await mqtt.connect();
    await device.client.subscribeAsync(topic, { qos: 2 });
    const app = await wamp.connect('json');
    app.session.publish(topic, ['plain']);
    await app.session.publish(topic, ['acknowledged'], {}, { acknowledge: true });
    const messages = await device.inbox.waitForCount(2);
    expect(messages.map((message) => [message.text, message.qos])).toEqual([
      ['"plain"', 0],
      ['"acknowledged"', 1],
    ]);
  });

  it('a WAMP retained value is sent to a new MQTT subscriber with RETAIN set; an MQTT empty retained message deletes it', async () => {
    const topic = uniqueName('store');
    const app = await wamp.connect('json');
    await app.session.publish(`${topic}.lamp`, [{ on: false }], {}, { acknowledge: true, retain: true });
    const first = await mqtt.connect();
    await first.client.subscribeAsync(`${topic}/#`, { qos: 1 });
    const [retained] = await first.inbox.waitForCount(1);
    expect([retained!.topic, retained!.text, retained!.retain]).toEqual([`${topic}/lamp`, '{"on":false}', true]);
    await first.client.publishAsync(`${topic}/lamp`, Buffer.alloc(0), { qos: 1, retain: true });
    const gone = await wampSubscriber(`${topic}.lamp`, { get_retained: true });
    await app.session.publish(`${topic}.lamp`, ['after'], {}, { acknowledge: true, exclude_me: false });
    const [event] = await gone.inbox.waitFor(1);
    expect(event!.args).toEqual(['after']);
    expect(event!.details.retained).toBeFalsy();
  });
});

describe('MQTT → router → MQTT is byte-exact', () => {
  it('JSON with odd spacing, numbers like 1.0, and invalid UTF-8 arrive as the bytes that were sent, live and retained', async () => {
    const topic = uniqueName('exact');
    const subscriber = await mqtt.connect();
    await subscriber.client.subscribeAsync(`${topic}/#`, { qos: 1 });
    const device = await mqtt.connect();
    const payloads = [Buffer.from('{ "a" : 1.0 ,"b":[ ] }'), Buffer.from([0xc3, 0x28, 0x00]), Buffer.from('1e3')];
    for (const [index, payload] of payloads.entries()) await device.client.publishAsync(`${topic}/${index}`, payload, { qos: 1, retain: true });
    const live = await subscriber.inbox.waitForCount(3);
    expect(live.map((message) => message.payload.toString('hex'))).toEqual(payloads.map((payload) => payload.toString('hex')));
    // A WAMP subscriber in between (reading args) does not change what MQTT gets.
    await wampSubscriber(`${topic}`, { match: 'prefix' });
    const late = await mqtt.connect();
    await late.client.subscribeAsync(`${topic}/#`, { qos: 1 });
    const replayed = await late.inbox.waitForCount(3);
    expect(replayed.map((message) => message.payload.toString('hex')).sort()).toEqual(payloads.map((payload) => payload.toString('hex')).sort());
  });
});

describe('MQTT 5 request/response → WAMP CALL', () => {
  it('a request on the topic of a registered procedure is a CALL; the RESULT comes back on the response topic with the correlation data', async () => {
    const procedure = uniqueName('calc');
    const callee = await wamp.connect('json');
    await callee.session.register(`${procedure}.add`, (args) => (args[0] as { a: number; b: number }).a + (args[0] as { a: number; b: number }).b);
    const requester = await mqtt.connect();
    const responseTopic = `replies/${uniqueName('r')}`;
    await requester.client.subscribeAsync(responseTopic, { qos: 1 });
    const correlationData = Buffer.from('req-42');
    await requester.client.publishAsync(`${procedure}/add`, JSON.stringify({ a: 2, b: 3 }), { qos: 1, properties: { responseTopic, correlationData } });
    const [reply] = await requester.inbox.waitForCount(1);
    expect(reply!.topic).toBe(responseTopic);
    expect(reply!.text).toBe('5');
    expect(Buffer.from(reply!.properties.correlationData!).toString()).toBe('req-42');
  });

  it("a callee's ERROR comes back as {error, args, kwargs} with the user property wamp-error", async () => {
    const procedure = uniqueName('failing');
    const callee = await wamp.connect('json');
    await callee.session.register(procedure, () => {
      throw new autobahnError('app.error.out_of_stock', ['no more'], { item: 7 });
    });
    const requester = await mqtt.connect();
    const responseTopic = `replies/${uniqueName('e')}`;
    await requester.client.subscribeAsync(responseTopic, { qos: 1 });
    await requester.client.publishAsync(procedure, '{}', { qos: 1, properties: { responseTopic, correlationData: Buffer.from('x') } });
    const [reply] = await requester.inbox.waitForCount(1);
    expect(JSON.parse(reply!.text)).toEqual({ error: 'app.error.out_of_stock', args: ['no more'], kwargs: { item: 7 } });
    expect(reply!.properties.userProperties).toEqual({ 'wamp-error': 'app.error.out_of_stock' });
  });

  it('a request on a topic without a registration is an ordinary publication', async () => {
    const topic = uniqueName('noproc');
    const { inbox } = await wampSubscriber(topic);
    const requester = await mqtt.connect();
    await requester.client.publishAsync(topic, '"just data"', { qos: 1, properties: { responseTopic: 'replies/none', correlationData: Buffer.from('y') } });
    const [event] = await inbox.waitFor(1);
    expect(event!.args).toEqual(['just data']);
  });
});

describe('one realm for both protocols', () => {
  it('WAMP may not publish into wamp.* and neither may MQTT (wamp/...)', async () => {
    const app = await wamp.connect('json');
    const error = await rejectionOf(app.session.publish('wamp.session.on_join', [1], {}, { acknowledge: true }));
    expect(error.error).toBe('wamp.error.invalid_uri');
    const { inbox } = await wampSubscriber('wamp.session.on_join');
    const device = await mqtt.connect();
    // MQTT 5: PUBACK 0x87 Not authorized (MQTT.js rejects the publish with it).
    const refused = await device.client.publishAsync('wamp/session/on_join', '"spoofed"', { qos: 1 }).then(
      () => undefined,
      (error: { code?: number }) => error.code,
    );
    expect(refused).toBe(0x87);
    // The join of a new session is the only event the WAMP subscriber sees.
    await wamp.connect('json');
    const [event] = await inbox.waitFor(1);
    expect(event!.args).not.toEqual(['spoofed']);
  });
});

/** autobahn's Error class, for a callee that fails with a URI. */
const autobahnError = (await import('../support/autobahn-client.js')).autobahn.Error as unknown as new (uri: string, args: unknown[], kwargs: Dict) => Error;
