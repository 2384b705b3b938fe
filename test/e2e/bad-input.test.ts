import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AutobahnClients, Inbox, connectAutobahn, type AutobahnClient } from '../support/autobahn-client.js';
import { RawWampClient, WampCode, refusedUpgrade, type WampSubprotocol, type WireMessage } from '../support/raw-wamp-client.js';
import { startServer, type RunningServer } from '../support/server-process.js';

/**
 * Bad input from one client costs that client's session and nothing else (DESIGN.md, "Protocol rules"). Each
 * test keeps two autobahn sessions connected throughout, feeds the router one kind of bad input from a raw
 * WebSocket client, checks the offender's ABORT / close code, and then proves with a publish→event and a
 * call→result round trip that the bystanders never noticed.
 */

const PROTOCOL_VIOLATION = 'wamp.error.protocol_violation';
/** WebSocket close codes (RFC 6455 §7.4.1). */
const CLOSE_NORMAL = 1000;
const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_MESSAGE_TOO_BIG = 1009;

const BYSTANDER_TOPIC = 'bystander.news';
const BYSTANDER_PROCEDURE = 'bystander.echo';

/**
 * Two autobahn sessions that stay connected while a test misbehaves next to them: `listener` subscribes to a
 * topic and registers a procedure, `talker` publishes and calls.
 */
class Bystanders {
  private rounds = 0;

  private constructor(
    readonly listener: AutobahnClient,
    readonly talker: AutobahnClient,
    readonly events: Inbox<unknown>,
  ) {}

  static async connect(clients: AutobahnClients): Promise<Bystanders> {
    const [listener, talker] = await Promise.all([clients.connect('json'), clients.connect('json')]);
    const events = new Inbox<unknown>();
    await listener.session.subscribe(BYSTANDER_TOPIC, (args) => events.push(args[0]));
    await listener.session.register(BYSTANDER_PROCEDURE, (args) => `echo ${String(args[0])}`);
    return new Bystanders(listener, talker, events);
  }

  /** Both sessions still open, and a publish→event and a call→result still go through between them. */
  async expectUnharmed(): Promise<void> {
    const token = `round-${++this.rounds}`;
    await this.talker.session.publish(BYSTANDER_TOPIC, [token], {}, { acknowledge: true });
    await this.events.waitUntil((items) => items.includes(token), `the bystander event ${token}`);
    await expect(this.talker.session.call(BYSTANDER_PROCEDURE, [token])).resolves.toBe(`echo ${token}`);
    expect(this.listener.connection.isOpen).toBe(true);
    expect(this.talker.connection.isOpen).toBe(true);
  }
}

/** Raw clients of the current test, dropped in afterEach whatever happened to them. */
const rawClients: RawWampClient[] = [];

async function rawClient(url: string, subprotocols: string | string[] | null = 'wamp.2.json'): Promise<RawWampClient> {
  const client = await RawWampClient.connect(url, subprotocols);
  rawClients.push(client);
  return client;
}

async function joinedRawClient(url: string, subprotocol: WampSubprotocol = 'wamp.2.json'): Promise<RawWampClient> {
  const client = await RawWampClient.joined(url, 'realm1', subprotocol);
  rawClients.push(client);
  return client;
}

function hello(realm: unknown = 'realm1'): WireMessage {
  return [WampCode.HELLO, realm, { roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} } }];
}

/** The next message must be ABORT with `reason` and a human-readable message; then the socket closes with `closeCode`. */
async function expectAbortAndClose(client: RawWampClient, reason: string, closeCode: number): Promise<string> {
  const abort = await client.nextMessage();
  expect(abort).toEqual([WampCode.ABORT, { message: expect.any(String) }, reason]);
  const closed = await client.closedWithin();
  expect(closed.code).toBe(closeCode);
  return (abort[1] as { message: string }).message;
}

/** The router process still serves HTTP: `/health` answers 200. */
async function expectServerAlive(server: RunningServer): Promise<void> {
  expect(server.process.exitCode).toBeNull();
  const response = await fetch(`${server.httpUrl}/health`);
  expect(response.status).toBe(200);
}

afterEach(() => {
  for (const client of rawClients.splice(0)) client.terminate();
});

describe('bad input costs only the sender its session', () => {
  let server: RunningServer;
  const clients = new AutobahnClients(() => server.wampUrl);
  let bystanders: Bystanders;

  beforeAll(async () => {
    server = await startServer();
  });

  beforeEach(async () => {
    bystanders = await Bystanders.connect(clients);
  });

  afterEach(async () => {
    // Every test ends with the router process alive and answering.
    await expectServerAlive(server);
    await clients.closeAll();
  });

  afterAll(async () => {
    // After all the abuse the process still shuts down cleanly.
    expect(await server?.stop()).toBe(0);
  });

  describe('frames that are not WAMP messages', () => {
    it.each(['before HELLO', 'after WELCOME'])('a text frame that is not JSON (%s): ABORT protocol_violation, then close 1002', async (when) => {
      const offender = when === 'before HELLO' ? await rawClient(server.wampUrl) : await joinedRawClient(server.wampUrl);
      offender.sendFrame('this is {not JSON');

      const message = await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      expect(message).toMatch(/JSON/);
      await bystanders.expectUnharmed();
    });

    it.each(['{}', '[]', '["x"]', '"HELLO"', 'null', '[1.5, "realm1", {}]'])(
      'valid JSON that is not a WAMP message (%s): ABORT protocol_violation, close 1002',
      async (frame) => {
        const offender = await rawClient(server.wampUrl);
        offender.sendFrame(frame);

        await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
        await bystanders.expectUnharmed();
      },
    );

    it.each(['before HELLO', 'after WELCOME'])('an unknown message type [999, 1] (%s): ABORT protocol_violation', async (when) => {
      const offender = when === 'before HELLO' ? await rawClient(server.wampUrl) : await joinedRawClient(server.wampUrl);
      offender.send([999, 1]);

      const message = await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      expect(message).toContain('999');
      await bystanders.expectUnharmed();
    });

    it('a router-to-client message type from a client (WELCOME after WELCOME): ABORT protocol_violation', async () => {
      const offender = await joinedRawClient(server.wampUrl);
      offender.send([WampCode.WELCOME, 1, {}]);

      await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      await bystanders.expectUnharmed();
    });
  });

  describe('session lifecycle', () => {
    it('a SUBSCRIBE before HELLO: ABORT protocol_violation, and no subscription is made', async () => {
      const offender = await rawClient(server.wampUrl);
      offender.send([WampCode.SUBSCRIBE, 1, {}, BYSTANDER_TOPIC]);

      await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      // Not SUBSCRIBED: the ABORT was the one and only answer.
      expect(offender.pending()).toEqual([]);
      await bystanders.expectUnharmed();
    });

    it('a PUBLISH before HELLO: ABORT protocol_violation, and the event reaches nobody', async () => {
      const offender = await rawClient(server.wampUrl);
      offender.send([WampCode.PUBLISH, 1, {}, BYSTANDER_TOPIC, ['intruder']]);

      await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      await bystanders.expectUnharmed();
      // The router handled the PUBLISH before the ABORT we awaited, so an event would have come before ours.
      expect(bystanders.events.items).not.toContain('intruder');
    });

    it('a second HELLO on an established session: ABORT protocol_violation', async () => {
      const offender = await joinedRawClient(server.wampUrl);
      offender.send(hello());

      await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      await bystanders.expectUnharmed();
    });
  });

  describe('HELLO with a realm that cannot be joined', () => {
    it('an unknown realm: ABORT wamp.error.no_such_realm, normal close', async () => {
      const offender = await rawClient(server.wampUrl);
      offender.send(hello('no.such.realm'));

      const message = await expectAbortAndClose(offender, 'wamp.error.no_such_realm', CLOSE_NORMAL);
      expect(message).toContain('no.such.realm');
      await bystanders.expectUnharmed();
    });

    it.each([
      ['a realm with a space', 'bad realm'],
      ['an empty realm', ''],
      ['a realm with an empty component', 'a..b'],
    ])('%s (%j): ABORT wamp.error.invalid_uri, normal close', async (_name, realm) => {
      const offender = await rawClient(server.wampUrl);
      offender.send(hello(realm));

      await expectAbortAndClose(offender, 'wamp.error.invalid_uri', CLOSE_NORMAL);
      await bystanders.expectUnharmed();
    });

    it.each([
      ['a number', 42],
      ['null', null],
    ])('a realm that is not a string (%s): ABORT protocol_violation, close 1002', async (_name, realm) => {
      const offender = await rawClient(server.wampUrl);
      offender.send(hello(realm));

      await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      await bystanders.expectUnharmed();
    });

    it('HELLO without roles: ABORT protocol_violation', async () => {
      const offender = await rawClient(server.wampUrl);
      offender.send([WampCode.HELLO, 'realm1', {}]);

      await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      await bystanders.expectUnharmed();
    });

    it('autobahn asking for an unknown realm is refused with no_such_realm', async () => {
      const refusal = connectAutobahn(server.wampUrl, 'json', 'no.such.realm');
      await expect(refusal).rejects.toMatchObject({ details: { reason: 'wamp.error.no_such_realm' } });
      await bystanders.expectUnharmed();
    });
  });

  describe('answers to invocations', () => {
    it('a YIELD for an invocation never issued: ABORT protocol_violation', async () => {
      const offender = await joinedRawClient(server.wampUrl);
      offender.send([WampCode.YIELD, 5, {}, ['made up']]);

      const message = await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      expect(message).toContain('5');
      await bystanders.expectUnharmed();
    });

    it('a late YIELD, for an invocation whose caller has left, is dropped and the callee keeps its session', async () => {
      const callee = await joinedRawClient(server.wampUrl);
      callee.send([WampCode.REGISTER, 1, {}, 'slow.procedure']);
      expect(await callee.nextMessage()).toEqual([WampCode.REGISTERED, 1, expect.any(Number)]);

      const caller = await clients.connect('json');
      // Never answered: autobahn leaves the calls of a closed session pending, so this promise is not awaited.
      void caller.session.call('slow.procedure', ['first']);
      const firstInvocation = await callee.nextMessage();
      expect(firstInvocation).toEqual([WampCode.INVOCATION, expect.any(Number), expect.any(Number), expect.any(Object), ['first']]);
      // autobahn's close waits for the router's GOODBYE reply, which the router sends after the session has left.
      await caller.close();

      callee.send([WampCode.YIELD, firstInvocation[1], {}, ['too late']]);

      // The callee is still registered and serves the next call; the late YIELD produced no ABORT before it.
      const nextCall = bystanders.talker.session.call('slow.procedure', ['second']);
      const secondInvocation = await callee.nextMessage();
      expect(secondInvocation).toEqual([WampCode.INVOCATION, expect.any(Number), expect.any(Number), expect.any(Object), ['second']]);
      callee.send([WampCode.YIELD, secondInvocation[1], {}, ['on time']]);
      await expect(nextCall).resolves.toBe('on time');
      expect(callee.isOpen).toBe(true);
      await bystanders.expectUnharmed();
    });

    it('an ERROR for an invocation never issued: ABORT protocol_violation', async () => {
      const offender = await joinedRawClient(server.wampUrl);
      offender.send([WampCode.ERROR, WampCode.INVOCATION, 77, {}, 'app.error.oops']);

      await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      await bystanders.expectUnharmed();
    });
  });

  describe('malformed message fields', () => {
    it.each<[string, WireMessage]>([
      ['SUBSCRIBE with options that are a list', [WampCode.SUBSCRIBE, 1, [], 'some.topic']],
      ['SUBSCRIBE with a topic that is a number', [WampCode.SUBSCRIBE, 1, {}, 42]],
      ['CALL with request id 0', [WampCode.CALL, 0, {}, BYSTANDER_PROCEDURE, ['x']]],
      ['CALL with a string request id', [WampCode.CALL, '1', {}, BYSTANDER_PROCEDURE, ['x']]],
      ['CALL with request id above 2^53', [WampCode.CALL, 2 ** 53 + 2, {}, BYSTANDER_PROCEDURE, ['x']]],
      ['PUBLISH with args that are not a list', [WampCode.PUBLISH, 1, {}, BYSTANDER_TOPIC, { not: 'a list' }]],
      ['PUBLISH with kwargs that are not a dict', [WampCode.PUBLISH, 1, {}, BYSTANDER_TOPIC, [], ['not a dict']]],
      ['PUBLISH with a field too many', [WampCode.PUBLISH, 1, {}, BYSTANDER_TOPIC, [], {}, 'extra']],
      ['REGISTER without a procedure', [WampCode.REGISTER, 1, {}]],
    ])('%s: ABORT protocol_violation, close 1002', async (_name, message) => {
      const offender = await joinedRawClient(server.wampUrl);
      offender.send(message);

      await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      await bystanders.expectUnharmed();
    });

    it('a SUBSCRIBE with a bad topic URI gets ERROR invalid_uri for that request only, and the session carries on', async () => {
      const client = await joinedRawClient(server.wampUrl);
      client.send([WampCode.SUBSCRIBE, 1, {}, 'bad topic']);
      expect(await client.nextMessage()).toEqual([WampCode.ERROR, WampCode.SUBSCRIBE, 1, {}, 'wamp.error.invalid_uri', [expect.any(String)]]);

      // Same session, next request: subscribing works and events arrive.
      client.send([WampCode.SUBSCRIBE, 2, {}, BYSTANDER_TOPIC]);
      expect(await client.nextMessage()).toEqual([WampCode.SUBSCRIBED, 2, expect.any(Number)]);
      await bystanders.expectUnharmed();
      const event = await client.nextMessage();
      expect(event).toEqual([36, expect.any(Number), expect.any(Number), expect.any(Object), ['round-1']]);
      expect(client.isOpen).toBe(true);
    });

    it('a WebSocket offering only an unsupported subprotocol (wamp.2.foo) is refused with HTTP 400', async () => {
      const refusal = await refusedUpgrade(server.wampUrl, 'wamp.2.foo');
      expect(refusal.status).toBe(400);
      expect(refusal.body).toContain('wamp.2.foo');
      await bystanders.expectUnharmed();
    });

    it('a WebSocket offering wamp.2.foo first and wamp.2.json second gets wamp.2.json', async () => {
      const client = await rawClient(server.wampUrl, ['wamp.2.foo', 'wamp.2.json']);
      expect(client.protocol).toBe('wamp.2.json');
    });

    it('a WebSocket with no subprotocol at all speaks JSON', async () => {
      const client = await rawClient(server.wampUrl, null);
      expect(client.protocol).toBe('');
      client.send(hello());
      expect(await client.nextMessage()).toEqual([WampCode.WELCOME, expect.any(Number), expect.objectContaining({ realm: 'realm1' })]);
      await bystanders.expectUnharmed();
    });
  });

  describe('binary serializers', () => {
    it.each<[WampSubprotocol, string, Buffer]>([
      ['wamp.2.msgpack', 'a never-used MessagePack byte (0xc1)', Buffer.from([0xc1, 0xff, 0x00])],
      ['wamp.2.msgpack', 'a truncated MessagePack array', Buffer.from([0x93, 0x01])],
      ['wamp.2.msgpack', 'a MessagePack map instead of an array', Buffer.from([0x81, 0xa1, 0x61, 0x01])],
      ['wamp.2.cbor', 'a CBOR break outside an indefinite item', Buffer.from([0xff, 0xff, 0x1f])],
      ['wamp.2.cbor', 'a truncated CBOR array', Buffer.from([0x83, 0x01])],
      ['wamp.2.cbor', 'a CBOR text string instead of an array', Buffer.from([0x63, 0x61, 0x62, 0x63])],
    ])('%s garbage (%s): ABORT protocol_violation in that format, close 1002', async (subprotocol, _name, frame) => {
      const offender = await rawClient(server.wampUrl, subprotocol);
      expect(offender.protocol).toBe(subprotocol);
      offender.sendFrame(frame);

      await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      await bystanders.expectUnharmed();
    });

    it.each<WampSubprotocol>(['wamp.2.msgpack', 'wamp.2.cbor'])('a text frame on a %s session: ABORT protocol_violation', async (subprotocol) => {
      const offender = await rawClient(server.wampUrl, subprotocol);
      offender.sendFrame(JSON.stringify(hello()));

      await expectAbortAndClose(offender, PROTOCOL_VIOLATION, CLOSE_PROTOCOL_ERROR);
      await bystanders.expectUnharmed();
    });
  });
});

describe('a frame over --max-message-size', () => {
  let server: RunningServer;
  const clients = new AutobahnClients(() => server.wampUrl);

  beforeAll(async () => {
    server = await startServer(['--max-message-size', '2048']);
  });

  afterEach(() => clients.closeAll());

  afterAll(async () => {
    await server?.stop();
  });

  it('closes only that connection, with 1009, and the router keeps serving', async () => {
    const bystanders = await Bystanders.connect(clients);
    const offender = await joinedRawClient(server.wampUrl);
    const bigPublish = JSON.stringify([WampCode.PUBLISH, 1, {}, BYSTANDER_TOPIC, ['x'.repeat(10 * 1024)]]);
    offender.sendFrame(bigPublish);

    const closed = await offender.closedWithin();
    expect(closed.code).toBe(CLOSE_MESSAGE_TOO_BIG);
    await bystanders.expectUnharmed();
    // The oversized publication was never delivered.
    expect(bystanders.events.items.every((item) => typeof item === 'string' && item.length < 100)).toBe(true);
    await expectServerAlive(server);
  });

  it('a message just under the limit still goes through', async () => {
    const bystanders = await Bystanders.connect(clients);
    const sender = await joinedRawClient(server.wampUrl);
    const payload = 'y'.repeat(1500);
    sender.send([WampCode.PUBLISH, 1, {}, BYSTANDER_TOPIC, [payload]]);
    await bystanders.events.waitUntil((items) => items.includes(payload), 'the 1.5 KB event');
    expect(sender.isOpen).toBe(true);
  });
});
