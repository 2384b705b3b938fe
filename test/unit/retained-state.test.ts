import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalClient, Router, RouterError, type Realm, SqliteStoreProvider, type StoreProvider } from '@fox-wamp/core';
import { LocalEvents } from '../support/local-events.js';

const tempDirs: string[] = [];
const routers: Router[] = [];

function sqliteStore(): StoreProvider {
  const dir = mkdtempSync(join(tmpdir(), 'fox-retained-'));
  tempDirs.push(dir);
  return SqliteStoreProvider.open(join(dir, 'state.db'));
}

afterEach(async () => {
  for (const router of routers.splice(0)) await router.close();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => StoreProvider | undefined][] = [
  ['memory', () => undefined],
  ['sqlite', sqliteStore],
];

describe.each(stores)('retained state on the %s store', (_name, store) => {
  function setup(options: ConstructorParameters<typeof Router>[0] = {}): { router: Router; realm: Realm; client: () => LocalClient } {
    const router = new Router({ realms: ['realm1'], store: store(), ...options });
    routers.push(router);
    const realm = router.getRealm('realm1')!;
    return { router, realm, client: () => new LocalClient(realm) };
  }

  it('replaces the whole entry (no merge) and keeps falsy values', async () => {
    const { realm, client } = setup();
    const a = client();
    await a.publish('key.one', [], { x: 1, y: 2 }, { retain: true });
    await a.publish('key.one', [], { x: 3 }, { retain: true });
    expect((await realm.retained('key.one'))?.payload).toEqual({ args: [], kwargs: { x: 3 } });
    for (const value of [0, false, '']) {
      await a.publish('key.falsy', [value], undefined, { retain: true });
      expect((await realm.retained('key.falsy'))?.payload.args).toEqual([value]);
    }
  });

  it('deletes the entry on a retained publish with no args and no kwargs', async () => {
    const { realm, client } = setup();
    const a = client();
    await a.publish('key.gone', ['v'], undefined, { retain: true });
    await a.publish('key.gone', undefined, undefined, { retain: true });
    expect(await realm.retained('key.gone')).toBeUndefined();
  });

  it('gives a new subscriber the retained entries first, flagged, then live events', async () => {
    const { client } = setup();
    const writer = client();
    await writer.publish('room.a', ['first'], undefined, { retain: true });
    await writer.publish('room.b', ['second'], undefined, { retain: true });
    const events = new LocalEvents();
    const reader = client();
    reader.subscribe('room.#', events.handler, { retained: true });
    await writer.publish('room.c', ['live']);
    const received = await events.count(3);
    expect(received.map((event) => [event.args[0], event.details.retained === true])).toEqual([
      ['first', true],
      ['second', true],
      ['live', false],
    ]);
  });

  it('applies `when: null` only to an absent key and answers a failed condition with an error', async () => {
    const { realm, client } = setup();
    const a = client();
    const b = client();
    const events = new LocalEvents();
    client().subscribe('lock.x', events.handler);
    await a.publish('lock.x', ['a'], undefined, { retain: true, when: null });
    const rejected = b.publish('lock.x', ['b'], undefined, { retain: true, when: null });
    await expect(rejected).rejects.toMatchObject({ uri: 'fox.error.condition_not_met' });
    expect((await realm.retained('lock.x'))?.payload.args).toEqual(['a']);
    await a.publish('other.marker', ['m']);
    await realm.settled();
    // The rejected publish reached no one.
    expect(events.received.map((event) => event.args[0])).toEqual(['a']);
  });

  it('applies `when: {fields}` only when the stored value holds those fields', async () => {
    const { realm, client } = setup();
    const a = client();
    await a.publish('job.1', [], { status: 'started', by: 'a' }, { retain: true });
    await expect(a.publish('job.1', [], { status: 'done' }, { retain: true, when: { status: 'queued' } })).rejects.toBeInstanceOf(RouterError);
    await a.publish('job.1', [], { status: 'done' }, { retain: true, when: { status: 'started' } });
    expect((await realm.retained('job.1'))?.payload.kwargs).toEqual({ status: 'done' });
    // An object condition against a scalar value simply does not hold.
    await a.publish('job.2', [5], undefined, { retain: true });
    await expect(a.publish('job.2', [6], undefined, { retain: true, when: { status: 'x' } })).rejects.toMatchObject({ uri: 'fox.error.condition_not_met' });
  });

  it('hands a mutex over first come, first served, one winner per change, with the will releasing it', async () => {
    const { realm, client } = setup();
    const holders: string[] = [];
    const sessions = ['a', 'b', 'c'].map((name) => ({ name, client: client() }));
    const lock = (name: string, c: LocalClient) =>
      c.publish('res.lock', [], { owner: name }, { retain: true, when: null, watch: true, will: null }).then(() => holders.push(name));
    const acquired = sessions.map(({ name, client: c }) => lock(name, c));
    await acquired[0];
    await realm.settled();
    expect(holders).toEqual(['a']);
    sessions[0]!.client.close(); // will: null deletes the key, b wins
    await acquired[1];
    await realm.settled();
    expect(holders).toEqual(['a', 'b']);
    expect((await realm.retained('res.lock'))?.payload.kwargs).toEqual({ owner: 'b' });
    sessions[1]!.client.close();
    await acquired[2];
    expect(holders).toEqual(['a', 'b', 'c']);
  });

  it('lock(): one holder at a time, release hands over, a stale release frees nothing', async () => {
    const { realm, client } = setup();
    const a = client();
    const b = client();
    const releaseA = await a.lock('res.m', { who: 'a' });
    let bHolds = false;
    const bLocked = b.lock('res.m', { who: 'b' }).then((release) => {
      bHolds = true;
      return release;
    });
    await realm.settled();
    expect(bHolds).toBe(false);
    await releaseA();
    const releaseB = await bLocked;
    expect((await realm.retained('res.m'))?.payload.kwargs).toMatchObject({ who: 'b' });
    await releaseA(); // twice: a no-op, b keeps the lock
    expect((await realm.retained('res.m'))?.payload.kwargs).toMatchObject({ who: 'b' });
    await releaseB();
    expect(await realm.retained('res.m')).toBeUndefined();
  });

  it('drops a waiting publish when its session leaves', async () => {
    const { realm, client } = setup();
    const holder = client();
    await holder.publish('res.l', ['h'], undefined, { retain: true, when: null });
    const waiter = client();
    const waiting = waiter.publish('res.l', ['w'], undefined, { retain: true, when: null, watch: true });
    waiter.close();
    await expect(waiting).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
    await holder.publish('res.l', undefined, undefined, { retain: true });
    await realm.settled();
    expect(await realm.retained('res.l')).toBeUndefined();
  });

  it('waits on an absent key until it appears', async () => {
    const { realm, client } = setup();
    const waiter = client();
    const done = waiter.publish('cfg.ready', ['ack'], undefined, { retain: true, when: { ready: true }, watch: true });
    await realm.settled();
    expect((await realm.retained('cfg.ready'))).toBeUndefined();
    await client().publish('cfg.ready', [], { ready: true }, { retain: true });
    await done;
    expect((await realm.retained('cfg.ready'))?.payload.args).toEqual(['ack']);
  });

  it('clears a will when another session writes the key', async () => {
    const { realm, client } = setup();
    const a = client();
    await a.publish('w.key', ['a'], undefined, { retain: true, will: 'gone' });
    await client().publish('w.key', ['b'], undefined, { retain: true });
    a.close();
    await realm.settled();
    expect((await realm.retained('w.key'))?.payload.args).toEqual(['b']);
  });

  it('applies a will value and publishes the change when the session ends', async () => {
    const { realm, client } = setup();
    const events = new LocalEvents();
    client().subscribe('w.status', events.handler);
    const a = client();
    await a.publish('w.status', ['online'], undefined, { retain: true, will: 'offline' });
    a.close();
    const received = await events.count(2);
    expect(received.map((event) => event.args[0])).toEqual(['online', 'offline']);
    expect((await realm.retained('w.status'))?.payload.args).toEqual(['offline']);
  });

  it('filters events server-side, with operators, never matching a value of another shape', async () => {
    const { client } = setup();
    const events = new LocalEvents();
    client().subscribe('sensor.#', events.handler, { filter: { temp: { $gt: 20 }, kind: 'air' } });
    const p = client();
    await p.publish('sensor.1', [], { temp: 25, kind: 'air' });
    await p.publish('sensor.2', [], { temp: 15, kind: 'air' });
    await p.publish('sensor.3', [42]);
    await p.publish('sensor.4', [], { temp: 30, kind: 'water' });
    await p.publish('sensor.5', [], { temp: 21, kind: 'air' });
    const received = await events.count(2);
    await p.publish('sensor.marker', [], { temp: 99, kind: 'air' });
    await events.count(3);
    expect(events.received.map((event) => event.topic)).toEqual(['sensor.1', 'sensor.5', 'sensor.marker']);
    expect(received.length).toBe(3);
  });

  it('replays history after an event ID, then continues live without gap or duplicate', async () => {
    const { realm, client } = setup();
    const p = client();
    const ids: number[] = [];
    const probe = new LocalEvents();
    client().subscribe('h.topic', probe.handler);
    for (let i = 0; i < 5; i++) await p.publish('h.topic', [i]);
    for (const event of await probe.count(5)) ids.push(event.details.event_id as number);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    const events = new LocalEvents();
    client().subscribe('h.#', events.handler, { after: ids[1]! });
    await p.publish('h.topic', [5]);
    const received = await events.count(4);
    await realm.settled();
    expect(received.map((event) => event.args[0])).toEqual([2, 3, 4, 5]);
  });

  it('rejects a retained value over the size limit', async () => {
    const { client } = setup({ realms: ['realm1'], realmOptions: { maxRetainedSize: 1024 } });
    await expect(client().publish('big.v', ['x'.repeat(4096)], undefined, { retain: true })).rejects.toMatchObject({ uri: 'wamp.error.invalid_argument' });
  });
});

describe('the sqlite store across restarts', () => {
  it('keeps entries, applies leftover wills, and continues event IDs above the old ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fox-restart-'));
    tempDirs.push(dir);
    const path = join(dir, 'state.db');
    const first = new Router({ realms: ['realm1'], store: SqliteStoreProvider.open(path) });
    const realm1 = first.getRealm('realm1')!;
    const a = new LocalClient(realm1);
    const probe = new LocalEvents();
    new LocalClient(realm1).subscribe('k.#', probe.handler);
    await a.publish('k.kept', ['v'], undefined, { retain: true });
    await a.publish('k.lock', ['held'], undefined, { retain: true, will: null });
    const [, second] = await probe.count(2);
    const lastId = second!.details.event_id as number;
    // A crash: the process dies with the session still open (no leave, no will fired here).
    await first.store.close();

    const restarted = new Router({ realms: ['realm1'], store: SqliteStoreProvider.open(path) });
    routers.push(restarted);
    await restarted.ready();
    const realm2 = restarted.getRealm('realm1')!;
    expect((await realm2.retained('k.kept'))?.payload.args).toEqual(['v']);
    expect(await realm2.retained('k.lock')).toBeUndefined();
    const after = new LocalEvents();
    new LocalClient(realm2).subscribe('k.new', after.handler);
    await new LocalClient(realm2).publish('k.new', [1]);
    const [event] = await after.count(1);
    expect(event!.details.event_id as number).toBeGreaterThan(lastId);
  });
});
