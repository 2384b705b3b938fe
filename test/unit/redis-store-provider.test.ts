import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ErrorUri,
  LocalClient,
  openStore,
  parseRedisUrl,
  RedisStoreProvider,
  Router,
  StoreUnavailableError,
  type HistoryRetention,
  type LocalEvent,
  type RealmStore,
  type RetainedWrite,
  type StoreProvider,
} from '@fox-wamp/core';
import { withTimeout } from '../support/mqtt-client.js';
import { startRedis, type RunningRedis } from '../support/redis-process.js';

// What only the Redis store has: a URL, a connection that can fail and come back, and several router
// processes sharing one Redis. The semantics shared with the other stores are in store-conformance.test.ts.

const RETENTION: HistoryRetention = { maxEvents: 1000, maxAgeMs: 60 * 60 * 1000 };

let redis: RunningRedis;
let prefixCount = 0;
const providers: StoreProvider[] = [];
const routers: Router[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterEach(async () => {
  for (const router of routers.splice(0)) await router.close();
  for (const provider of providers.splice(0)) await provider.close();
});

afterAll(async () => {
  await redis.stop();
});

/** A URL on the shared test Redis with keys of their own, so tests do not see each other's data. */
function freshUrl(server: RunningRedis = redis): string {
  return `${server.url}/0?prefix=unit${++prefixCount}`;
}

async function connect(url: string): Promise<RedisStoreProvider> {
  const provider = await RedisStoreProvider.connect(url);
  providers.push(provider);
  return provider;
}

let nextId = 1;
function write(topic: string, kwargs: Record<string, unknown>, more: Partial<RetainedWrite> = {}): RetainedWrite {
  const id = ++nextId;
  return { topic, payload: { kwargs }, publisherId: 1, publicationId: id, eventId: id, ...more };
}

/** Resolves once the provider reports `healthy` (at once if it already does). */
function health(provider: RedisStoreProvider, healthy: boolean, timeoutMs = 10_000): Promise<void> {
  if (provider.healthy === healthy) return Promise.resolve();
  let stop: () => void = () => undefined;
  const changed = new Promise<void>((resolve) => {
    stop = provider.onHealthChange((now) => {
      if (now === healthy) resolve();
    });
  });
  return withTimeout(changed, timeoutMs, `the redis store to become ${healthy ? 'healthy' : 'unhealthy'}`).finally(() => stop());
}

describe('redis store URLs', () => {
  it('reads host, port, database, credentials and key prefix, and keeps the password out of the description', () => {
    const location = parseRedisUrl('redis://user:s%40cret@cache.example:7000/2?prefix=app');
    expect(location).toMatchObject({ host: 'cache.example', port: 7000, db: 2, username: 'user', password: 's@cret', prefix: 'app', tls: false });
    expect(location.description).toBe('redis://cache.example:7000/2?prefix=app');
    expect(parseRedisUrl('redis://localhost')).toMatchObject({ host: 'localhost', port: 6379, db: 0, prefix: 'fox', description: 'redis://localhost:6379/0' });
    expect(parseRedisUrl('rediss://[::1]:6380')).toMatchObject({ host: '::1', port: 6380, tls: true, description: 'rediss://[::1]:6380/0' });
  });

  it.each([
    ['a database that is not a number', 'redis://127.0.0.1:6379/main', /database number/],
    ['an unknown parameter', 'redis://127.0.0.1:6379?timeout=5', /unknown parameter "timeout"/],
    ['a prefix with braces', 'redis://127.0.0.1:6379?prefix=a{b}', /prefix/],
  ])('refuses %s with one line', (_what, url, message) => {
    expect(() => openStore(url)).toThrow(message);
    try {
      openStore(url);
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('fails to connect with one line that names the store when nothing listens there', async () => {
    const gone = await startRedis();
    const url = `${gone.url}/0`;
    await gone.stop();
    const attempt = RedisStoreProvider.connect(url);
    await expect(attempt).rejects.toThrow(new RegExp(`^cannot connect to the redis store ${url}: .*ECONNREFUSED`));
    await expect(attempt).rejects.not.toThrow(/\n/);
  });

  it('opens synchronously through openStore, the first operations waiting for the connection', async () => {
    const provider = openStore(freshUrl());
    providers.push(provider);
    expect(provider.description).toMatch(/^redis:\/\/127\.0\.0\.1:\d+\/0\?prefix=unit\d+$/);
    const store = provider.openRealm('realm1', RETENTION);
    expect(await store.write(write('sync.k', { ok: true }))).toMatchObject({ applied: true });
    expect((await store.get('sync.k'))?.payload.kwargs).toEqual({ ok: true });
    expect(provider.healthy).toBe(true);
  });

  it('keeps realms and prefixes apart', async () => {
    const url = freshUrl();
    const a = (await connect(url)).openRealm('realm1', RETENTION);
    const b = (await connect(url)).openRealm('realm2', RETENTION);
    const c = (await connect(freshUrl())).openRealm('realm1', RETENTION);
    await a.write(write('same.key', { from: 'a' }));
    expect(await b.get('same.key')).toBeUndefined();
    expect(await c.get('same.key')).toBeUndefined();
    expect(await b.size()).toBe(0);
    expect((await a.reserveEventIds(10)).first).toBe(1);
    expect((await b.reserveEventIds(10)).first).toBe(1);
  });
});

describe('several router processes on one Redis', () => {
  /** Two providers on the same keys: what two router processes sharing one Redis have. */
  async function twoProcesses(): Promise<[RealmStore, RealmStore]> {
    const url = freshUrl();
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    return [a.openRealm('realm1', RETENTION), b.openRealm('realm1', RETENTION)];
  }

  it('lets exactly one of many concurrent `absent` writes win, whichever process sent it', async () => {
    const [a, b] = await twoProcesses();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).write(write('mutex', { owner: i }, { condition: { kind: 'absent' } }))));
    const winners = results.flatMap((result, i) => (result.applied ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const result of results) if (!result.applied) expect(result.current?.payload.kwargs).toEqual({ owner: winners[0] });
    expect((await a.get('mutex'))?.payload.kwargs).toEqual({ owner: winners[0] });
    expect((await b.get('mutex'))?.payload.kwargs).toEqual({ owner: winners[0] });
  });

  it('counts correctly with compare-and-set (`contains`) increments racing from both processes', async () => {
    const [a, b] = await twoProcesses();
    await a.write(write('counter', { n: 0 }));
    const increment = async (store: RealmStore): Promise<number> => {
      for (let attempts = 1; ; attempts++) {
        const n = (await store.get('counter'))!.payload.kwargs!.n as number;
        if ((await store.write(write('counter', { n: n + 1 }, { condition: { kind: 'contains', fields: { n } } }))).applied) return attempts;
      }
    };
    const attempts = await Promise.all(Array.from({ length: 30 }, (_, i) => increment(i % 2 === 0 ? a : b)));
    expect((await b.get('counter'))?.payload.kwargs).toEqual({ n: 30 });
    // Concurrent increments did collide (and retried): the condition refused stale ones.
    expect(attempts.some((count) => count > 1)).toBe(true);
  });

  it('sees wills and event-ID blocks of the other process', async () => {
    const [a, b] = await twoProcesses();
    await a.write(write('presence.a', { online: true }, { publisherId: 77, will: { kwargs: { online: false } } }));
    expect((await b.willsOf(77)).map((entry) => entry.will)).toEqual([{ kwargs: { online: false } }]);
    const blocks = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).reserveEventIds(1000)));
    const sorted = blocks.sort((x, y) => x.first - y.first);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.first).toBeGreaterThan(sorted[i - 1]!.reservedUpTo);
  });

  it('shares retained state between two routers: replay, `when` and a will that frees the key', async () => {
    const url = freshUrl();
    const routerOf = async () => {
      const router = new Router({ realms: ['realm1'], store: await connect(url) });
      routers.push(router);
      await router.ready();
      return router.getRealm('realm1')!;
    };
    const [realmA, realmB] = [await routerOf(), await routerOf()];
    const holder = new LocalClient(realmA);
    await holder.publish('cfg.mode', ['fast'], undefined, { retain: true });
    await holder.publish('res.lock', [], { owner: 'a' }, { retain: true, when: null, will: null });

    const received: LocalEvent[] = [];
    const arrived = new Promise<void>((resolve) => {
      new LocalClient(realmB).subscribe('cfg.#', (event) => {
        received.push(event);
        resolve();
      }, { retained: true });
    });
    await withTimeout(arrived, 5000, 'the retained replay on the other router');
    expect(received.map((event) => [event.args[0], event.details.retained])).toEqual([['fast', true]]);

    const contender = new LocalClient(realmB);
    await expect(contender.publish('res.lock', [], { owner: 'b' }, { retain: true, when: null })).rejects.toMatchObject({ uri: ErrorUri.conditionNotMet });
    holder.close();
    await realmA.settled();
    expect(await realmB.retained('res.lock')).toBeUndefined();
    await contender.publish('res.lock', [], { owner: 'b' }, { retain: true, when: null });
    expect((await realmA.retained('res.lock'))?.payload.kwargs).toEqual({ owner: 'b' });
  });
});

describe('when Redis goes away', () => {
  let volatile: RunningRedis;

  beforeAll(async () => {
    // With an append-only file, so the data is there again after the restart.
    volatile = await startRedis({ persistence: 'aof' });
  });

  afterAll(async () => {
    await volatile.stop();
  });

  it('rejects operations with a clear error, reports unhealthy, and works again once Redis is back', async () => {
    const provider = await connect(freshUrl(volatile));
    const store = provider.openRealm('realm1', RETENTION);
    await store.write(write('survives', { v: 1 }));
    const changes: boolean[] = [];
    provider.onHealthChange((healthy) => changes.push(healthy));

    await volatile.kill();
    await health(provider, false);
    const failure = await store.get('survives').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect((failure as Error).message).toContain(`the redis store ${provider.description} is unavailable`);
    await expect(store.write(write('during', { v: 2 }))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.reserveEventIds(10)).rejects.toBeInstanceOf(StoreUnavailableError);

    await volatile.restart();
    await health(provider, true);
    expect(changes).toEqual([false, true]);
    expect((await store.get('survives'))?.payload.kwargs).toEqual({ v: 1 });
    expect(await store.write(write('after', { v: 3 }))).toMatchObject({ applied: true });
    expect(await store.get('during')).toBeUndefined();
  });

  it('settles every write in flight when Redis dies (applied, or failed as unavailable), none hangs', async () => {
    const provider = await connect(freshUrl(volatile));
    const store = provider.openRealm('realm1', RETENTION);
    await store.get('warm.up');
    const writes = Array.from({ length: 500 }, (_, i) => store.write(write(`inflight.k${i}`, { i })));
    const killed = volatile.kill();
    const outcomes = await withTimeout(Promise.allSettled(writes), 10_000, 'every write in flight to settle');
    await killed;
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(StoreUnavailableError);
    }
    await volatile.restart();
    await health(provider, true);
    // What was acknowledged is there (the AOF is fsynced on every write).
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') expect((await store.get(`inflight.k${i}`))?.payload.kwargs).toEqual({ i });
    }
  });
});
