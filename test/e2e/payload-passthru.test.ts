import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageCode } from '@fox-wamp/core';
import { AutobahnClients, Inbox } from '../support/autobahn-client.js';
import { MqttTestClients } from '../support/mqtt-client.js';
import { WampCode, type WireMessage } from '../support/raw-wamp-client.js';
import { expectMessage, jsonBinary, PLAIN_ROLES, RawWampSessions, rolesWithFeatures } from '../support/raw-wamp-sessions.js';
import { startServer, type RunningServer } from '../support/server-process.js';
import { Collector, WampyClients } from '../support/wampy-client.js';

/**
 * WAMP Payload Passthru Mode (Advanced Profile): the `ppt_*` options of PUBLISH, CALL, YIELD and ERROR are
 * checked as far as the spec lets a router look and forwarded into EVENT, INVOCATION, RESULT and ERROR details
 * with the payload untouched; peers that did not announce the feature are handled as the spec says (and, for
 * events, as the README documents). wampy 8 speaks PPT (it refuses it unless the router announces it); where a
 * library cannot say what a test needs, the frames are written by hand.
 */

type Dict = Record<string, unknown>;

/** HELLO roles of a hand-driven client that speaks Payload Passthru Mode in every role. */
const PPT_ROLES = rolesWithFeatures({ payload_passthru_mode: true });

/** End-to-end encryption attributes (the spec's `wamp` scheme): the router must pass them and the bytes as they are. */
const E2EE = {
  ppt_scheme: 'wamp',
  ppt_serializer: 'cbor',
  ppt_cipher: 'xsalsa20poly1305',
  ppt_keyid: '0x39eeba4b2cd1b7e6d1fc1ef1d4d8d9a1b42acb6d',
} as const;

let server: RunningServer;
let raw: RawWampSessions;
let wampy: WampyClients;
let autobahn: AutobahnClients;
let mqtt: MqttTestClients;

beforeAll(async () => {
  server = await startServer();
  raw = new RawWampSessions(() => server.wampUrl);
  wampy = new WampyClients(server.wampUrl, 'json');
  autobahn = new AutobahnClients(() => server.wampUrl);
  mqtt = new MqttTestClients(server.mqttUrl!, 5);
});

afterEach(async () => {
  raw.closeAll();
  await wampy.closeAll();
  await autobahn.closeAll();
  await mqtt.closeAll();
});

afterAll(async () => {
  await server?.stop();
});

/** A URI of its own for one test, in a form every client accepts (wampy checks URIs strictly: no dashes). */
function uniqueUri(stem: string): string {
  return `${stem}.${randomBytes(4).toString('hex')}`;
}

/** A value of `details` by name (the tests read ppt_* and other details of decoded frames). */
function detailsOf(message: WireMessage, index: number): Dict {
  return message[index] as Dict;
}

describe('RPC in Payload Passthru Mode', () => {
  it('wampy caller and callee with a custom x_ scheme: INVOCATION and RESULT carry the ppt_* attributes, and wampy decodes the payload on both sides', async () => {
    const procedure = uniqueUri('ppt.rpc');
    const ppt = { ppt_scheme: 'x_fox_test', ppt_serializer: 'json' };
    const { client: callee, welcome } = await wampy.connect();
    // wampy refuses PPT options unless the router announced the feature: this is what lets it send them at all.
    expect(welcome.roles.broker?.features?.payload_passthru_mode).toBe(true);
    expect(welcome.roles.dealer?.features?.payload_passthru_mode).toBe(true);
    const invocations = new Collector<{ details: Dict; argsList?: unknown[]; argsDict?: Dict }>();
    await callee.register(procedure, (invocation) => {
      invocations.push(invocation as { details: Dict; argsList?: unknown[]; argsDict?: Dict });
      return { argsList: ['pong', ...(invocation.argsList ?? [])], argsDict: { echoed: invocation.argsDict }, options: { ...ppt, ppt_keyid: 'result-key' } };
    });
    const { client: caller } = await wampy.connect();

    const result = (await caller.call(procedure, { argsList: [1, 'two'], argsDict: { three: 3 } }, ppt)) as { details: Dict; argsList: unknown[]; argsDict: Dict };

    const [invocation] = await invocations.waitFor(1, 'the invocation');
    expect(invocation!.details).toMatchObject(ppt);
    expect(invocation!.argsList).toEqual([1, 'two']);
    expect(invocation!.argsDict).toEqual({ three: 3 });
    expect(result.details).toMatchObject({ ...ppt, ppt_keyid: 'result-key' });
    expect(result.argsList).toEqual(['pong', 1, 'two']);
    expect(result.argsDict).toEqual({ echoed: { three: 3 } });
  });

  it('end-to-end encrypted bytes (scheme wamp, all four attributes) reach the callee, the caller and an ERROR exactly as sent (msgpack)', async () => {
    const procedure = uniqueUri('ppt.e2ee');
    const callee = await raw.join({ roles: PPT_ROLES, subprotocol: 'wamp.2.msgpack' });
    await raw.register(callee, procedure);
    const caller = await raw.join({ roles: PPT_ROLES, subprotocol: 'wamp.2.msgpack' });

    const sealed = randomBytes(96);
    const call = raw.requestId(caller);
    caller.send([WampCode.CALL, call, { ...E2EE }, procedure, [sealed]]);
    const invocation = await expectMessage(callee, WampCode.INVOCATION);
    expect(detailsOf(invocation, 3)).toMatchObject(E2EE);
    expect(invocation).toHaveLength(5); // one argument, no ArgumentsKw
    expect(Buffer.from((invocation[4] as Uint8Array[])[0]!).equals(sealed)).toBe(true);

    const sealedResult = randomBytes(64);
    const resultAttributes = { ...E2EE, ppt_keyid: '0x00000000000000000000000000000000000000aa' };
    callee.send([WampCode.YIELD, invocation[1], resultAttributes, [sealedResult]]);
    const result = await expectMessage(caller, WampCode.RESULT, call);
    expect(detailsOf(result, 2)).toMatchObject(resultAttributes);
    expect(Buffer.from((result[3] as Uint8Array[])[0]!).equals(sealedResult)).toBe(true);

    const failing = raw.requestId(caller);
    caller.send([WampCode.CALL, failing, { ...E2EE }, procedure, [sealed]]);
    const second = await expectMessage(callee, WampCode.INVOCATION);
    const sealedError = randomBytes(32);
    callee.send([WampCode.ERROR, WampCode.INVOCATION, second[1], { ...E2EE }, 'app.error.sealed', [sealedError]]);
    const error = await expectMessage(caller, WampCode.ERROR, failing);
    expect(error[1]).toBe(WampCode.CALL);
    expect(detailsOf(error, 3)).toMatchObject(E2EE);
    expect(error[4]).toBe('app.error.sealed');
    expect(Buffer.from((error[5] as Uint8Array[])[0]!).equals(sealedError)).toBe(true);
  });

  it('a CALL in Payload Passthru Mode whose callee did not announce it fails with wamp.error.feature_not_supported, and the callee never sees it', async () => {
    const procedure = uniqueUri('ppt.unaware');
    const callee = await autobahn.connect('json'); // autobahn announces no payload_passthru_mode
    const invocations = new Inbox<unknown[]>();
    await callee.session.register(procedure, (args) => {
      invocations.push(args ?? []);
      return 'plain';
    });
    const { client: caller } = await wampy.connect();

    const refusal = (await caller.call(procedure, { argsList: ['secret'] }, { ppt_scheme: 'x_fox_test' }).then(
      (value) => {
        throw new Error(`expected the call to fail, got ${JSON.stringify(value)}`);
      },
      (error: unknown) => error,
    )) as { errorUri: string };
    expect(refusal.errorUri).toBe('wamp.error.feature_not_supported');

    // The same caller without PPT reaches the callee: the first call never did.
    const plain = (await caller.call(procedure, ['ordinary'])) as { argsList: unknown[] };
    expect(plain.argsList).toEqual(['plain']);
    expect(invocations.items).toEqual([['ordinary']]);
  });

  it('a YIELD in Payload Passthru Mode for a caller that did not announce it: the callee gets ERROR(YIELD) and the caller ERROR(CALL), both wamp.error.feature_not_supported', async () => {
    const procedure = uniqueUri('ppt.yield');
    const callee = await raw.join({ roles: PPT_ROLES });
    await raw.register(callee, procedure);
    const caller = await raw.join({ roles: PLAIN_ROLES });
    const call = raw.requestId(caller);
    caller.send([WampCode.CALL, call, {}, procedure, ['question']]);
    const invocation = await expectMessage(callee, WampCode.INVOCATION);

    callee.send([WampCode.YIELD, invocation[1], { ppt_scheme: 'mqtt', ppt_serializer: 'native' }, [jsonBinary(Buffer.from('answer'))]]);

    const toCallee = await expectMessage(callee, WampCode.ERROR, invocation[1] as number);
    expect(toCallee[1]).toBe(WampCode.YIELD);
    expect(toCallee[4]).toBe('wamp.error.feature_not_supported');
    const toCaller = await expectMessage(caller, WampCode.ERROR, call);
    expect(toCaller[1]).toBe(WampCode.CALL);
    expect(toCaller[4]).toBe('wamp.error.feature_not_supported');
    expect(callee.isOpen && caller.isOpen).toBe(true);
  });

  it.each([
    ['ppt_serializer without ppt_scheme', { ppt_serializer: 'cbor' }, ['x']],
    ['an unknown scheme', { ppt_scheme: 'e2ee' }, ['x']],
    ['scheme wamp without ppt_serializer', { ppt_scheme: 'wamp' }, ['x']],
    ['a ppt_keyid that is not a string', { ppt_scheme: 'x_fox_test', ppt_keyid: 42 }, ['x']],
    ['an empty ppt_cipher', { ppt_scheme: 'mqtt', ppt_cipher: '' }, ['x']],
    ['two arguments', { ppt_scheme: 'mqtt' }, ['x', 'y']],
  ])('a CALL with %s is refused with wamp.error.invalid_argument, and the session carries on', async (_case, options, args) => {
    const caller = await raw.join({ roles: PPT_ROLES });
    const call = raw.requestId(caller);
    caller.send([WampCode.CALL, call, options, uniqueUri('ppt.nowhere'), args]);
    const error = await expectMessage(caller, WampCode.ERROR, call);
    expect(error[4]).toBe('wamp.error.invalid_argument');

    // Still joined: the next request gets its own answer.
    const next = raw.requestId(caller);
    caller.send([WampCode.CALL, next, {}, uniqueUri('ppt.nowhere'), []]);
    expect((await expectMessage(caller, WampCode.ERROR, next))[4]).toBe('wamp.error.no_such_procedure');
  });

  it('a CALL in Payload Passthru Mode with ArgumentsKw is refused with wamp.error.invalid_argument', async () => {
    const caller = await raw.join({ roles: PPT_ROLES });
    const call = raw.requestId(caller);
    caller.send([WampCode.CALL, call, { ppt_scheme: 'mqtt' }, uniqueUri('ppt.nowhere'), ['x'], { extra: true }]);
    expect((await expectMessage(caller, WampCode.ERROR, call))[4]).toBe('wamp.error.invalid_argument');
  });
});

describe('a client that did not announce payload_passthru_mode', () => {
  it.each(['CALL', 'PUBLISH'] as const)('is aborted with wamp.error.protocol_violation when it sends a %s in Payload Passthru Mode', async (kind) => {
    const client = await raw.join({ roles: PLAIN_ROLES });
    const options = { ppt_scheme: 'x_fox_test' };
    const payload = [jsonBinary(Buffer.from('opaque'))];
    client.send(
      kind === 'CALL'
        ? [WampCode.CALL, raw.requestId(client), options, uniqueUri('ppt.any'), payload]
        : [WampCode.PUBLISH, raw.requestId(client), { ...options, acknowledge: true }, uniqueUri('ppt.any'), payload],
    );
    const abort = await client.nextMessage();
    expect(abort[0]).toBe(WampCode.ABORT);
    expect(abort[2]).toBe('wamp.error.protocol_violation');
    expect(String(detailsOf(abort, 1).message)).toContain('payload_passthru_mode');
    await client.closedWithin();
  });

  it('an autobahn caller (it never announces the feature) that passes ppt options to call() is aborted with wamp.error.protocol_violation', async () => {
    const procedure = uniqueUri('ppt.autobahn');
    const callee = await autobahn.connect('json');
    const invocations = new Inbox<unknown[]>();
    await callee.session.register(procedure, (args) => invocations.push(args ?? []));
    const caller = await autobahn.connect('json');
    // The call itself never gets an answer: the session ends first.
    void Promise.resolve(caller.session.call(procedure, ['x'], {}, { ppt_scheme: 'x_fox_test' })).catch(() => undefined);
    // autobahn does not expect an ABORT once joined and reports no reason; the router's log names it.
    await caller.closed;
    expect(server.output()).toMatch(/aborting WAMP session.*wamp\.error\.protocol_violation.*CALL in Payload Passthru Mode/);
    expect(invocations.items).toEqual([]);
  });

  it('is aborted with wamp.error.protocol_violation when, as callee, it YIELDs in Payload Passthru Mode; its caller gets wamp.error.canceled', async () => {
    const procedure = uniqueUri('ppt.yield_unannounced');
    const callee = await raw.join({ roles: PLAIN_ROLES });
    await raw.register(callee, procedure);
    const caller = await raw.join({ roles: PPT_ROLES });
    const call = raw.requestId(caller);
    caller.send([WampCode.CALL, call, {}, procedure, []]);
    const invocation = await expectMessage(callee, WampCode.INVOCATION);

    callee.send([WampCode.YIELD, invocation[1], { ppt_scheme: 'mqtt' }, [jsonBinary(Buffer.from('opaque'))]]);

    const abort = await callee.nextMessage();
    expect(abort[0]).toBe(WampCode.ABORT);
    expect(abort[2]).toBe('wamp.error.protocol_violation');
    expect((await expectMessage(caller, WampCode.ERROR, call))[4]).toBe('wamp.error.canceled');
  });
});

describe('PubSub in Payload Passthru Mode', () => {
  it('a wampy subscriber gets the EVENT with its ppt_* attributes and decodes it; an autobahn subscriber (feature not announced) gets only the ordinary event after it', async () => {
    const topic = uniqueUri('ppt.topic');
    const ppt = { ppt_scheme: 'x_fox_test', ppt_serializer: 'json' };
    const { client: aware } = await wampy.connect();
    const awareEvents = new Collector<{ details: Dict; argsList?: unknown[]; argsDict?: Dict }>();
    await aware.subscribe(topic, (event) => awareEvents.push(event as { details: Dict; argsList?: unknown[]; argsDict?: Dict }));
    const unaware = await autobahn.connect('json');
    const unawareEvents = new Inbox<unknown[]>();
    await unaware.session.subscribe(topic, (args) => unawareEvents.push(args ?? []));
    const { client: publisher } = await wampy.connect();

    await publisher.publish(topic, { argsList: ['sealed'], argsDict: { n: 1 } }, ppt);
    await publisher.publish(topic, ['marker']);

    const [sealed, marker] = await awareEvents.waitFor(2, 'the PPT event and the marker');
    expect(sealed!.details).toMatchObject(ppt);
    expect(sealed!.argsList).toEqual(['sealed']);
    expect(sealed!.argsDict).toEqual({ n: 1 });
    expect(marker!.argsList).toEqual(['marker']);
    // The marker came after the PPT event; the unaware subscriber got the marker alone.
    await unawareEvents.waitFor(1);
    expect(unawareEvents.items).toEqual([['marker']]);
  });

  it('a retained PPT publication is replayed with its ppt_* details to an aware subscriber, and not at all to an unaware one', async () => {
    const base = uniqueUri('ppt.kept');
    const ppt = { ppt_scheme: 'x_fox_test', ppt_serializer: 'json' };
    const { client: publisher } = await wampy.connect();
    await publisher.publish(`${base}.a`, { argsList: ['sealed'] }, { ...ppt, _retain: true, acknowledge: true });
    await publisher.publish(`${base}.b`, { argsList: ['plain'] }, { _retain: true, acknowledge: true });
    const { client: aware } = await wampy.connect();
    const awareEvents = new Collector<{ details: Dict; argsList?: unknown[] }>();
    await aware.subscribe(base, (event) => awareEvents.push(event as { details: Dict; argsList?: unknown[] }), { match: 'prefix', _retained: true });
    const [sealed, plain] = await awareEvents.waitFor(2, 'both retained entries');
    expect(sealed!.details).toMatchObject({ ...ppt, retained: true });
    expect(sealed!.argsList).toEqual(['sealed']);
    expect(plain!.argsList).toEqual(['plain']);
    const unaware = await autobahn.connect('json');
    const unawareEvents = new Inbox<unknown[]>();
    await unaware.session.subscribe(base, (args) => unawareEvents.push(args ?? []), { match: 'prefix', get_retained: true });
    // Replays come in topic order: had the PPT entry (…a) been sent, it would have come first.
    await unawareEvents.waitFor(1);
    expect(unawareEvents.items).toEqual([['plain']]);
  });

  it('a PPT publication reaches an MQTT subscriber as its args[0] bytes, and a PPT-aware WAMP subscriber as the same bytes with the ppt_* details (JSON "\\0"+base64 on the wire)', async () => {
    const topic = uniqueUri('ppt.bridge');
    const opaque = Buffer.concat([Buffer.from([0x00, 0xff, 0x80]), randomBytes(40)]); // not UTF-8, not JSON
    const mqttTopic = `${topic.replaceAll('.', '/')}/device`;
    const device = await mqtt.connect();
    await device.client.subscribeAsync(mqttTopic, { qos: 1 });
    const watcher = await raw.join({ roles: PPT_ROLES });
    const subscription = await raw.subscribe(watcher, `${topic}.device`);
    const publisher = await raw.join({ roles: PPT_ROLES });
    const publish = raw.requestId(publisher);

    publisher.send([WampCode.PUBLISH, publish, { acknowledge: true, ppt_scheme: 'mqtt', ppt_serializer: 'native' }, `${topic}.device`, [jsonBinary(opaque)]]);

    await expectMessage(publisher, MessageCode.PUBLISHED, publish);
    const received = await device.inbox.waitForMessage(mqttTopic);
    expect(received.payload.equals(opaque)).toBe(true);
    const event = await expectMessage(watcher, MessageCode.EVENT, subscription);
    expect(detailsOf(event, 3)).toMatchObject({ ppt_scheme: 'mqtt', ppt_serializer: 'native' });
    expect(event[4]).toEqual([jsonBinary(opaque)]);
    expect(event).toHaveLength(5);
  });

  it('an acknowledged PUBLISH with malformed ppt_* options is refused with wamp.error.invalid_argument and delivered to nobody', async () => {
    const topic = uniqueUri('ppt.bad');
    const subscriber = await raw.join({ roles: PPT_ROLES });
    const subscription = await raw.subscribe(subscriber, topic);
    const publisher = await raw.join({ roles: PPT_ROLES });
    const bad = raw.requestId(publisher);
    publisher.send([WampCode.PUBLISH, bad, { acknowledge: true, ppt_cipher: 'aes256gcm' }, topic, ['x']]);
    const error = await expectMessage(publisher, WampCode.ERROR, bad);
    expect(error[1]).toBe(WampCode.PUBLISH);
    expect(error[4]).toBe('wamp.error.invalid_argument');

    const marker = raw.requestId(publisher);
    publisher.send([WampCode.PUBLISH, marker, { acknowledge: true }, topic, ['marker']]);
    await expectMessage(publisher, MessageCode.PUBLISHED, marker);
    const event = await expectMessage(subscriber, MessageCode.EVENT, subscription);
    expect(event[4]).toEqual(['marker']);
  });
});
