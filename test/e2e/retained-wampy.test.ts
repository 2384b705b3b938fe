import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Errors, type Wampy } from 'wampy';
import { startServer, type RunningServer } from '../support/server-process.js';
import { Collector, WAMPY_SERIALIZERS, WampyClients } from '../support/wampy-client.js';

// The retained state through wampy 8. wampy forwards only custom options that match /^_[a-z0-9_]{3,}$/
// (WAMP's rule for implementation-specific keys) plus the spec options it knows: it validates `retain` but never
// sends it, and drops `when`, `watch`, `will`, `filter`, `retained` and `after`. So wampy users write `_retain`,
// `_when`, `_watch`, `_will`, `_filter`, `_retained` and `_after`, which the router reads like the plain names.
// `_when: null` keeps its null: wampy copies custom options as they are, and every serializer carries null.
// wampy always publishes with `acknowledge: true`; an empty payload (null) sends no args and no kwargs.

let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
});

/** An EVENT as wampy hands it to the subscriber callback. */
interface WampyEvent {
  readonly details: Record<string, unknown>;
  readonly argsList?: unknown[];
  readonly argsDict?: Record<string, unknown>;
}

/** The error a rejected wampy publish or subscribe carries. */
async function wampError(operation: Promise<unknown>): Promise<InstanceType<typeof Errors.WampError>> {
  const error: unknown = await operation.then(
    (value) => expect.fail(`expected a rejection, got ${String(value)}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Errors.WampError);
  return error as InstanceType<typeof Errors.WampError>;
}

/** Resolves once the router has handled everything `client` sent before (it handles a session in order). */
async function roundTrip(client: Wampy): Promise<void> {
  await client.publish('test.round_trip', null);
}

let testCounter = 0;

describe.each(WAMPY_SERIALIZERS)('retained state through wampy 8 over %s', (serializer) => {
  let clients: WampyClients;
  let t: (name: string) => string;

  beforeEach(() => {
    clients = new WampyClients(server.wampUrl, serializer);
    const prefix = `retw.${serializer}.t${++testCounter}`;
    t = (name) => `${prefix}.${name}`;
  });

  afterEach(async () => {
    await clients.closeAll();
  });

  async function connect(): Promise<Wampy> {
    return (await clients.connect()).client;
  }

  async function subscribe(client: Wampy, topic: string, options: Record<string, unknown>): Promise<Collector<WampyEvent>> {
    const events = new Collector<WampyEvent>();
    await client.subscribe(topic, (event: WampyEvent) => events.push(event), options as Parameters<Wampy['subscribe']>[2]);
    return events;
  }

  /** What a subscription made with `options` receives before a live marker published right after it. */
  async function replayedBefore(subscriber: Wampy, publisher: Wampy, options: Record<string, unknown>): Promise<WampyEvent[]> {
    const events = await subscribe(subscriber, t('kv'), { match: 'prefix', ...options });
    await publisher.publish(t('kv.marker'), ['marker']);
    let received = events.items;
    while (!received.some((event) => event.argsList?.[0] === 'marker')) received = await events.waitFor(received.length + 1, 'the marker');
    const marker = received.findIndex((event) => event.argsList?.[0] === 'marker');
    expect(received[marker]!.details.retained).toBeUndefined();
    return received.slice(0, marker);
  }

  it('keeps `_retain` publications (replaced, falsy kept, emptied = deleted) and replays them to `_retained` subscribers', async () => {
    const [writer, reader, wampReader] = [await connect(), await connect(), await connect()];
    await writer.publish(t('kv.obj'), { x: 1, y: 2 }, { _retain: true });
    await writer.publish(t('kv.obj'), { x: 3 }, { _retain: true });
    await writer.publish(t('kv.zero'), [0], { _retain: true });
    await writer.publish(t('kv.false'), [false], { _retain: true });
    await writer.publish(t('kv.gone'), ['v'], { _retain: true });
    await writer.publish(t('kv.gone'), null, { _retain: true });
    // wampy's own `retain: true` is not sent: this one is an ordinary event and stores nothing.
    await writer.publish(t('kv.plain'), ['not kept'], { retain: true });

    // Retained entries are replayed in topic order.
    const expected = [
      [t('kv.false'), [false], undefined],
      [t('kv.obj'), [], { x: 3 }],
      [t('kv.zero'), [0], undefined],
    ];
    for (const [subscriber, options] of [
      [reader, { _retained: true }],
      [wampReader, { get_retained: true }],
    ] as const) {
      const replayed = await replayedBefore(subscriber, writer, options);
      expect(replayed.map((event) => [event.details.topic, event.argsList ?? [], event.argsDict])).toEqual(expected);
      expect(replayed.every((event) => event.details.retained === true && typeof event.details.event_id === 'number')).toBe(true);
    }
  });

  it('runs the `_when: null` + `_watch` + `_will: null` mutex between wampy clients', async () => {
    const topic = t('myapp.resource');
    const [watcher, a, b, rival] = [await connect(), await connect(), await connect(), await connect()];
    const changes = await subscribe(watcher, topic, {});
    const lockOptions = { _retain: true, _when: null, _will: null, _watch: true };
    const history: string[] = [];

    await a.publish(topic, { owner: 'a' }, lockOptions);
    history.push('acquire a');
    const bAcquired = b.publish(topic, { owner: 'b' }, lockOptions).then(() => history.push('acquire b'));
    await roundTrip(b);

    // `_when: null` reached the router as "only if absent": without `_watch` it fails at once.
    const rejected = await wampError(rival.publish(topic, { owner: 'rival' }, { _retain: true, _when: null }));
    expect(rejected.errorUri).toBe('fox.error.condition_not_met');
    // `_when: {...}` compares fields of the stored value.
    const wrongOwner = await wampError(rival.publish(topic, { owner: 'rival' }, { _retain: true, _when: { owner: 'b' } }));
    expect(wrongOwner.errorUri).toBe('fox.error.condition_not_met');
    expect(history).toEqual(['acquire a']);

    history.push('release a');
    await a.disconnect(); // the will (null) deletes the key; b, waiting, wins
    await bAcquired;
    expect(history).toEqual(['acquire a', 'release a', 'acquire b']);

    // The holder may update its lock under its own condition.
    await b.publish(topic, { owner: 'b', progress: 50 }, { _retain: true, _when: { owner: 'b' } });
    const seen = await changes.waitFor(4, 'the lock changes');
    await roundTrip(watcher);
    expect(seen.map((event) => event.argsDict ?? 'deleted')).toEqual([{ owner: 'a' }, 'deleted', { owner: 'b' }, { owner: 'b', progress: 50 }]);
  });

  it('filters events server-side with `_filter`, operators included', async () => {
    const [publisher, hot, posts] = [await connect(), await connect(), await connect()];
    const hotEvents = await subscribe(hot, t('sensor'), { match: 'prefix', _filter: { temp: { $gt: 20 } } });
    const postEvents = await subscribe(posts, t('sensor'), { match: 'prefix', _filter: { type: 'post' } });
    for (const [i, value] of [{ temp: 25 }, { temp: 15, type: 'post' }, [30], { temp: 21, type: 'post' }].entries()) {
      await publisher.publish(t(`sensor.v${i}`), value);
    }
    const hotSeen = await hotEvents.waitFor(2, 'hot readings');
    const postSeen = await postEvents.waitFor(2, 'posts');
    await roundTrip(hot);
    await roundTrip(posts);
    expect(hotSeen.map((event) => event.details.topic)).toEqual([t('sensor.v0'), t('sensor.v3')]);
    expect(postSeen.map((event) => event.details.topic)).toEqual([t('sensor.v1'), t('sensor.v3')]);
  });

  it('replays the history after an event ID with `_after`, then live events', async () => {
    const topic = t('history');
    const [publisher, probe, reader] = [await connect(), await connect(), await connect()];
    const probed = await subscribe(probe, topic, {});
    for (let i = 1; i <= 5; i++) await publisher.publish(topic, [i]);
    const ids = (await probed.waitFor(5, 'the history')).map((event) => event.details.event_id as number);
    const events = await subscribe(reader, topic, { _after: ids[1] });
    await publisher.publish(topic, [6]);
    const received = await events.waitFor(4, 'the replay and the live event');
    await roundTrip(reader);
    expect(received.map((event) => event.argsList?.[0])).toEqual([3, 4, 5, 6]);
  });

  it('rejects a bad `_filter` and a bad `_after` with invalid_argument, and the session goes on', async () => {
    const client = await connect();
    const badFilter = await wampError(client.subscribe(t('bad'), () => {}, { _filter: { $foo: 1 } } as Parameters<Wampy['subscribe']>[2]));
    expect(badFilter.errorUri).toBe('wamp.error.invalid_argument');
    const badAfter = await wampError(client.subscribe(t('bad2'), () => {}, { _after: -1 } as Parameters<Wampy['subscribe']>[2]));
    expect(badAfter.errorUri).toBe('wamp.error.invalid_argument');
    const events = await subscribe(client, t('ok'), {});
    await (await connect()).publish(t('ok'), ['fine']);
    expect((await events.waitFor(1, 'an event after the errors'))[0]!.argsList).toEqual(['fine']);
  });
});
