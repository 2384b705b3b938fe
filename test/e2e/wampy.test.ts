import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Errors, type Wampy } from 'wampy';
import { startServer, type RunningServer } from '../support/server-process.js';
import { Collector, WAMPY_SERIALIZERS, WampyClients } from '../support/wampy-client.js';

// wampy 8 against the built server, once per serializer. wampy checks WELCOME before using some features
// (it refuses call canceling and progressive call invocations unless the dealer announces them), and it sends
// router-specific options only in their underscore form (`_concurrency`).

let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
});

/** The error a wampy callee throws: wampy sends its `error`, `argsList` and `argsDict` as the INVOCATION ERROR. */
class ApplicationError extends Error {
  constructor(
    readonly error: string,
    readonly argsList: unknown[],
    readonly argsDict: Record<string, unknown>,
  ) {
    super(error);
  }
}

/** What a rejected wampy call carries (a `CallError`). */
async function callError(call: Promise<unknown>): Promise<InstanceType<typeof Errors.CallError>> {
  const error: unknown = await call.then(
    () => expect.fail('the call succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Errors.CallError);
  return error as InstanceType<typeof Errors.CallError>;
}

/**
 * A WAMP ID as wampy hands it out: a number, except over msgpack, where wampy's decoder (msgpackr with its
 * defaults) turns every uint64 into a BigInt. The router writes IDs beyond 2^32 as uint64, as other
 * implementations and the WAMP test vectors do, so session and publication IDs arrive as BigInts there.
 */
function expectWampId(id: unknown): void {
  const value = typeof id === 'bigint' ? Number(id) : id;
  expect(Number.isSafeInteger(value) && (value as number) >= 1, `${String(id)} is a WAMP ID`).toBe(true);
}

let uriCounter = 0;

describe.each(WAMPY_SERIALIZERS)('wampy 8 over %s', (serializer) => {
  let clients: WampyClients;
  /** A URI of its own for each test, so that nothing one test registers can meet another test. */
  let uri: (name: string) => string;

  beforeEach(() => {
    clients = new WampyClients(server.wampUrl, serializer);
    const prefix = `com.wampy.${serializer}.t${++uriCounter}`;
    uri = (name) => `${prefix}.${name}`;
  });

  afterEach(async () => {
    await clients.closeAll();
  });

  async function connect(): Promise<Wampy> {
    return (await clients.connect()).client;
  }

  it('joins realm1 and sees the roles and features the router announces in WELCOME', async () => {
    const { client, welcome } = await clients.connect();
    expectWampId(client.getSessionId());
    expect(welcome.realm).toBe('realm1');
    expect(welcome.roles.broker?.features).toMatchObject({
      pattern_based_subscription: true,
      publisher_exclusion: true,
      publisher_identification: true,
      subscriber_blackwhite_listing: true,
    });
    expect(welcome.roles.dealer?.features).toMatchObject({
      pattern_based_registration: true,
      shared_registration: true,
      progressive_call_results: true,
      caller_identification: true,
    });
    // What the router does not announce, wampy refuses to use, without sending anything.
    // call_canceling is announced, so wampy's cancel() gets as far as checking the request ID.
    expect(welcome.roles.dealer?.features?.call_canceling).toBe(true);
    expect(() => client.cancel(1)).toThrow(Errors.NonExistRPCReqIdError);
    expect(welcome.roles.dealer?.features?.progressive_call_invocations).toBe(true);
  });

  it('registers a procedure and calls it from another session with args and kwargs', async () => {
    const callee = await connect();
    const caller = await connect();
    const seen: Array<{ args: unknown; kwargs: unknown }> = [];
    await callee.register(uri('add'), ({ argsList, argsDict }) => {
      seen.push({ args: argsList, kwargs: argsDict });
      const [a, b] = argsList as number[];
      return { argsList: [a! + b!], argsDict: { note: `${String(argsDict?.label)}!`, nested: { list: [1, 'two', null] } } };
    });

    const result = await caller.call(uri('add'), { argsList: [2, 3], argsDict: { label: 'sum' } });
    expect(seen).toEqual([{ args: [2, 3], kwargs: { label: 'sum' } }]);
    expect(result.argsList).toEqual([5]);
    expect(result.argsDict).toEqual({ note: 'sum!', nested: { list: [1, 'two', null] } });
  });

  it('publishes from one session to a subscriber in another; the publisher does not get its own event', async () => {
    const subscriber = await connect();
    const publisher = await connect();
    const events = new Collector<{ args: unknown; kwargs: unknown }>();
    const ownEvents: unknown[] = [];
    await subscriber.subscribe(uri('news'), ({ argsList, argsDict }) => events.push({ args: argsList, kwargs: argsDict }));
    await publisher.subscribe(uri('news'), (event) => void ownEvents.push(event));

    const published = await publisher.publish(uri('news'), { argsList: ['hello', 1], argsDict: { lang: 'en' } });
    expectWampId(published.publicationId);
    await events.waitFor(1, 'the event');
    expect(events.items).toEqual([{ args: ['hello', 1], kwargs: { lang: 'en' } }]);
    // The router sends a publisher's own EVENT before its PUBLISHED: had it been sent, it would be here by now.
    expect(ownEvents).toEqual([]);
  });

  it('stops delivering after unsubscribe', async () => {
    const subscriber = await connect();
    const publisher = await connect();
    const events = new Collector<unknown>();
    const { subscriptionId } = await subscriber.subscribe(uri('gone'), ({ argsList }) => events.push(argsList?.[0]));
    expectWampId(subscriptionId);
    await subscriber.subscribe(uri('marker'), () => events.push('marker'));
    await publisher.publish(uri('gone'), ['before']);
    await events.waitFor(1, 'the event before unsubscribing');

    await subscriber.unsubscribe(uri('gone'));
    await publisher.publish(uri('gone'), ['after']);
    await publisher.publish(uri('marker'));
    await events.waitFor(2, 'the marker event');
    expect(events.items).toEqual(['before', 'marker']);
  });

  it('delivers to prefix and wildcard subscriptions, with the concrete topic in the event details', async () => {
    const subscriber = await connect();
    const publisher = await connect();
    const base = uri('pat');
    const events = new Collector<{ via: string; topic: unknown; args: unknown }>();
    const collect = (via: string) => ({ details, argsList }: { details: Record<string, unknown>; argsList?: unknown[] }) =>
      events.push({ via, topic: details.topic, args: argsList });
    await subscriber.subscribe(`${base}.a`, collect('prefix'), { match: 'prefix' });
    await subscriber.subscribe(`${base}..z`, collect('wildcard'), { match: 'wildcard' });
    await subscriber.subscribe(`${base}.end`, collect('exact'));

    for (const topic of [`${base}.a.x`, `${base}.ab`, `${base}.b`, `${base}.q.z`, `${base}.q.z.z`, `${base}.end`]) {
      await publisher.publish(topic, [topic]);
    }
    // Events from one publisher reach a subscriber in order: once the last one is here, all others would be too.
    await events.waitFor(4, 'the matching events and the end marker');
    expect(events.items).toEqual([
      { via: 'prefix', topic: `${base}.a.x`, args: [`${base}.a.x`] },
      { via: 'prefix', topic: `${base}.ab`, args: [`${base}.ab`] },
      { via: 'wildcard', topic: `${base}.q.z`, args: [`${base}.q.z`] },
      { via: 'exact', topic: undefined, args: [`${base}.end`] },
    ]);
  });

  it('registers prefix and wildcard procedures and tells the callee which procedure was called', async () => {
    const callee = await connect();
    const caller = await connect();
    const base = uri('rpc');
    await callee.register(`${base}.files`, ({ details }) => ({ argsList: ['prefix', details.procedure] }), { match: 'prefix' });
    await callee.register(`${base}..get`, ({ details }) => ({ argsList: ['wildcard', details.procedure] }), { match: 'wildcard' });
    expect((await caller.call(`${base}.files.read`)).argsList).toEqual(['prefix', `${base}.files.read`]);
    expect((await caller.call(`${base}.user.get`)).argsList).toEqual(['wildcard', `${base}.user.get`]);
  });

  it('receives progressive results before the final one', async () => {
    const callee = await connect();
    const caller = await connect();
    await callee.register(uri('countdown'), ({ details, result_handler }) => {
      expect(details.receive_progress).toBe(true);
      result_handler({ argsList: [3], options: { progress: true } });
      result_handler({ argsList: [2], options: { progress: true } });
      result_handler({ argsList: [1], options: { progress: true } });
      return { argsList: ['liftoff'] };
    });
    const progress: unknown[] = [];
    const result = await caller.call(uri('countdown'), [], {
      progress_callback: ({ argsList }) => void progress.push(argsList?.[0]),
    });
    expect(progress).toEqual([3, 2, 1]);
    expect(result.argsList).toEqual(['liftoff']);
  });

  it("shares a registration between two callees with invoke 'roundrobin'", async () => {
    const first = await connect();
    const second = await connect();
    const caller = await connect();
    await first.register(uri('shared'), () => ({ argsList: ['first'] }), { invoke: 'roundrobin' });
    await second.register(uri('shared'), () => ({ argsList: ['second'] }), { invoke: 'roundrobin' });
    const served: unknown[] = [];
    for (let i = 0; i < 4; i++) served.push((await caller.call(uri('shared'))).argsList?.[0]);
    expect(served).toEqual(['first', 'second', 'first', 'second']);
  });

  it("passes a callee's error URI, args and kwargs through to the caller", async () => {
    const callee = await connect();
    const caller = await connect();
    await callee.register(uri('deny'), () => {
      throw new ApplicationError('com.example.error.not_allowed', ['you may not', 42], { reason: 'quota', left: 0 });
    });
    const error = await callError(caller.call(uri('deny'), ['please']));
    expect(error.errorUri).toBe('com.example.error.not_allowed');
    expect(error.argsList).toEqual(['you may not', 42]);
    expect(error.argsDict).toEqual({ reason: 'quota', left: 0 });
  });

  it('fails a call with wamp.error.canceled when its callee leaves before answering', async () => {
    const callee = await connect();
    const caller = await connect();
    const invoked = new Collector<true>();
    await callee.register(uri('never'), () => {
      invoked.push(true);
      return new Promise<never>(() => {});
    });
    const failure = callError(caller.call(uri('never')));
    await invoked.waitFor(1, 'the invocation');
    await callee.disconnect();
    expect((await failure).errorUri).toBe('wamp.error.canceled');
  });

  describe("fox-wamp's concurrency limit, sent by wampy as the custom option _concurrency", () => {
    /**
     * Registers `slow` (each invocation waits until the test releases it) and `barrier` on one callee. A call to
     * `barrier` made after some calls to `slow` reaches the callee after every INVOCATION the router sent for those
     * calls (one caller connection, one callee connection, both in order), so it shows what has started by then.
     */
    async function slowCallee(options: Record<string, unknown>) {
      const callee = await connect();
      const started = new Collector<number>();
      const release = new Map<number, () => void>();
      let active = 0;
      let maxActive = 0;
      await callee.register(
        uri('slow'),
        async ({ argsList }) => {
          const key = argsList![0] as number;
          active++;
          maxActive = Math.max(maxActive, active);
          const done = new Promise<void>((resolve) => release.set(key, resolve));
          started.push(key);
          await done;
          active--;
          return { argsList: [key] };
        },
        options,
      );
      await callee.register(uri('barrier'), () => ({ argsList: ['ok'] }));
      return { started, release: (key: number) => release.get(key)!(), maxActive: () => maxActive };
    }

    it('with _concurrency 1, calls run one at a time, in call order', async () => {
      const slow = await slowCallee({ _concurrency: 1 });
      const caller = await connect();
      const calls = [1, 2, 3].map((key) => caller.call(uri('slow'), [key]));
      for (const key of [1, 2, 3]) {
        await slow.started.waitFor(key, `invocation ${key}`);
        await caller.call(uri('barrier'));
        expect(slow.started.items, `only ${key} call(s) started`).toEqual([1, 2, 3].slice(0, key));
        slow.release(key);
      }
      expect((await Promise.all(calls)).map((result) => result.argsList)).toEqual([[1], [2], [3]]);
      expect(slow.maxActive()).toBe(1);
    });

    it('without it, the same calls all run at once', async () => {
      const slow = await slowCallee({});
      const caller = await connect();
      const calls = [1, 2, 3].map((key) => caller.call(uri('slow'), [key]));
      await slow.started.waitFor(3, 'three invocations at once');
      expect(slow.maxActive()).toBe(3);
      for (const key of [1, 2, 3]) slow.release(key);
      await Promise.all(calls);
    });
  });

  // Binary values are a msgpack/CBOR feature of wampy (its JSON serializer has no bytes), so the test exists
  // only for those; the router's JSON form of bytes is covered with autobahn and python3-autobahn.
  const binaryTest = serializer === 'json' ? () => undefined : it;
  binaryTest('carries binary arguments both ways as bytes', async () => {
    const callee = await connect();
    const caller = await connect();
    await callee.register(uri('reverse'), ({ argsList }) => {
      const bytes = argsList![0] as Uint8Array;
      expect(bytes).toBeInstanceOf(Uint8Array);
      return { argsList: [Buffer.from(bytes).reverse()] };
    });
    const result = await caller.call(uri('reverse'), [Buffer.from([0, 1, 2, 255])]);
    const answer = result.argsList![0] as Uint8Array;
    expect(answer).toBeInstanceOf(Uint8Array);
    expect([...answer]).toEqual([255, 2, 1, 0]);
  });
});
