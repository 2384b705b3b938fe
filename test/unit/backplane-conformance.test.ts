import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalClient, MemoryCluster, RedisBackplane, RedisStoreProvider, Router, RouterError, type InvocationDelivery, type Realm, type Session, type SessionPeer } from '@fox-wamp/core';
import { startRedis, type RunningRedis } from '../support/redis-process.js';
import { LocalEvents } from '../support/local-events.js';

/**
 * One suite of semantic cases, run on one router alone (no backplane: the single-process behaviour), on the
 * memory backplane (two routers on one in-process engine: the reference model) and on the Redis backplane (two
 * routers in this process on one Redis). The clients of each case are spread over both routers. Whatever a
 * case sees on one process it must see across two, on either engine.
 */

interface Cluster {
  /** The realm on the first and on the second node (the same realm for a single process). */
  readonly a: Realm;
  readonly b: Realm;
  /** The second node's process dies (undefined for a single process). */
  readonly killB?: () => void;
  close(): Promise<void>;
}

type BackplaneName = 'single process' | 'memory' | 'redis';

let redis: RunningRedis | undefined;
let clusters = 0;

async function startCluster(name: BackplaneName): Promise<Cluster> {
  if (name === 'memory') {
    const engine = new MemoryCluster();
    const nodes = ['a', 'b'].map((nodeId) => engine.node(nodeId));
    const routers = nodes.map((node) => new Router({ realms: ['realm1'], store: engine.store, cluster: node }));
    for (const router of routers) await router.ready();
    return {
      a: routers[0]!.getRealm('realm1')!,
      b: routers[1]!.getRealm('realm1')!,
      killB: () => nodes[1]!.abandon(),
      close: async () => {
        for (const router of routers) await router.close();
      },
    };
  }
  if (name === 'single process') {
    const router = new Router({ realms: ['realm1'] });
    const realm = router.getRealm('realm1')!;
    await realm.ready;
    return { a: realm, b: realm, close: () => router.close() };
  }
  const url = `${redis!.url}/0?prefix=bp${++clusters}`;
  const routers: Router[] = [];
  const backplanes: RedisBackplane[] = [];
  for (const nodeId of ['a', 'b']) {
    const cluster = await RedisBackplane.connect(url, { nodeId, leaseMs: 1000 });
    const router = new Router({ realms: ['realm1'], store: await RedisStoreProvider.connect(url), cluster });
    await router.ready();
    routers.push(router);
    backplanes.push(cluster);
  }
  return {
    a: routers[0]!.getRealm('realm1')!,
    b: routers[1]!.getRealm('realm1')!,
    killB: () => backplanes[1]!.abandon(),
    close: async () => {
      for (const router of routers) await router.close();
    },
  };
}

/** Waits until the realm's dealer can route `procedure` (a registration on another process arrives asynchronously). */
async function routable(realm: Realm, procedure: string): Promise<void> {
  await vi.waitFor(() => expect(realm.dealer.hasRegistrationFor(procedure, procedure.split('.'))).toBe(true), { timeout: 5000, interval: 10 });
}

/** Waits until no registration of `procedure` is routable at the realm. */
async function gone(realm: Realm, procedure: string): Promise<void> {
  await vi.waitFor(() => expect(realm.dealer.hasRegistrationFor(procedure, procedure.split('.'))).toBe(false), { timeout: 5000, interval: 10 });
}

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

describe.each<BackplaneName>(['single process', 'memory', 'redis'])('%s', (name) => {
  let cluster: Cluster;
  const clients: LocalClient[] = [];
  const on = (realm: Realm, authid?: string) => {
    const client = new LocalClient(realm, authid === undefined ? {} : { authid, authrole: authid });
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) if (client.isOpen) client.close();
    await cluster?.close();
  });

  it('delivers publications of one process to subscribers of the other, in order, with every match policy', async () => {
    cluster = await startCluster(name);
    const exact = new LocalEvents();
    const prefix = new LocalEvents();
    const wildcard = new LocalEvents();
    const subscriber = on(cluster.b);
    subscriber.subscribe('sensors.kitchen.temp', exact.handler);
    subscriber.subscribe('sensors.kitchen', prefix.handler, { match: 'prefix' });
    subscriber.subscribe('sensors..temp', wildcard.handler, { match: 'wildcard' });
    const publisher = on(cluster.a);
    for (let i = 0; i < 50; i++) await publisher.publish('sensors.kitchen.temp', [i]);
    await publisher.publish('sensors.kitchen.humidity', ['h']);
    await prefix.count(51);
    expect(exact.args).toEqual([...Array(50).keys()]);
    expect(wildcard.args).toEqual([...Array(50).keys()]);
    expect(prefix.args.at(-1)).toBe('h');
    expect(prefix.received.at(-1)!.topic).toBe('sensors.kitchen.humidity');
  });

  it('gives every event a realm-wide increasing event ID, whichever process it was published on', async () => {
    cluster = await startCluster(name);
    const events = new LocalEvents();
    on(cluster.b).subscribe('ids', events.handler);
    const fromA = on(cluster.a);
    const fromB = on(cluster.b);
    const published: Promise<number>[] = [];
    for (let i = 0; i < 20; i++) published.push(fromA.publish('ids', [`a${i}`]), fromB.publish('ids', [`b${i}`]));
    await Promise.all(published);
    const received = await events.count(40);
    const ids = received.map((event) => event.details.event_id as number);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    // Each publisher's own order is kept.
    expect(events.args.filter((value) => String(value).startsWith('a'))).toEqual([...Array(20).keys()].map((i) => `a${i}`));
  });

  it('applies exclude_me, exclusion and eligibility by session, and discloses the publisher', async () => {
    cluster = await startCluster(name);
    const publisher = on(cluster.a, 'alice');
    const own = new LocalEvents();
    publisher.subscribe('news', own.handler);
    const excluded = new LocalEvents();
    const kept = new LocalEvents();
    const excludedClient = on(cluster.b);
    excludedClient.subscribe('news', excluded.handler);
    on(cluster.b).subscribe('news', kept.handler);
    await publisher.publish('news', ['not to the excluded'], undefined, { exclude: [excludedClient.session.id], discloseMe: true });
    await publisher.publish('news', ['to the excluded only'], undefined, { eligible: [excludedClient.session.id] });
    await publisher.publish('news', ['to me too'], undefined, { excludeMe: false });
    await kept.count(2);
    await excluded.count(2);
    await own.count(1);
    expect(kept.args).toEqual(['not to the excluded', 'to me too']);
    expect(excluded.args).toEqual(['to the excluded only', 'to me too']);
    expect(own.args).toEqual(['to me too']);
    expect(kept.received[0]!.details).toMatchObject({ publisher: publisher.session.id, publisher_authid: 'alice' });
  });

  it('filters events by value for a subscription with a filter', async () => {
    cluster = await startCluster(name);
    const hot = new LocalEvents();
    on(cluster.b).subscribe('temp', hot.handler, { filter: { celsius: { $gt: 30 } } });
    const publisher = on(cluster.a);
    for (const celsius of [20, 35, 25, 40]) await publisher.publish('temp', [], { celsius });
    await hot.count(2);
    expect(hot.received.map((event) => event.kwargs.celsius)).toEqual([35, 40]);
  });

  it('replays the history after an event ID to a subscriber on the other process', async () => {
    cluster = await startCluster(name);
    const marker = new LocalEvents();
    on(cluster.a).subscribe('log', marker.handler);
    const publisher = on(cluster.a);
    for (const value of ['one', 'two', 'three']) await publisher.publish('log', [value]);
    await marker.count(3);
    const afterId = marker.received[0]!.details.event_id as number;
    const replayed = new LocalEvents();
    on(cluster.b).subscribe('log', replayed.handler, { after: afterId });
    await publisher.publish('log', ['four']);
    await replayed.count(3);
    expect(replayed.args).toEqual(['two', 'three', 'four']);
  });

  it('replays retained entries written on the other process, then live events, each once', async () => {
    cluster = await startCluster(name);
    const writer = on(cluster.a);
    await writer.publish('state.one', [1], undefined, { retain: true });
    await writer.publish('state.two', [2], undefined, { retain: true });
    const events = new LocalEvents();
    on(cluster.b).subscribe('state', events.handler, { match: 'prefix', retained: true });
    await writer.publish('state.three', [3], undefined, { retain: true });
    await events.count(3);
    // In a cluster the snapshot may already hold the live write (then it comes as retained, and only once).
    expect([...events.args].sort()).toEqual([1, 2, 3]);
    expect(events.received.filter((event) => event.args[0] !== 3).every((event) => event.details.retained === true)).toBe(true);
    await settled(cluster.a);
    await settled(cluster.b);
    expect(events.received).toHaveLength(3);
  });

  it('lets exactly one of two conditional writers on different processes win (when: null)', async () => {
    cluster = await startCluster(name);
    const results = await Promise.allSettled([
      on(cluster.a).publish('lock.x', ['a'], undefined, { retain: true, when: null }),
      on(cluster.b).publish('lock.x', ['b'], undefined, { retain: true, when: null }),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect((refused.reason as RouterError).uri).toBe('fox.error.condition_not_met');
  });

  it('hands a watched lock over in arrival order, one winner per change, across processes', async () => {
    cluster = await startCluster(name);
    const holder = on(cluster.a);
    await holder.publish('mutex', ['holder'], undefined, { retain: true, when: null, will: null });
    const order: string[] = [];
    const contenders = ['b1', 'a2', 'b3'].map((who) => ({ who, client: on(who.startsWith('a') ? cluster.a : cluster.b) }));
    const granted: Promise<void>[] = [];
    for (const { who, client } of contenders) {
      granted.push(client.publish('mutex', [who], undefined, { retain: true, when: null, watch: true, will: null }).then(() => void order.push(who)));
      // Each contender parks before the next one asks: arrival order is the order of these calls.
      await settled(who.startsWith('a') ? cluster.a : cluster.b);
    }
    holder.close();
    await granted[0];
    expect(order).toEqual(['b1']);
    contenders[0]!.client.close();
    await granted[1];
    contenders[1]!.client.close();
    await granted[2];
    expect(order).toEqual(['b1', 'a2', 'b3']);
  });

  it("fires a session's will when it leaves, for subscribers on the other process", async () => {
    cluster = await startCluster(name);
    const events = new LocalEvents();
    on(cluster.b).subscribe('presence.alice', events.handler);
    const alice = on(cluster.a);
    await alice.publish('presence.alice', ['online'], undefined, { retain: true, will: 'offline' });
    alice.close();
    await events.count(2);
    expect(events.args).toEqual(['online', 'offline']);
    expect((await cluster.b.retained('presence.alice'))?.payload.args).toEqual(['offline']);
  });

  it('counts, lists and describes the sessions of every process (wamp.session.*)', async () => {
    cluster = await startCluster(name);
    const remote = on(cluster.b, 'bob');
    on(cluster.b);
    const asker = on(cluster.a);
    await vi.waitFor(async () => expect((await asker.call('wamp.session.count')).args).toEqual([3]), { timeout: 5000, interval: 20 });
    const listed = (await asker.call('wamp.session.list')).args[0] as number[];
    expect(new Set(listed)).toEqual(new Set([...clients.map((client) => client.session.id)]));
    expect((await asker.call('wamp.session.get', [remote.session.id])).args[0]).toMatchObject({ session: remote.session.id, authid: 'bob' });
    remote.close();
    await vi.waitFor(async () => expect((await asker.call('wamp.session.count')).args).toEqual([2]), { timeout: 5000, interval: 20 });
  });

  it('routes a call to a callee on the other process and brings back its result and its errors', async () => {
    cluster = await startCluster(name);
    const callee = on(cluster.b);
    callee.register('math.add', ({ args }) => (args as number[]).reduce((sum, x) => sum + x, 0));
    callee.register('math.fail', () => {
      throw new RouterError('app.error.nope', 'nope', { args: ['why'] });
    });
    await routable(cluster.a, 'math.fail');
    const caller = on(cluster.a);
    expect((await caller.call('math.add', [1, 2, 3])).args).toEqual([6]);
    await expect(caller.call('math.fail')).rejects.toMatchObject({ uri: 'app.error.nope', args: ['why'] });
  });

  it('reaches a callee registered on the other process as soon as it is registered, and refuses unknown procedures', async () => {
    cluster = await startCluster(name);
    const caller = on(cluster.a);
    for (let i = 0; i < 20; i++) {
      const callee = on(cluster.b);
      const procedure = `fresh.p${i}`;
      callee.register(procedure, () => i);
      // The local registration is confirmed by the registry before a client would hear REGISTERED.
      await cluster.b.confirmRegistration(callee.session, [...callee.session.registrations][0]!);
      // No wait for the announcement to reach the caller's process: the call finds the callee anyway.
      expect((await caller.call(procedure)).args).toEqual([i]);
    }
    await expect(caller.call('no.such.thing')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
  });

  it('shares a round-robin registration between callees on both processes', async () => {
    cluster = await startCluster(name);
    on(cluster.a).register('who', () => 'a', { invoke: 'roundrobin' });
    on(cluster.b).register('who', () => 'b', { invoke: 'roundrobin' });
    // Both callees known on the calling process.
    await vi.waitFor(() => expect([...cluster.a.dealer.registrations()].find((r) => r.uri === 'who')?.callees.length).toBe(2), {
      timeout: 5000,
      interval: 10,
    });
    const caller = on(cluster.a);
    const answers: unknown[] = [];
    for (let i = 0; i < 4; i++) answers.push((await caller.call('who')).args[0]);
    expect(new Set(answers)).toEqual(new Set(['a', 'b']));
    expect(answers[0]).not.toBe(answers[1]);
  });

  it('refuses a single registration that another process holds', async () => {
    cluster = await startCluster(name);
    const first = on(cluster.a);
    first.register('only.one', () => 1);
    await routable(cluster.b, 'only.one');
    const second = on(cluster.b);
    expect(() => second.register('only.one', () => 2)).toThrow(expect.objectContaining({ uri: 'wamp.error.procedure_already_exists' }));
    const caller = on(cluster.b);
    for (let i = 0; i < 3; i++) expect((await caller.call('only.one')).args).toEqual([1]);
  });

  it("keeps a remote callee's concurrency limit: a second call waits for the first", async () => {
    cluster = await startCluster(name);
    const releases: (() => void)[] = [];
    let running = 0;
    let most = 0;
    on(cluster.b).register(
      'slow',
      () =>
        new Promise((resolve) => {
          running++;
          most = Math.max(most, running);
          releases.push(() => {
            running--;
            resolve('done');
          });
        }),
      { concurrency: 1 },
    );
    await routable(cluster.a, 'slow');
    const caller = on(cluster.a);
    const calls = [caller.call('slow'), caller.call('slow')];
    await vi.waitFor(() => expect(releases).toHaveLength(1), { timeout: 5000, interval: 10 });
    releases[0]!();
    await vi.waitFor(() => expect(releases).toHaveLength(2), { timeout: 5000, interval: 10 });
    releases[1]!();
    await Promise.all(calls);
    expect(most).toBe(1);
  });

  it("when a process dies, its sessions' wills fire once and calls to its callees fail", async () => {
    cluster = await startCluster(name);
    if (cluster.killB === undefined) return; // one process: nothing else survives it
    const watcher = new LocalEvents();
    on(cluster.a).subscribe('presence.bob', watcher.handler);
    const bob = on(cluster.b);
    await bob.publish('presence.bob', ['online'], undefined, { retain: true, will: 'offline' });
    bob.register('bob.hang', () => new Promise(() => {}));
    await cluster.b.confirmRegistration(bob.session, [...bob.session.registrations][0]!);
    const caller = on(cluster.a);
    const pending = caller.call('bob.hang');
    await vi.waitFor(() => expect(bob.session.invocations.size).toBe(1), { timeout: 5000, interval: 10 });
    cluster.killB();
    await expect(pending).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
    await watcher.count(2);
    expect(watcher.args).toEqual(['online', 'offline']);
    // Exactly once: a marker published afterwards arrives with nothing in between.
    await on(cluster.a).publish('presence.bob', ['marker'], undefined, { retain: true });
    await watcher.count(3);
    expect(watcher.args).toEqual(['online', 'offline', 'marker']);
  });

  it('cancels a call to a callee on the other process: killnowait answers at once and interrupts, kill waits for the callee', async () => {
    cluster = await startCluster(name);
    const callee = new InterruptibleCallee(cluster.b);
    const registration = cluster.b.register(callee.session, 'slow.op');
    await cluster.b.confirmRegistration(callee.session, registration);
    const caller = on(cluster.a);
    for (const mode of ['killnowait', 'kill'] as const) {
      const outcome = new Promise<RouterError>((resolve, reject) => {
        const call = cluster.a.call(caller.session, 'slow.op', { args: [mode] }, {}, { result: () => reject(new Error('a result')), error: resolve });
        void callee.invoked(1).then(() => cluster.a.cancel(call, mode));
      });
      const invocation = await callee.invoked(1);
      const interrupt = await callee.interrupted(1);
      expect(interrupt).toEqual({ invocationId: invocation.requestId, mode });
      if (mode === 'kill') cluster.b.invocationError(callee.session, invocation.requestId, new RouterError('app.error.stopped', 'stopped'));
      expect((await outcome).uri).toBe(mode === 'kill' ? 'app.error.stopped' : 'wamp.error.canceled');
      callee.reset();
    }
  });

  it('fails a pending call when its callee on the other process leaves, and times calls out', async () => {
    cluster = await startCluster(name);
    const callee = on(cluster.b);
    callee.register('hang', () => new Promise(() => {}));
    await routable(cluster.a, 'hang');
    const caller = on(cluster.a);
    await expect(caller.call('hang', [], undefined, { timeout: 100 })).rejects.toMatchObject({ uri: 'wamp.error.timeout' });
    const pending = caller.call('hang');
    await vi.waitFor(() => expect(callee.session.invocations.size).toBeGreaterThan(0), { timeout: 5000, interval: 10 });
    callee.close();
    await expect(pending).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
  });
});

/**
 * Waits until what the realm's process sent to the engine so far has been applied: a probe published after it
 * (on the same engine connection, so after it in the engine's order) comes back.
 */
async function settled(realm: Realm): Promise<void> {
  const client = new LocalClient(realm);
  const seen = new LocalEvents();
  client.subscribe('probe.settled', seen.handler);
  await client.publish('probe.settled', ['x'], undefined, { excludeMe: false });
  await seen.count(1);
  client.close();
}

/** A callee that takes interrupts (as a WAMP callee that announced call canceling), driven by the test. */
class InterruptibleCallee implements SessionPeer {
  readonly session: Session;
  private invocations: InvocationDelivery[] = [];
  private interrupts: { invocationId: number; mode: string }[] = [];
  private wake: (() => void)[] = [];

  constructor(realm: Realm) {
    this.session = realm.join(this, { protocol: 'local', authrole: 'callee', authmethod: 'local', authprovider: 'local', transport: 'local' });
  }

  sendEvent(): void {}

  sendInvocation(invocation: InvocationDelivery): void {
    this.invocations.push(invocation);
    this.notify();
  }

  acceptsInterrupts(): boolean {
    return true;
  }

  sendInterrupt(invocationId: number, mode: 'kill' | 'killnowait'): boolean {
    this.interrupts.push({ invocationId, mode });
    this.notify();
    return true;
  }

  close(): void {}

  async invoked(n: number): Promise<InvocationDelivery> {
    while (this.invocations.length < n) await new Promise<void>((resolve) => this.wake.push(resolve));
    return this.invocations[n - 1]!;
  }

  async interrupted(n: number): Promise<{ invocationId: number; mode: string }> {
    while (this.interrupts.length < n) await new Promise<void>((resolve) => this.wake.push(resolve));
    return this.interrupts[n - 1]!;
  }

  reset(): void {
    this.invocations = [];
    this.interrupts = [];
  }

  private notify(): void {
    for (const wake of this.wake.splice(0)) wake();
  }
}
