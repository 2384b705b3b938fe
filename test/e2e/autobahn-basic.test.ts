import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AutobahnClients,
  ConnectionClosedError,
  Inbox,
  SERIALIZERS,
  autobahn,
  callWithProgress,
  connectAutobahn,
  deferred,
  rejectionOf,
  unsubscribeById,
  withTimeout,
  type AutobahnResult,
  type Dict,
  type EventDetails,
  type InvocationDetails,
} from '../support/autobahn-client.js';
import { startServer, type RunningServer } from '../support/server-process.js';

/**
 * The WAMP Basic Profile and the advanced features this router announces in WELCOME, driven by the npm
 * autobahn client against the built server, once per serializer.
 */

interface ReceivedEvent {
  readonly args: unknown[];
  readonly kwargs: Dict;
  readonly details: EventDetails;
}

function recordEvents(inbox: Inbox<ReceivedEvent>) {
  return (args: unknown[], kwargs: Dict, details: EventDetails) => inbox.push({ args, kwargs, details });
}

const MAX_ID = 2 ** 53;

let server: RunningServer;
const clients = new AutobahnClients(() => server.wampUrl);

beforeAll(async () => {
  server = await startServer();
});

afterEach(() => clients.closeAll());

afterAll(async () => {
  await server?.stop();
});

describe.each(SERIALIZERS)('autobahn over %s', (serializer) => {
  describe('session', () => {
    it('WELCOME gives an integer session id in [1, 2^53] and announces exactly the working broker and dealer features', async () => {
      const { session, welcome } = await clients.connect(serializer);

      expect(Number.isInteger(session.id)).toBe(true);
      expect(session.id).toBeGreaterThanOrEqual(1);
      expect(session.id).toBeLessThanOrEqual(MAX_ID);
      expect(welcome.realm).toBe('realm1');
      expect(welcome.roles).toEqual({
        broker: {
          features: {
            publisher_exclusion: true,
            publisher_identification: true,
            subscriber_blackwhite_listing: true,
            pattern_based_subscription: true,
            event_retention: true,
            session_meta_api: true,
            subscription_meta_api: true,
            event_history: true,
            payload_passthru_mode: true,
          },
        },
        dealer: {
          features: {
            progressive_call_results: true,
            call_canceling: true,
            call_timeout: true,
            progressive_call_invocations: true,
            caller_identification: true,
            pattern_based_registration: true,
            shared_registration: true,
            session_meta_api: true,
            registration_meta_api: true,
            testament_meta_api: true,
            payload_passthru_mode: true,
          },
        },
      });
      // autobahn intersects the router's features with its own; what it will use must be switched on.
      expect(session.features.caller).toMatchObject({ caller_identification: true, progressive_call_results: true });
      expect(session.features.callee).toMatchObject({
        caller_identification: true,
        pattern_based_registration: true,
        shared_registration: true,
        progressive_call_results: true,
      });
      expect(session.features.publisher).toMatchObject({
        publisher_identification: true,
        subscriber_blackwhite_listing: true,
        publisher_exclusion: true,
      });
      expect(session.features.subscriber).toMatchObject({ pattern_based_subscription: true });
      // call_canceling is supported and announced, so autobahn's caller may send CANCEL.
      expect(session.features.caller.call_canceling).toBe(true);
    });

    it('two sessions get different ids, and the connection negotiated this serializer', async () => {
      const [a, b] = await clients.connectMany(serializer, 2);
      expect(a!.session.id).not.toBe(b!.session.id);
      expect(a!.connection.transport.info.protocol).toBe(`wamp.2.${serializer}`);
    });

    it('a GOODBYE from the client is answered with wamp.close.goodbye_and_out', async () => {
      const client = await connectAutobahn(server.wampUrl, serializer);
      const closed = await client.close();
      expect(closed.reason).toBe('closed');
      expect(closed.details.reason).toBe('wamp.close.goodbye_and_out');
    });

    it('HELLO for an unknown realm is refused with ABORT wamp.error.no_such_realm', async () => {
      const error = await rejectionOf(connectAutobahn(server.wampUrl, serializer, 'no.such.realm'));
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect((error as unknown as ConnectionClosedError).details.reason).toBe('wamp.error.no_such_realm');
    });
  });

  describe('RPC', () => {
    it('a call with args and kwargs reaches the callee and its result comes back unchanged', async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      const invocations = new Inbox<{ args: unknown[]; kwargs: Dict }>();
      await callee!.session.register('com.myapp.echo', (args, kwargs) => {
        invocations.push({ args, kwargs });
        return new autobahn.Result(args, kwargs);
      });

      // Integers beyond 32 bits travel as 64-bit integers in msgpack and CBOR. (2^53 itself, though a valid WAMP
      // ID, is not a safe integer: autobahn's CBOR decoder turns it into a BigInt.)
      const args = [1, 'two', [3, { four: 4 }], null, true, 2.5, -7, 2 ** 40, Number.MAX_SAFE_INTEGER];
      const kwargs = { text: 'héllo ✓', nested: { list: [1, 2], empty: {} }, zero: 0 };
      const result = (await caller!.session.call('com.myapp.echo', args, kwargs)) as AutobahnResult;

      expect(invocations.items).toEqual([{ args, kwargs }]);
      expect(result.args).toEqual(args);
      expect(result.kwargs).toEqual(kwargs);
    });

    it('a single result arrives as itself, and a call without arguments reaches the callee with none', async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      const seen = new Inbox<{ args: unknown[]; kwargs: Dict }>();
      await callee!.session.register('com.myapp.answer', (args, kwargs) => {
        seen.push({ args, kwargs });
        return 42;
      });
      expect(await caller!.session.call('com.myapp.answer')).toBe(42);
      expect(seen.items).toEqual([{ args: [], kwargs: {} }]);
    });

    if (serializer === 'json') {
      // autobahn's JSON serializer knows nothing of binary: it would send a Buffer as {type:'Buffer',data:[…]}.
      // What is meaningful is the spec's JSON convention, which the router implements: a string "\0" + base64
      // is bytes. So a JSON client's such string reaches a msgpack callee as bytes, and bytes come back to the
      // JSON client as "\0" + base64.
      it('a "\\0"+base64 string from a JSON caller is bytes to a msgpack callee, and bytes come back as "\\0"+base64', async () => {
        const caller = await clients.connect('json');
        const callee = await clients.connect('msgpack');
        const received = new Inbox<unknown[]>();
        await callee.session.register('com.myapp.bytes', (args) => {
          received.push(args);
          return new autobahn.Result([Buffer.from([0xff, 0x00, 0x10])], { raw: Buffer.from('hi') });
        });

        const result = (await caller.session.call('com.myapp.bytes', ['\u0000AQID', 'plain'])) as AutobahnResult;

        const [bytes, plain] = received.items[0]!;
        expect(Buffer.isBuffer(bytes) || bytes instanceof Uint8Array).toBe(true);
        expect([...(bytes as Uint8Array)]).toEqual([1, 2, 3]);
        expect(plain).toBe('plain');
        expect(result.args).toEqual(['\u0000' + Buffer.from([0xff, 0x00, 0x10]).toString('base64')]);
        expect(result.kwargs).toEqual({ raw: '\u0000' + Buffer.from('hi').toString('base64') });
      });
    } else {
      it('binary args and kwargs (Uint8Array, Buffer) reach the callee as bytes and come back as bytes', async () => {
        const [callee, caller] = await clients.connectMany(serializer, 2);
        const received = new Inbox<{ args: unknown[]; kwargs: Dict }>();
        await callee!.session.register('com.myapp.bytes', (args, kwargs) => {
          received.push({ args, kwargs });
          return new autobahn.Result(args, kwargs);
        });

        const typed = new Uint8Array([0, 1, 2, 253, 254, 255]);
        const buffer = Buffer.from('binary \u0000 payload');
        const result = (await caller!.session.call('com.myapp.bytes', [typed, 'text'], { blob: buffer })) as AutobahnResult;

        const { args, kwargs } = received.items[0]!;
        expect(args[0]).toBeInstanceOf(Uint8Array);
        expect([...(args[0] as Uint8Array)]).toEqual([...typed]);
        expect(args[1]).toBe('text');
        expect(kwargs.blob).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(kwargs.blob as Uint8Array).equals(buffer)).toBe(true);
        expect([...(result.args[0] as Uint8Array)]).toEqual([...typed]);
        expect(Buffer.from(result.kwargs.blob as Uint8Array).equals(buffer)).toBe(true);
      });
    }

    it('after unregister, a call fails with wamp.error.no_such_procedure', async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      const registration = await callee!.session.register('com.myapp.temp', () => 'ok');
      expect(await caller!.session.call('com.myapp.temp')).toBe('ok');

      await registration.unregister();

      const error = await rejectionOf(caller!.session.call('com.myapp.temp'));
      expect(error.error).toBe('wamp.error.no_such_procedure');
    });

    it('a call to a procedure nobody registered fails with wamp.error.no_such_procedure', async () => {
      const caller = await clients.connect(serializer);
      const error = await rejectionOf(caller.session.call('com.myapp.nobody_home'));
      expect(error.error).toBe('wamp.error.no_such_procedure');
    });

    it('registering a procedure that is already registered fails with wamp.error.procedure_already_exists', async () => {
      const [first, second] = await clients.connectMany(serializer, 2);
      await first!.session.register('com.myapp.unique', () => 'first');

      const error = await rejectionOf(second!.session.register('com.myapp.unique', () => 'second'));
      expect(error.error).toBe('wamp.error.procedure_already_exists');
      const again = await rejectionOf(first!.session.register('com.myapp.unique', () => 'first again'));
      expect(again.error).toBe('wamp.error.procedure_already_exists');
      // The original registration still serves.
      expect(await second!.session.call('com.myapp.unique')).toBe('first');
    });

    it("a callee's error reaches the caller with the callee's URI, args and kwargs", async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      await callee!.session.register('com.myapp.fails', () => {
        throw new autobahn.Error('com.myapp.error', [1], { k: 'v' });
      });

      const error = await rejectionOf(caller!.session.call('com.myapp.fails', ['x']));
      expect(error).toBeInstanceOf(autobahn.Error);
      expect(error.error).toBe('com.myapp.error');
      expect(error.args).toEqual([1]);
      expect(error.kwargs).toEqual({ k: 'v' });
    });

    it('a callee that leaves (GOODBYE) while serving a call fails that call with wamp.error.canceled', async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      const invoked = deferred();
      await callee!.session.register('com.myapp.never', () => {
        invoked.resolve();
        return new Promise(() => {}); // never answers
      });

      // Handle the rejection from the start: it may arrive while the test still awaits the close.
      const failure = rejectionOf(caller!.session.call('com.myapp.never'));
      await withTimeout(invoked.promise, 5_000, 'the invocation');
      await callee!.close();

      const error = await withTimeout(failure, 5_000, 'the pending call to fail');
      expect(error.error).toBe('wamp.error.canceled');
    });

    it('a callee whose connection drops (no GOODBYE) while serving a call fails that call with wamp.error.canceled', async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      const invoked = deferred();
      await callee!.session.register('com.myapp.never', () => {
        invoked.resolve();
        return new Promise(() => {});
      });

      // Handle the rejection from the start: it may arrive while the test still awaits the close.
      const failure = rejectionOf(caller!.session.call('com.myapp.never'));
      await withTimeout(invoked.promise, 5_000, 'the invocation');
      await callee!.drop();

      const error = await withTimeout(failure, 5_000, 'the pending call to fail');
      expect(error.error).toBe('wamp.error.canceled');
      // The procedure went with its callee.
      expect((await rejectionOf(caller!.session.call('com.myapp.never'))).error).toBe('wamp.error.no_such_procedure');
    });

    it('progressive call results reach the caller in order, then the final result', async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      const progressOffered = new Inbox<boolean>();
      await callee!.session.register('com.myapp.countdown', async (args, _kwargs, details) => {
        progressOffered.push(details.progress !== null);
        const from = args[0] as number;
        for (let i = from; i > 0; i--) details.progress!([i], { left: i });
        return new autobahn.Result(['liftoff'], { total: from });
      });

      const { progress, result } = callWithProgress(caller!.session, 'com.myapp.countdown', [3]);
      const final = (await result) as AutobahnResult;

      expect(progressOffered.items).toEqual([true]);
      expect(progress).toEqual([3, 2, 1].map((i) => ({ args: [i], kwargs: { left: i } })));
      expect(final).toMatchObject({ args: ['liftoff'], kwargs: { total: 3 } });
    });

    it('a caller that did not ask for progress gets only the final result, and the callee gets no progress function', async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      const progressOffered = new Inbox<boolean>();
      await callee!.session.register('com.myapp.quiet', (_args, _kwargs, details) => {
        progressOffered.push(details.progress !== null);
        return 'done';
      });
      expect(await caller!.session.call('com.myapp.quiet')).toBe('done');
      expect(progressOffered.items).toEqual([false]);
    });

    it('caller identification: disclose_me on CALL gives the callee the caller session id, authid and authrole', async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      const details = new Inbox<InvocationDetails>();
      await callee!.session.register('com.myapp.whoami', (_args, _kwargs, invocation) => {
        details.push(invocation);
        return invocation.caller ?? null;
      });

      expect(await caller!.session.call('com.myapp.whoami', [], {}, { disclose_me: true })).toBe(caller!.session.id);
      expect(details.items[0]).toMatchObject({
        caller: caller!.session.id,
        caller_authid: caller!.welcome.authid,
        caller_authrole: caller!.welcome.authrole,
      });

      // Without disclose_me the caller stays anonymous.
      expect(await caller!.session.call('com.myapp.whoami')).toBeNull();
      expect(details.items[1]!.caller).toBeUndefined();
    });
  });

  describe('PubSub', () => {
    it('an event with args and kwargs reaches a subscriber', async () => {
      const [subscriber, publisher] = await clients.connectMany(serializer, 2);
      const events = new Inbox<ReceivedEvent>();
      await subscriber!.session.subscribe('com.myapp.news', recordEvents(events));

      await publisher!.session.publish('com.myapp.news', ['headline', 7], { when: 'now', tags: ['a', 'b'] }, { acknowledge: true });

      const [event] = await events.waitFor(1);
      expect(event!.args).toEqual(['headline', 7]);
      expect(event!.kwargs).toEqual({ when: 'now', tags: ['a', 'b'] });
      expect(event!.details.topic).toBe('com.myapp.news');
      // Without disclose_me the publisher stays anonymous.
      expect(event!.details.publisher).toBeUndefined();
    });

    it('acknowledge: true gives a PUBLISHED with an integer publication id that matches the event', async () => {
      const [subscriber, publisher] = await clients.connectMany(serializer, 2);
      const events = new Inbox<ReceivedEvent>();
      await subscriber!.session.subscribe('com.myapp.acked', recordEvents(events));

      const publication = await publisher!.session.publish('com.myapp.acked', [1], {}, { acknowledge: true });

      expect(Number.isInteger(publication!.id)).toBe(true);
      expect(publication!.id).toBeGreaterThanOrEqual(1);
      expect(publication!.id).toBeLessThanOrEqual(MAX_ID);
      const [event] = await events.waitFor(1);
      expect(event!.details.publication).toBe(publication!.id);
    });

    it('by default (exclude_me) a publisher does not receive its own event', async () => {
      const [publisher, other] = await clients.connectMany(serializer, 2);
      const events = new Inbox<ReceivedEvent>();
      await publisher!.session.subscribe('com.myapp.self', recordEvents(events));

      // Had the router delivered the event to its publisher, the EVENT would precede the PUBLISHED.
      await publisher!.session.publish('com.myapp.self', ['own'], {}, { acknowledge: true });
      await other!.session.publish('com.myapp.self', ['marker'], {}, { acknowledge: true });

      await events.waitUntil((items) => items.some((e) => e.args[0] === 'marker'), 'the marker event');
      expect(events.items.map((e) => e.args[0])).toEqual(['marker']);
    });

    it('exclude_me: false delivers the event to its publisher too', async () => {
      const publisher = await clients.connect(serializer);
      const events = new Inbox<ReceivedEvent>();
      await publisher.session.subscribe('com.myapp.self', recordEvents(events));

      await publisher.session.publish('com.myapp.self', ['own'], {}, { acknowledge: true, exclude_me: false });

      const [event] = await events.waitFor(1);
      expect(event!.args).toEqual(['own']);
    });

    it('disclose_me: true puts the publisher session id, authid and authrole in the event details', async () => {
      const [subscriber, publisher] = await clients.connectMany(serializer, 2);
      const events = new Inbox<ReceivedEvent>();
      await subscriber!.session.subscribe('com.myapp.signed', recordEvents(events));

      await publisher!.session.publish('com.myapp.signed', ['hi'], {}, { acknowledge: true, disclose_me: true });

      const [event] = await events.waitFor(1);
      expect(event!.details.publisher).toBe(publisher!.session.id);
      expect(event!.details.publisher_authid).toBe(publisher!.welcome.authid);
      expect(event!.details.publisher_authrole).toBe(publisher!.welcome.authrole);
      expect(typeof event!.details.publisher_authid).toBe('string');
    });

    it('eligible and exclude choose which of several subscribers receive an event', async () => {
      const [publisher, b, c] = await clients.connectMany(serializer, 3);
      const toB = new Inbox<ReceivedEvent>();
      const toC = new Inbox<ReceivedEvent>();
      await b!.session.subscribe('com.myapp.listed', recordEvents(toB));
      await c!.session.subscribe('com.myapp.listed', recordEvents(toC));
      const [bId, cId] = [b!.session.id, c!.session.id];
      const send = (label: string, options: Dict) =>
        publisher!.session.publish('com.myapp.listed', [label], {}, { acknowledge: true, ...options });

      await send('eligible b', { eligible: [bId] });
      await send('exclude b', { exclude: [bId] });
      await send('eligible b+c, exclude c', { eligible: [bId, cId], exclude: [cId] });
      await send('eligible nobody here', { eligible: [publisher!.session.id] });
      // Events from one publisher arrive in order, so once the final one is in, nothing else is on its way.
      await send('final', {});

      const isFinal = (items: readonly ReceivedEvent[]) => items.some((e) => e.args[0] === 'final');
      await toB.waitUntil(isFinal, 'the final event at b');
      await toC.waitUntil(isFinal, 'the final event at c');
      expect(toB.items.map((e) => e.args[0])).toEqual(['eligible b', 'eligible b+c, exclude c', 'final']);
      expect(toC.items.map((e) => e.args[0])).toEqual(['exclude b', 'final']);
    });

    it('after unsubscribe no more events arrive', async () => {
      const [subscriber, publisher] = await clients.connectMany(serializer, 2);
      const events = new Inbox<ReceivedEvent>();
      const markers = new Inbox<ReceivedEvent>();
      const subscription = await subscriber!.session.subscribe('com.myapp.feed', recordEvents(events));
      await subscriber!.session.subscribe('com.myapp.marker', recordEvents(markers));

      await publisher!.session.publish('com.myapp.feed', ['before'], {}, { acknowledge: true });
      await events.waitFor(1);
      await subscription.unsubscribe();
      await publisher!.session.publish('com.myapp.feed', ['after'], {}, { acknowledge: true });
      await publisher!.session.publish('com.myapp.marker', ['marker'], {}, { acknowledge: true });

      await markers.waitFor(1);
      expect(events.items.map((e) => e.args[0])).toEqual(['before']);
    });

    it('unsubscribing a subscription twice fails with wamp.error.no_such_subscription', async () => {
      const subscriber = await clients.connect(serializer);
      const subscription = await subscriber.session.subscribe('com.myapp.once', () => {});
      expect(await subscription.unsubscribe()).toBe(true);

      const error = await rejectionOf(unsubscribeById(subscriber.session, 'com.myapp.once', subscription.id));
      expect(error.error).toBe('wamp.error.no_such_subscription');
    });

    it("unsubscribing another session's subscription fails with wamp.error.no_such_subscription", async () => {
      const [owner, stranger] = await clients.connectMany(serializer, 2);
      const subscription = await owner!.session.subscribe('com.myapp.mine', () => {});

      const error = await rejectionOf(unsubscribeById(stranger!.session, 'com.myapp.mine', subscription.id));
      expect(error.error).toBe('wamp.error.no_such_subscription');
    });
  });

  describe('URI checks', () => {
    it('an acknowledged publish to a URI with an empty component fails with wamp.error.invalid_uri', async () => {
      const client = await clients.connect(serializer);
      const error = await rejectionOf(client.session.publish('com..bad', ['x'], {}, { acknowledge: true }));
      expect(error.error).toBe('wamp.error.invalid_uri');
      // The session survives the error.
      expect(await client.session.publish('com.good', ['x'], {}, { acknowledge: true })).toMatchObject({ id: expect.any(Number) });
    });

    it('calling, registering or subscribing (exact) with an empty URI component fails with wamp.error.invalid_uri', async () => {
      const client = await clients.connect(serializer);
      expect((await rejectionOf(client.session.call('com..bad'))).error).toBe('wamp.error.invalid_uri');
      expect((await rejectionOf(client.session.register('com..bad', () => 1))).error).toBe('wamp.error.invalid_uri');
      expect((await rejectionOf(client.session.subscribe('com..bad', () => {}))).error).toBe('wamp.error.invalid_uri');
    });
  });
});

describe('with --uri-check strict', () => {
  let strict: RunningServer;
  const strictClients = new AutobahnClients(() => strict.wampUrl);

  beforeAll(async () => {
    strict = await startServer(['--uri-check', 'strict']);
  });

  afterEach(() => strictClients.closeAll());

  afterAll(async () => {
    await strict?.stop();
  });

  describe.each(SERIALIZERS)('autobahn over %s', (serializer) => {
    it('a URI with upper-case letters fails with wamp.error.invalid_uri, a lower-case one with _ works', async () => {
      const [subscriber, publisher] = await strictClients.connectMany(serializer, 2);

      expect((await rejectionOf(publisher!.session.publish('com.MyApp.x', [], {}, { acknowledge: true }))).error).toBe(
        'wamp.error.invalid_uri',
      );
      expect((await rejectionOf(subscriber!.session.subscribe('com.MyApp.x', () => {}))).error).toBe('wamp.error.invalid_uri');
      expect((await rejectionOf(subscriber!.session.register('com.MyApp.x', () => 1))).error).toBe('wamp.error.invalid_uri');

      const events = new Inbox<ReceivedEvent>();
      await subscriber!.session.subscribe('com.my_app.x', recordEvents(events));
      await publisher!.session.publish('com.my_app.x', ['ok'], {}, { acknowledge: true });
      expect((await events.waitFor(1))[0]!.args).toEqual(['ok']);

      await subscriber!.session.register('com.my_app.add2', (args) => (args[0] as number) + 2);
      expect(await publisher!.session.call('com.my_app.add2', [40])).toBe(42);
    });
  });
});
