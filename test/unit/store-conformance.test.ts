import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  conditionHolds,
  MemoryStoreProvider,
  parseWampPattern,
  RedisStoreProvider,
  SqliteStoreProvider,
  topicKey,
  type HistoryEvent,
  type HistoryRetention,
  type Payload,
  type RealmStore,
  type RetainedEntry,
  type RetainedWrite,
  type StoreProvider,
  type TopicPattern,
  type WriteCondition,
} from '@fox-wamp/core';
import { startRedis, type RunningRedis } from '../support/redis-process.js';

// One set of semantic cases for every realm store: the memory store is the reference model, and the SQLite
// and Redis stores must behave the same way through the `RealmStore` interface (conditional writes, deletes,
// wills, event IDs, history retention, pattern lookups, payload round trips), plus durability for the stores
// that have it.

type StoreName = 'memory' | 'sqlite' | 'redis';

/** A place where a store keeps its data; `open` opens a provider on it, again after a close for durable stores. */
interface Backing {
  open(): Promise<StoreProvider>;
}

const RETENTION: HistoryRetention = { maxEvents: 1000, maxAgeMs: 60 * 60 * 1000 };

let redis: RunningRedis | undefined;
let backingCount = 0;
const tempDirs: string[] = [];
const providers: StoreProvider[] = [];

function newBacking(name: StoreName): Backing {
  const track = (provider: StoreProvider) => {
    providers.push(provider);
    return provider;
  };
  switch (name) {
    case 'memory':
      return { open: async () => track(new MemoryStoreProvider()) };
    case 'sqlite': {
      const dir = mkdtempSync(join(tmpdir(), 'fox-conformance-'));
      tempDirs.push(dir);
      return { open: async () => track(SqliteStoreProvider.open(join(dir, 'state.db'))) };
    }
    case 'redis': {
      // Every test gets keys of its own (a prefix), so tests stay independent on one Redis server.
      const url = `${redis!.url}/0?prefix=conformance${++backingCount}`;
      return { open: async () => track(await RedisStoreProvider.connect(url)) };
    }
  }
}

afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.close();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await redis?.stop();
});

let nextPublicationId = 1000;

/** A retained write by `publisherId`; every write gets a publication ID and event ID of its own. */
function write(topic: string, payload: Payload, more: Partial<RetainedWrite> = {}): RetainedWrite {
  const id = ++nextPublicationId;
  return { topic, payload, publisherId: 1, publicationId: id, eventId: id, ...more };
}

function event(eventId: number, more: Partial<HistoryEvent> = {}): HistoryEvent {
  return { eventId, topic: `h.t${eventId}`, payload: { args: [eventId] }, publisherId: 5, publicationId: eventId + 10_000, publishedAt: Date.now(), ...more };
}

const contains = (fields: Record<string, unknown>): WriteCondition => ({ kind: 'contains', fields });
const ABSENT: WriteCondition = { kind: 'absent' };

function topicsOf(entries: readonly RetainedEntry[]): string[] {
  return entries.map((entry) => entry.topic);
}

describe.each<[StoreName, boolean]>([
  ['memory', false],
  ['sqlite', true],
  ['redis', true],
])('the %s realm store', (name, durable) => {
  beforeAll(async () => {
    if (name === 'redis') redis ??= await startRedis();
  });

  /** A fresh store of this kind, plus a way to open it again on the same data (durable stores). */
  async function openStore(retention: HistoryRetention = RETENTION): Promise<{ store: RealmStore; reopen: () => Promise<RealmStore>; close: () => Promise<void> }> {
    const backing = newBacking(name);
    let provider = await backing.open();
    return {
      store: provider.openRealm('realm1', retention),
      close: () => provider.close(),
      async reopen() {
        await provider.close();
        provider = await backing.open();
        return provider.openRealm('realm1', retention);
      },
    };
  }

  describe('conditional writes', () => {
    it('stores the whole entry and replaces it on the next write (no merge)', async () => {
      const { store } = await openStore();
      const first = await store.write(write('k.one', { kwargs: { x: 1, y: 2 } }, { publisherId: 7 }));
      expect(first).toMatchObject({ applied: true, previous: undefined });
      const second = write('k.one', { kwargs: { x: 3 } }, { publisherId: 8 });
      const result = await store.write(second);
      expect(result.applied).toBe(true);
      expect(result.applied && result.previous?.payload).toEqual({ kwargs: { x: 1, y: 2 } });
      const stored = await store.get('k.one');
      expect(stored).toMatchObject({ topic: 'k.one', payload: { kwargs: { x: 3 } }, publisherId: 8, publicationId: second.publicationId, eventId: second.eventId });
      expect(typeof stored?.updatedAt).toBe('number');
      expect(stored && 'will' in stored).toBe(false);
      expect(await store.size()).toBe(1);
    });

    it('keeps 0, false, "" and null as ordinary values', async () => {
      const { store } = await openStore();
      for (const value of [0, false, '', null]) {
        await store.write(write('k.falsy', { args: [value] }));
        expect((await store.get('k.falsy'))?.payload.args).toEqual([value]);
      }
      await store.write(write('k.falsy.fields', { kwargs: { zero: 0, no: false, empty: '', none: null } }));
      expect((await store.get('k.falsy.fields'))?.payload.kwargs).toEqual({ zero: 0, no: false, empty: '', none: null });
    });

    it('applies `absent` only while the key has no entry, and answers a refusal with the current entry', async () => {
      const { store } = await openStore();
      const first = write('lock.x', { kwargs: { owner: 'a' } });
      expect((await store.write({ ...first, condition: ABSENT })).applied).toBe(true);
      const refused = await store.write(write('lock.x', { kwargs: { owner: 'b' } }, { condition: ABSENT }));
      expect(refused.applied).toBe(false);
      expect(!refused.applied && refused.current).toMatchObject({ payload: { kwargs: { owner: 'a' } }, publicationId: first.publicationId });
      expect((await store.get('lock.x'))?.payload.kwargs).toEqual({ owner: 'a' });
    });

    it('applies `contains` only when the stored object value holds those fields with equal values', async () => {
      const { store } = await openStore();
      const job = { status: 'started', by: 'a', n: 0, flag: false, text: '', nested: { b: [1, { c: 2 }], a: null } };
      await store.write(write('job.1', { kwargs: job }));
      // Each attempt that applies writes the same value again, so every attempt sees the same stored value.
      const attempt = async (fields: Record<string, unknown>) => (await store.write(write('job.1', { kwargs: job }, { condition: contains(fields) }))).applied;
      expect(await attempt({ status: 'started' })).toBe(true);
      expect(await attempt({ status: 'started', by: 'a' })).toBe(true);
      expect(await attempt({ n: 0, flag: false, text: '' })).toBe(true);
      // Deep equality, whatever the key order.
      expect(await attempt({ nested: { a: null, b: [1, { c: 2 }] } })).toBe(true);
      expect(await attempt({})).toBe(true);
      expect(await attempt({ status: 'queued' })).toBe(false);
      expect(await attempt({ status: 'started', by: 'b' })).toBe(false);
      expect(await attempt({ missing: null })).toBe(false);
      expect(await attempt({ n: '0' })).toBe(false);
      expect(await attempt({ n: false })).toBe(false);
      expect(await attempt({ flag: 0 })).toBe(false);
      expect(await attempt({ text: null })).toBe(false);
      expect(await attempt({ nested: { a: null, b: [1, { c: 2 }], extra: 1 } })).toBe(false);
      expect(await attempt({ nested: { a: null, b: [{ c: 2 }, 1] } })).toBe(false);
    });

    it('never holds `contains` against a scalar, a list or an absent key, and reads the value as kwargs, else the one arg', async () => {
      const { store } = await openStore();
      await store.write(write('v.scalar', { args: [5] }));
      await store.write(write('v.list', { args: [{ a: 1 }, { a: 1 }] }));
      await store.write(write('v.arg', { args: [{ a: 1 }] }));
      await store.write(write('v.kwargs', { args: [{ a: 2 }], kwargs: { a: 1 } }));
      await store.write(write('v.emptykw', { args: [{ a: 1 }], kwargs: {} }));
      const attempt = async (topic: string, fields: Record<string, unknown>) => (await store.write(write(topic, { args: ['next'] }, { condition: contains(fields) }))).applied;
      expect(await attempt('v.scalar', {})).toBe(false);
      expect(await attempt('v.list', { a: 1 })).toBe(false);
      expect(await attempt('v.absent', {})).toBe(false);
      expect(await attempt('v.kwargs', { a: 2 })).toBe(false);
      expect(await attempt('v.kwargs', { a: 1 })).toBe(true);
      expect(await attempt('v.emptykw', { a: 1 })).toBe(true);
      expect(await attempt('v.arg', { a: 1 })).toBe(true);
      expect(await store.get('v.absent')).toBeUndefined();
    });

    it('compares bytes as bytes in `contains`', async () => {
      const { store } = await openStore();
      await store.write(write('bin.k', { kwargs: { blob: Buffer.from([0, 1, 2, 255]) } }));
      const attempt = async (blob: unknown) => (await store.write(write('bin.k', { kwargs: { blob: Buffer.from([0, 1, 2, 255]) } }, { condition: contains({ blob }) }))).applied;
      expect(await attempt(Buffer.from([0, 1, 2, 254]))).toBe(false);
      expect(await attempt('AAEC/w==')).toBe(false);
      expect(await attempt(Buffer.from([0, 1, 2, 255]))).toBe(true);
    });

    it('checks `contains` on a value with hundreds of fields', async () => {
      const { store } = await openStore();
      const wide = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, i % 7 === 0 ? { nested: i } : i]));
      await store.write(write('wide.k', { kwargs: wide }));
      const attempt = async (fields: Record<string, unknown>) => (await store.write(write('wide.k', { kwargs: wide }, { condition: contains(fields) }))).applied;
      expect(await attempt({ f250: 250, f294: { nested: 294 } })).toBe(true);
      expect(await attempt({ f250: 250, f299: 298 })).toBe(false);
      expect(await attempt(wide)).toBe(true);
    });

    it('decides `contains` exactly as `conditionHolds` does, for generated values (property)', async () => {
      const { store } = await openStore();
      let round = 0;
      await fc.assert(
        fc.asyncProperty(storedValueArbitrary, fc.infiniteStream(fc.nat(3)), conditionValueArbitrary, async (stored, picks, extra) => {
          const topic = `prop.k${++round}`;
          await store.write(write(topic, stored));
          const fields = conditionFieldsFrom(stored, picks, extra);
          const expected = conditionHolds({ kind: 'contains', fields }, stored);
          const result = await store.write(write(topic, { args: ['after'] }, { condition: contains(fields) }));
          expect(result.applied).toBe(expected);
        }),
        { numRuns: 300 },
      );
    });

    it('applies a `publication` condition only while the entry is still that publication', async () => {
      const { store } = await openStore();
      const mine = write('owned.k', { args: ['mine'] });
      await store.write(mine);
      expect((await store.write(write('owned.k', { args: ['will'] }, { condition: { kind: 'publication', publicationId: mine.publicationId + 1 } }))).applied).toBe(false);
      await store.write(write('other.k', { args: ['x'] }));
      expect((await store.write(write('other.k', { args: ['will'] }, { condition: { kind: 'publication', publicationId: mine.publicationId } }))).applied).toBe(false);
      expect((await store.write(write('absent.k', { args: ['will'] }, { condition: { kind: 'publication', publicationId: mine.publicationId } }))).applied).toBe(false);
      expect((await store.write(write('owned.k', { args: ['will'] }, { condition: { kind: 'publication', publicationId: mine.publicationId } }))).applied).toBe(true);
      expect((await store.get('owned.k'))?.payload.args).toEqual(['will']);
      expect(await store.get('absent.k')).toBeUndefined();
    });

    it('deletes on a payload with no args and no kwargs, and only when the condition holds', async () => {
      const { store } = await openStore();
      await store.write(write('gone.a', { args: ['v'] }));
      await store.write(write('gone.b', { kwargs: { keep: true } }));
      expect(await store.size()).toBe(2);

      const refused = await store.write(write('gone.b', {}, { condition: contains({ keep: false }) }));
      expect(refused.applied).toBe(false);
      expect(await store.get('gone.b')).toBeDefined();

      const deleted = await store.write(write('gone.a', { args: [], kwargs: {} }));
      expect(deleted).toMatchObject({ applied: true, entry: undefined, previous: { payload: { args: ['v'] } } });
      expect(await store.get('gone.a')).toBeUndefined();
      expect(await store.write(write('gone.b', {}, { condition: contains({ keep: true }) }))).toMatchObject({ applied: true, entry: undefined });
      expect(await store.size()).toBe(0);
      expect(await store.find(parseWampPattern('gone', 'prefix'))).toEqual([]);
      // Deleting an absent key is a write that applies and changes nothing.
      expect(await store.write(write('gone.never', {}))).toMatchObject({ applied: true, entry: undefined, previous: undefined });
      expect(await store.write(write('gone.never', {}, { condition: ABSENT }))).toMatchObject({ applied: true });
    });
  });

  describe('wills', () => {
    it('indexes entries with a will by their publisher, and any later write to the key clears the will', async () => {
      const { store } = await openStore();
      await store.write(write('w.lock', { kwargs: { owner: 'a' } }, { publisherId: 11, will: null }));
      await store.write(write('w.presence', { args: ['online'] }, { publisherId: 11, will: { args: ['offline'] } }));
      await store.write(write('w.plain', { args: ['no will'] }, { publisherId: 11 }));
      await store.write(write('w.other', { args: ['b'] }, { publisherId: 12, will: { args: ['b gone'] } }));

      const wills = await store.willsOf(11);
      expect(topicsOf(wills).sort()).toEqual(['w.lock', 'w.presence']);
      expect(wills.find((entry) => entry.topic === 'w.lock')?.will).toBeNull();
      expect(wills.find((entry) => entry.topic === 'w.presence')?.will).toEqual({ args: ['offline'] });
      expect(topicsOf(await store.allWills()).sort()).toEqual(['w.lock', 'w.other', 'w.presence']);

      // Another session's write, the same session's write without a will, and a delete each clear the will.
      await store.write(write('w.lock', { kwargs: { owner: 'c' } }, { publisherId: 13 }));
      await store.write(write('w.presence', { args: ['online again'] }, { publisherId: 11 }));
      await store.write(write('w.other', {}, { publisherId: 99 }));
      expect(await store.willsOf(11)).toEqual([]);
      expect(await store.willsOf(12)).toEqual([]);
      expect(await store.allWills()).toEqual([]);
      expect(await store.willsOf(404)).toEqual([]);
    });

    it('moves a will to the session that wrote last with one', async () => {
      const { store } = await openStore();
      await store.write(write('w.owner', { args: ['a'] }, { publisherId: 21, will: null }));
      await store.write(write('w.owner', { args: ['b'] }, { publisherId: 22, will: { args: ['b left'] } }));
      expect(await store.willsOf(21)).toEqual([]);
      expect((await store.willsOf(22)).map((entry) => [entry.topic, entry.will])).toEqual([['w.owner', { args: ['b left'] }]]);
      expect(topicsOf(await store.allWills())).toEqual(['w.owner']);
    });

    it.runIf(durable)('still has every will after a restart, for the router to fire them (allWills)', async () => {
      const { store, reopen } = await openStore();
      const lock = write('w.lock', { kwargs: { owner: 'a' } }, { publisherId: 31, will: null });
      await store.write(lock);
      await store.write(write('w.presence', { args: ['online'] }, { publisherId: 32, will: { args: ['offline'], kwargs: { why: 'restart' } } }));
      await store.write(write('w.kept', { args: ['no will'] }, { publisherId: 31 }));

      const again = await reopen();
      const wills = (await again.allWills()).sort((a, b) => a.topic.localeCompare(b.topic));
      expect(wills.map((entry) => [entry.topic, entry.publisherId, entry.will])).toEqual([
        ['w.lock', 31, null],
        ['w.presence', 32, { args: ['offline'], kwargs: { why: 'restart' } }],
      ]);
      // Firing a will is a write conditioned on the entry being still that publication: it clears the will.
      const fired = await again.write(write('w.lock', {}, { publisherId: 0, condition: { kind: 'publication', publicationId: lock.publicationId } }));
      expect(fired.applied).toBe(true);
      expect(topicsOf(await again.allWills())).toEqual(['w.presence']);
    });
  });

  describe('event IDs', () => {
    it('hands out blocks that never overlap and only go up', async () => {
      const { store } = await openStore();
      const blocks = [await store.reserveEventIds(1000), await store.reserveEventIds(1), await store.reserveEventIds(500)];
      expect(blocks[0]!.reservedUpTo - blocks[0]!.first).toBe(999);
      expect(blocks[1]!.first).toBe(blocks[1]!.reservedUpTo);
      for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.first).toBeGreaterThan(blocks[i - 1]!.reservedUpTo);
      expect(blocks[0]!.first).toBeGreaterThanOrEqual(1);
    });

    it('hands out different blocks to concurrent reservations', async () => {
      const { store } = await openStore();
      const blocks = await Promise.all(Array.from({ length: 20 }, () => store.reserveEventIds(100)));
      const firsts = new Set(blocks.map((block) => block.first));
      expect(firsts.size).toBe(20);
      const sorted = [...blocks].sort((a, b) => a.first - b.first);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.first).toBe(sorted[i - 1]!.reservedUpTo + 1);
    });

    it.runIf(durable)('continues above every reserved ID after a restart', async () => {
      const { store, reopen } = await openStore();
      await store.reserveEventIds(1000);
      const last = await store.reserveEventIds(1000);
      const again = await reopen();
      const next = await again.reserveEventIds(1000);
      expect(next.first).toBeGreaterThan(last.reservedUpTo);
    });
  });

  describe('history', () => {
    it('returns the events after an ID, oldest first, at most `limit`', async () => {
      const { store } = await openStore();
      for (const id of [3, 4, 7, 9, 12]) await store.appendHistory(event(id));
      expect((await store.history(0, 100)).map((e) => e.eventId)).toEqual([3, 4, 7, 9, 12]);
      expect((await store.history(4, 100)).map((e) => e.eventId)).toEqual([7, 9, 12]);
      expect((await store.history(5, 2)).map((e) => e.eventId)).toEqual([7, 9]);
      expect(await store.history(12, 100)).toEqual([]);
      const [seventh] = await store.history(6, 1);
      expect(seventh).toEqual(event(7, { publishedAt: seventh!.publishedAt }));
      expect(await store.oldestEventId()).toBe(3);
    });

    it('keeps only the newest `maxEvents` events', async () => {
      const { store } = await openStore({ maxEvents: 5, maxAgeMs: 60_000 });
      for (let id = 1; id <= 12; id++) await store.appendHistory(event(id));
      expect((await store.history(0, 100)).map((e) => e.eventId)).toEqual([8, 9, 10, 11, 12]);
      // A replay asks for at most `maxEvents`: it must get the newest ones, not a window with a gap after it.
      expect((await store.history(0, 5)).map((e) => e.eventId)).toEqual([8, 9, 10, 11, 12]);
      expect(await store.oldestEventId()).toBe(8);
    });

    it('drops events older than `maxAgeMs`', async () => {
      const { store } = await openStore({ maxEvents: 100, maxAgeMs: 60_000 });
      const longAgo = Date.now() - 10 * 60_000;
      for (let id = 1; id <= 3; id++) await store.appendHistory(event(id, { publishedAt: longAgo }));
      expect(await store.history(0, 100)).toEqual([]);
      expect(await store.oldestEventId()).toBeUndefined();
      for (let id = 4; id <= 5; id++) await store.appendHistory(event(id));
      expect((await store.history(0, 100)).map((e) => e.eventId)).toEqual([4, 5]);
      expect(await store.oldestEventId()).toBe(4);
    });

    it('keeps nothing with `maxEvents: 0`, and has no oldest event while empty', async () => {
      const none = await openStore({ maxEvents: 0, maxAgeMs: 60_000 });
      await none.store.appendHistory(event(1));
      expect(await none.store.history(0, 10)).toEqual([]);
      expect(await none.store.oldestEventId()).toBeUndefined();
      const empty = await openStore();
      expect(await empty.store.oldestEventId()).toBeUndefined();
      expect(await empty.store.history(0, 10)).toEqual([]);
    });

    it.runIf(durable)('still has the history after a restart', async () => {
      const { store, reopen } = await openStore();
      for (let id = 1; id <= 4; id++) await store.appendHistory(event(id, { payload: { args: [id], kwargs: { bytes: Buffer.from([id]) } } }));
      const again = await reopen();
      const events = await again.history(1, 100);
      expect(events.map((e) => e.eventId)).toEqual([2, 3, 4]);
      expect(Buffer.isBuffer(events[0]!.payload.kwargs!.bytes)).toBe(true);
      expect(events[2]!.payload).toEqual({ args: [4], kwargs: { bytes: Buffer.from([4]) } });
      expect(await again.oldestEventId()).toBe(1);
    });
  });

  describe('find', () => {
    // MQTT topics may hold `.` inside a level and empty levels: their keys escape the dot.
    const mqttDotted = topicKey(['m', 'x.y']);
    const mqttEmpty = topicKey(['m', '', 'z']);
    const TOPICS = ['a', 'a.b', 'a.b.c', 'a.bc', 'a.x.c', 'a.em', 'a.emergency.1', 'b.b.c', '$SYS', '$SYS.x', '$SYS.b.c', mqttDotted, mqttEmpty];

    async function seeded(): Promise<RealmStore> {
      const { store } = await openStore();
      // Written in a scrambled order: `find` answers in topic order whatever the order of writes.
      for (const topic of [...TOPICS].reverse()) await store.write(write(topic, { args: [topic] }));
      return store;
    }

    const levels = (items: (string | null)[], rest = false): TopicPattern => ({ kind: 'levels', levels: items, rest });

    it.each<[string, TopicPattern, string[]]>([
      ['an exact topic', parseWampPattern('a.b', 'exact'), ['a.b']],
      ['an exact topic that is not stored', parseWampPattern('a.q', 'exact'), []],
      ['one-level wildcards', parseWampPattern('a..c', 'wildcard'), ['a.b.c', 'a.x.c']],
      ["fox-wamp's in-URI *", parseWampPattern('a.*.c', 'exact'), ['a.b.c', 'a.x.c']],
      ['a wildcard first level, which skips $ topics', parseWampPattern('.b.c', 'wildcard'), ['a.b.c', 'b.b.c']],
      ['a trailing #, which matches the parent too', parseWampPattern('a.#', 'exact'), ['a', 'a.b', 'a.b.c', 'a.bc', 'a.em', 'a.emergency.1', 'a.x.c']],
      ['a root #, which skips $ topics', levels([], true), ['a', 'a.b', 'a.b.c', 'a.bc', 'a.em', 'a.emergency.1', 'a.x.c', 'b.b.c', mqttEmpty, mqttDotted].sort()],
      ['a literal $ level with #', levels(['$SYS'], true), ['$SYS', '$SYS.b.c', '$SYS.x']],
      ['a wildcard after a literal $ level', levels(['$SYS', null, 'c']), ['$SYS.b.c']],
      ['a string prefix inside a level', parseWampPattern('a.em', 'prefix'), ['a.em', 'a.emergency.1']],
      ['a string prefix of whole levels', parseWampPattern('a.b', 'prefix'), ['a.b', 'a.b.c', 'a.bc']],
      ['a prefix at the root, which skips $ topics', parseWampPattern('', 'prefix'), ['a', 'a.b', 'a.b.c', 'a.bc', 'a.em', 'a.emergency.1', 'a.x.c', 'b.b.c', mqttEmpty, mqttDotted].sort()],
      ['a root prefix naming $', parseWampPattern('$S', 'prefix'), []],
      ['an MQTT + level over a level holding a dot', levels(['m', null]), [mqttDotted]],
      ['an MQTT + over an empty level', levels(['m', null, 'z']), [mqttEmpty]],
      ['an MQTT exact topic with a dot in a level', levels(['m', 'x.y']), [mqttDotted]],
    ])('finds the entries matching %s', async (_what, pattern, expected) => {
      const store = await seeded();
      const found = await store.find(pattern);
      expect(topicsOf(found)).toEqual(expected);
      for (const entry of found) expect(entry.payload.args).toEqual([entry.topic]);
    });

    it('pages through many topics under one prefix', async () => {
      const { store } = await openStore();
      const topics = Array.from({ length: 2500 }, (_, i) => `many.k${String(i).padStart(4, '0')}`);
      await Promise.all(topics.map((topic) => store.write(write(topic, { args: [1] }))));
      await store.write(write('manyx', { args: [1] }));
      expect(topicsOf(await store.find(parseWampPattern('many.#', 'exact')))).toEqual(topics);
      expect(await store.size()).toBe(2501);
    });
  });

  describe('payloads', () => {
    const rich: Payload = {
      args: [1, 'two', { three: [3, null, false] }, Buffer.from([0xde, 0xad, 0xbe, 0xef])],
      kwargs: { nested: { bytes: Buffer.from('hi'), list: [0, '', { deep: true }] }, unicode: 'é ✓ 𝄞' },
      raw: Buffer.from([0x7b, 0x00, 0xff]),
      properties: {
        qos: 1,
        contentType: 'application/json',
        payloadFormat: 1,
        responseTopic: 'reply/to',
        correlationData: Buffer.from([1, 2, 3]),
        userProperties: [['a', '1'], ['b', 'x'], ['b', 'y']],
        expiresAt: 1_900_000_000_000,
      },
    };

    function expectRich(payload: Payload | undefined): void {
      expect(payload).toEqual(rich);
      expect(Buffer.isBuffer(payload!.args![3])).toBe(true);
      expect(Buffer.isBuffer((payload!.kwargs!.nested as { bytes: unknown }).bytes)).toBe(true);
      expect(Buffer.isBuffer(payload!.raw)).toBe(true);
      expect(Buffer.isBuffer(payload!.properties!.correlationData)).toBe(true);
    }

    it('round-trips args, kwargs, bytes, raw MQTT bytes and properties through entries, wills and history', async () => {
      const { store } = await openStore();
      await store.write(write('p.rich', rich, { publisherId: 41, will: rich }));
      expectRich((await store.get('p.rich'))?.payload);
      expectRich((await store.find(parseWampPattern('p', 'prefix')))[0]?.payload);
      const [withWill] = await store.willsOf(41);
      expectRich(withWill?.payload);
      expectRich(withWill?.will ?? undefined);
      await store.appendHistory(event(1, { payload: rich }));
      expectRich((await store.history(0, 1))[0]?.payload);
    });

    it.runIf(durable)('round-trips them after a restart too', async () => {
      const { store, reopen } = await openStore();
      await store.write(write('p.rich', rich, { publisherId: 41, will: rich }));
      const again = await reopen();
      expectRich((await again.get('p.rich'))?.payload);
      expectRich((await again.allWills())[0]?.will ?? undefined);
    });
  });

  describe.runIf(durable)('durability', () => {
    it('has every entry, will, event ID and event after a close and reopen', async () => {
      const { store, reopen } = await openStore();
      const ids = await store.reserveEventIds(1000);
      await store.write(write('d.kept', { args: ['kept'] }));
      await store.write(write('d.lock', { kwargs: { owner: 'a' } }, { publisherId: 51, will: null }));
      await store.write(write('d.gone', { args: ['x'] }));
      await store.write(write('d.gone', {}));
      await store.appendHistory(event(ids.first));

      const again = await reopen();
      expect(topicsOf(await again.find(parseWampPattern('d', 'prefix')))).toEqual(['d.kept', 'd.lock']);
      expect(await again.size()).toBe(2);
      expect(topicsOf(await again.willsOf(51))).toEqual(['d.lock']);
      expect((await again.history(0, 10)).map((e) => e.eventId)).toEqual([ids.first]);
      expect((await again.reserveEventIds(1)).first).toBeGreaterThan(ids.reservedUpTo);
    });
  });
});

// Generated values for the `contains` property: JSON values plus bytes, with the values that equality gets
// wrong most easily (0 and -0, '' and false, '1' and 1, [] and {}, NaN).
const leafArbitrary = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>(0, -0, 1, '1', '', false, true, null, Number.NaN, [], {}) },
  fc.integer({ min: -3, max: 3 }),
  fc.string({ maxLength: 3 }),
  fc.double(),
  fc.uint8Array({ maxLength: 3 }).map((bytes) => Buffer.from(bytes)),
);

const { value: valueArbitrary } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArbitrary,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('value'), { maxKeys: 3 }),
  ),
}));

const fieldsArbitrary = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), valueArbitrary, { maxKeys: 4 });

/** Mostly object values (what `contains` is for), sometimes a scalar or a list. */
const storedValueArbitrary: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 4, arbitrary: fieldsArbitrary.map((kwargs) => ({ kwargs })) },
  { weight: 1, arbitrary: fieldsArbitrary.map((value) => ({ args: [value] })) },
  { weight: 1, arbitrary: valueArbitrary.map((value) => ({ args: [value] })) },
  { weight: 1, arbitrary: fc.tuple(valueArbitrary, valueArbitrary).map((args) => ({ args })) },
);

const conditionValueArbitrary = fieldsArbitrary;

/**
 * A condition made from the stored value: for each of its fields, chosen by `picks`, nothing, a deep copy
 * with keys in another order (which should hold), or a look-alike (0 for -0, '' for false, '1' for 1, a
 * Uint8Array for a Buffer... somewhere inside, which should not); plus some generated fields.
 */
function conditionFieldsFrom(stored: Payload, picks: Iterator<number>, extra: Record<string, unknown>): Record<string, unknown> {
  const value = stored.kwargs !== undefined && Object.keys(stored.kwargs).length > 0 ? stored.kwargs : stored.args?.length === 1 ? stored.args[0] : stored.args;
  const fields: Record<string, unknown> = {};
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value)) {
    for (const [field, item] of Object.entries(value)) {
      const pick = picks.next().value as number;
      if (pick === 1) fields[field] = reordered(item);
      else if (pick >= 2) fields[field] = lookAlike(reordered(item), picks);
    }
  }
  for (const [field, item] of Object.entries(extra)) if (picks.next().value === 3) fields[field] = item;
  return fields;
}

/** `value` with one part (chosen by `picks`) replaced by something that looks equal but is not (or, for NaN, is). */
function lookAlike(value: unknown, picks: Iterator<number>): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0) return {};
    const at = (picks.next().value as number) % value.length;
    return value.map((item, i) => (i === at ? lookAlike(item, picks) : item));
  }
  if (Buffer.isBuffer(value)) return new Uint8Array(value);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return [];
    const key = keys[(picks.next().value as number) % keys.length]!;
    return { ...value, [key]: lookAlike((value as Record<string, unknown>)[key], picks) };
  }
  if (typeof value === 'number') return Object.is(value, 0) ? -0 : Object.is(value, -0) ? 0 : Number.isNaN(value) ? Number.NaN : String(value);
  if (typeof value === 'string') return value === '' ? false : value;
  if (value === false) return '';
  if (value === true) return 1;
  return undefined;
}

/** A deep copy (bytes stay bytes) with every object's keys in reverse order. */
function reordered(value: unknown): unknown {
  const copy = deserialize(serialize(value)) as unknown;
  const reverse = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(reverse);
    if (item !== null && typeof item === 'object' && !Buffer.isBuffer(item)) {
      return Object.fromEntries(Object.entries(item).reverse().map(([key, inner]) => [key, reverse(inner)]));
    }
    return item;
  };
  return reverse(copy);
}
