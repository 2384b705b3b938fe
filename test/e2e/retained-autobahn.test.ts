import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AutobahnClients,
  SERIALIZERS,
  rejectionOf,
  withTimeout,
  type AutobahnClient,
  type AutobahnSession,
  type Dict,
} from '../support/autobahn-client.js';
import { roundTrip, subscribeEvents, type ReceivedEvent } from '../support/autobahn-events.js';
import { startServer, type RunningServer } from '../support/server-process.js';

// The retained state and the synchronization service (DESIGN.md, "Retained state") through autobahn, against
// the built server: retained entries replace each other, replay to new subscribers before live events, the
// `when` / `watch` / `will` mutex, server-side filters, `after` replays, and bad input that costs nothing
// but an error reply.

const MAX_RETAINED_SIZE = 2048;

let server: RunningServer;
const clients = new AutobahnClients(() => server.wampUrl);

beforeAll(async () => {
  server = await startServer(['--max-retained-size', String(MAX_RETAINED_SIZE)]);
});

afterAll(async () => {
  await server?.stop();
});

afterEach(async () => {
  await clients.closeAll();
});

let testCounter = 0;

/** A retained publish that the router acknowledges. */
function retain(session: AutobahnSession, topic: string, args: unknown[] = [], kwargs: Dict = {}, options: Dict = {}) {
  return Promise.resolve(session.publish(topic, args, kwargs, { acknowledge: true, retain: true, ...options }));
}

/**
 * Subscribes with `options` and returns what arrived before a live marker published afterwards on
 * `markerTopic` (which the subscription must match): for a replaying subscription, exactly the replay.
 */
async function replayedBefore(
  subscriber: AutobahnClient,
  publisher: AutobahnClient,
  topic: string,
  options: Dict,
  markerTopic: string,
): Promise<ReceivedEvent[]> {
  const { events } = await subscribeEvents(subscriber.session, topic, options);
  await publisher.session.publish(markerTopic, ['marker'], {}, { acknowledge: true });
  const received = await events.waitUntil((items) => items.some((event) => event.args[0] === 'marker'), 'the live marker');
  const marker = received.findIndex((event) => event.args[0] === 'marker');
  expect(received[marker]!.retained).toBe(false);
  return received.slice(0, marker);
}

describe.each(SERIALIZERS)('retained state through autobahn over %s', (serializer) => {
  /** Topics of this test only: the server and its retained state live for the whole file. */
  let t: (name: string) => string;

  beforeEach(() => {
    const prefix = `ret.${serializer}.t${++testCounter}`;
    t = (name) => `${prefix}.${name}`;
  });

  describe('retained entries', () => {
    it('replaces the whole entry on each retained publish (no merge of kwargs)', async () => {
      const [writer, reader] = await clients.connectMany(serializer, 2);
      await retain(writer.session, t('cfg.one'), [], { x: 1, y: 2 });
      await retain(writer.session, t('cfg.one'), [], { x: 3 });
      const replayed = await replayedBefore(reader, writer, t('cfg.#'), { retained: true }, t('cfg.marker'));
      expect(replayed.map(({ topic, args, kwargs, retained }) => ({ topic, args, kwargs, retained }))).toEqual([
        { topic: t('cfg.one'), args: [], kwargs: { x: 3 }, retained: true },
      ]);
    });

    it('stores and replays the falsy values 0, false and ""', async () => {
      const [writer, reader] = await clients.connectMany(serializer, 2);
      await retain(writer.session, t('falsy.zero'), [0]);
      await retain(writer.session, t('falsy.false'), [false]);
      await retain(writer.session, t('falsy.empty'), ['']);
      const replayed = await replayedBefore(reader, writer, t('falsy.#'), { retained: true }, t('falsy.marker'));
      const byTopic = Object.fromEntries(replayed.map((event) => [event.topic, event.args]));
      expect(byTopic).toEqual({ [t('falsy.zero')]: [0], [t('falsy.false')]: [false], [t('falsy.empty')]: [''] });
      expect(replayed.every((event) => event.retained)).toBe(true);
    });

    it('deletes the entry on a retained publish with no args and no kwargs', async () => {
      const [writer, reader] = await clients.connectMany(serializer, 2);
      await retain(writer.session, t('del.gone'), ['v']);
      await retain(writer.session, t('del.kept'), ['k']);
      await Promise.resolve(writer.session.publish(t('del.gone'), undefined, undefined, { acknowledge: true, retain: true }));
      const replayed = await replayedBefore(reader, writer, t('del.#'), { retained: true }, t('del.marker'));
      expect(replayed.map((event) => [event.topic, event.args])).toEqual([[t('del.kept'), ['k']]]);
    });

    it('sends the stored entries first, flagged retained, then live events, for every spelling of the option', async () => {
      const [writer, ...readers] = await clients.connectMany(serializer, 4);
      await retain(writer.session, t('room.a'), ['first']);
      await retain(writer.session, t('room.b'), ['second']);
      const spellings = [{ retained: true }, { _retained: true }, { get_retained: true }];
      const inboxes = await Promise.all(spellings.map((options, i) => subscribeEvents(readers[i]!.session, t('room.#'), options)));
      await writer.session.publish(t('room.c'), ['live'], {}, { acknowledge: true });
      for (const { events } of inboxes) {
        const received = await events.waitFor(3);
        expect(received.map((event) => [event.topic, event.args[0], event.retained])).toEqual([
          [t('room.a'), 'first', true],
          [t('room.b'), 'second', true],
          [t('room.c'), 'live', false],
        ]);
        // The replayed entries keep the event IDs of their publications; the live one comes later.
        const ids = received.map((event) => event.eventId);
        expect(ids.every((id) => Number.isSafeInteger(id) && id > 0)).toBe(true);
        expect(ids[2]).toBeGreaterThan(Math.max(ids[0]!, ids[1]!));
      }
    });

    it('never sends a subscriber the same publication twice when it writes the topics as it subscribes', async () => {
      const [writer, reader] = await clients.connectMany(serializer, 2);
      // Sent in the same breath as the SUBSCRIBE: the router may apply them after the subscription exists, so
      // they can be live events for it that the replayed snapshot already contains (or not, if the frames
      // arrive apart: then some come live after the replay). Either way: each write at most once, in order,
      // replayed ones first, and the latest value last.
      const writes: [string, number][] = [['x', 1], ['x', 2], ['y', 1], ['x', 3]];
      const acked = writes.map(([key, value]) =>
        Promise.resolve(reader.session.publish(t(`burst.${key}`), [value], {}, { acknowledge: true, retain: true, exclude_me: false })),
      );
      const received = await replayedBefore(reader, writer, t('burst.#'), { retained: true }, t('burst.marker'));
      await Promise.all(acked);
      const ids = received.map((event) => event.eventId);
      expect(new Set(ids).size, `event IDs ${ids.join(', ')}`).toBe(ids.length);
      const firstLive = received.findIndex((event) => !event.retained);
      expect(received.slice(firstLive < 0 ? received.length : firstLive).every((event) => !event.retained)).toBe(true);
      for (const key of ['x', 'y']) {
        const values = received.filter((event) => event.topic === t(`burst.${key}`)).map((event) => event.args[0]);
        const written = writes.filter(([k]) => k === key).map(([, value]) => value);
        // What the subscriber saw of a key is the end of what was written to it.
        expect(written.slice(written.length - values.length), `${key}: ${JSON.stringify(values)}`).toEqual(values);
        expect(values.length).toBeGreaterThan(0);
      }
    });

    it('does not replay stored entries to a subscription without the retained option', async () => {
      const [writer, reader] = await clients.connectMany(serializer, 2);
      await retain(writer.session, t('plain.a'), ['stored']);
      const replayed = await replayedBefore(reader, writer, t('plain.#'), {}, t('plain.marker'));
      expect(replayed).toEqual([]);
    });
  });

  describe('the mutex of `when: null` + `watch` + `will: null`', () => {
    /** The seed's lock: retained, only if absent, waiting until it is, released by the holder's departure. */
    function lock(session: AutobahnSession, topic: string, owner: string) {
      return Promise.resolve(
        session.publish(topic, [], { owner }, { acknowledge: true, retain: true, when: null, will: null, watch: true }),
      );
    }

    it('has exactly one holder at a time and hands over first come, first served as holders leave', async () => {
      const topic = t('myapp.resource');
      const [watcher, a, b, c] = await clients.connectMany(serializer, 4);
      const { events: changes } = await subscribeEvents(watcher.session, topic);

      // What each session saw, in the order it happened; a holder records its release before it leaves.
      const history: string[] = [];
      const acquire = (name: string, client: AutobahnClient) => lock(client.session, topic, name).then(() => history.push(`acquire ${name}`));

      await acquire('a', a);
      // Queue b, then c: each round trip proves the router parked that publish before the next one is sent.
      const bAcquired = acquire('b', b);
      await roundTrip(b.session);
      const cAcquired = acquire('c', c);
      await roundTrip(c.session);
      expect(history).toEqual(['acquire a']);

      history.push('release a');
      await a.close(); // GOODBYE: the will deletes the key, b (first in line) wins
      await withTimeout(bAcquired, 5_000, "b's lock after a left");
      await roundTrip(c.session);
      expect(history).toEqual(['acquire a', 'release a', 'acquire b']);

      history.push('release b');
      await b.drop(); // a lost connection fires the will too
      await withTimeout(cAcquired, 5_000, "c's lock after b was lost");
      expect(history).toEqual(['acquire a', 'release a', 'acquire b', 'release b', 'acquire c']);
      expect(holdersNeverOverlap(history)).toBe(true);

      // The watcher saw every change: each new owner only after the key was deleted.
      const seen = await changes.waitFor(5);
      expect(seen.map((event) => (event.kwargs.owner as string | undefined) ?? 'deleted')).toEqual(['a', 'deleted', 'b', 'deleted', 'c']);
    });

    it('lets racing contenders hold the lock one at a time, each once, when holders unlock by publishing', async () => {
      const topic = t('race.resource');
      const [watcher, ...contenders] = await clients.connectMany(serializer, 6);
      const { events: changes } = await subscribeEvents(watcher.session, topic);
      const history: string[] = [];
      // All contenders send at once; each unlocks (the seed's retained publish with no payload) as soon as it
      // holds the lock, recording the release before the unlock can let anyone else in.
      await Promise.all(
        contenders.map(async (client, i) => {
          await lock(client.session, topic, `c${i}`);
          history.push(`acquire c${i}`);
          history.push(`release c${i}`);
          await client.session.publish(topic, [], undefined, { acknowledge: true, retain: true });
        }),
      );
      expect(holdersNeverOverlap(history)).toBe(true);
      expect(history.filter((line) => line.startsWith('acquire')).sort()).toEqual(contenders.map((_, i) => `acquire c${i}`));
      // The key alternated between one owner and absent.
      const seen = await changes.waitFor(2 * contenders.length);
      await roundTrip(watcher.session);
      expect(seen.map((event) => (event.kwargs.owner === undefined ? 'deleted' : 'held'))).toEqual(contenders.flatMap(() => ['held', 'deleted']));
    });

    it('drops a waiting publish whose session leaves: it never takes the lock', async () => {
      const topic = t('quit.resource');
      const [watcher, holder, quitter, patient] = await clients.connectMany(serializer, 4);
      await lock(holder.session, topic, 'holder');
      let quitterAcquired = false;
      // autobahn leaves an acknowledged publish pending forever when its session closes: no await on this one.
      void lock(quitter.session, topic, 'quitter').then(
        () => (quitterAcquired = true),
        () => {},
      );
      await roundTrip(quitter.session);
      const patientAcquired = lock(patient.session, topic, 'patient');
      await roundTrip(patient.session);
      await quitter.close();
      const { events: changes } = await subscribeEvents(watcher.session, topic);
      await holder.session.publish(topic, [], undefined, { acknowledge: true, retain: true }); // unlock
      await withTimeout(patientAcquired, 5_000, 'the lock for the session still waiting');
      const seen = await changes.waitFor(2);
      await roundTrip(watcher.session);
      expect(seen.map((event) => event.kwargs.owner ?? 'deleted')).toEqual(['deleted', 'patient']);
      expect(quitterAcquired).toBe(false);
    });

    it('delivers a rejected conditional publish to no one, and answers it only when acknowledged', async () => {
      const topic = t('job.state');
      const [watcher, holder, rival] = await clients.connectMany(serializer, 3);
      const { events: changes } = await subscribeEvents(watcher.session, topic);
      await retain(holder.session, topic, [], { owner: 'holder', step: 1 }, { when: null });

      const absentFailed = await rejectionOf(retain(rival.session, topic, [], { owner: 'rival' }, { when: null }));
      expect(absentFailed.error).toBe('fox.error.condition_not_met');
      const fieldsFailed = await rejectionOf(retain(rival.session, topic, [], { owner: 'rival' }, { when: { owner: 'nobody' } }));
      expect(fieldsFailed.error).toBe('fox.error.condition_not_met');
      // Unacknowledged: no reply at all (autobahn would end the session on an ERROR for a request it never
      // expected an answer to, so the round trip below also proves that nothing came back).
      rival.session.publish(topic, [], { owner: 'rival' }, { retain: true, when: null });
      await roundTrip(rival.session);

      // A condition that holds applies.
      await retain(holder.session, topic, [], { owner: 'holder', step: 2 }, { when: { owner: 'holder', step: 1 } });
      const seen = await changes.waitFor(2);
      await roundTrip(watcher.session);
      expect(seen.map((event) => event.kwargs)).toEqual([
        { owner: 'holder', step: 1 },
        { owner: 'holder', step: 2 },
      ]);
    });

    it('applies a will value when its holder leaves, and clears it when another session writes the key', async () => {
      const [watcher, a, b, other] = await clients.connectMany(serializer, 4);
      const { events: status } = await subscribeEvents(watcher.session, t('presence.#'));
      await retain(a.session, t('presence.a'), ['online'], {}, { will: 'offline' });
      await retain(b.session, t('presence.b'), ['online'], {}, { will: 'offline' });
      await retain(other.session, t('presence.b'), ['overwritten']);
      await a.drop();
      await b.close();
      const seen = await status.waitFor(4);
      await roundTrip(watcher.session);
      expect(seen.map((event) => [event.topic, event.args[0]])).toEqual([
        [t('presence.a'), 'online'],
        [t('presence.b'), 'online'],
        [t('presence.b'), 'overwritten'],
        [t('presence.a'), 'offline'],
      ]);
      const reader = await clients.connect(serializer);
      const replayed = await replayedBefore(reader, watcher, t('presence.#'), { retained: true }, t('presence.marker'));
      expect(replayed.map((event) => [event.topic, event.args])).toEqual([
        [t('presence.a'), ['offline']],
        [t('presence.b'), ['overwritten']],
      ]);
    });
  });

  describe('server-side filters', () => {
    it('filters live and replayed events with operators ($gt, $in, $exists) and subset equality', async () => {
      const [publisher, ...subscribers] = await clients.connectMany(serializer, 5);
      await retain(publisher.session, t('s.stored'), [], { type: 'post', temp: 30, kind: 'a', tag: 'x' });
      const filters: Dict[] = [{ temp: { $gt: 20 } }, { kind: { $in: ['a', 'b'] } }, { tag: { $exists: true } }, { type: 'post' }];
      const inboxes = await Promise.all(
        filters.map((filter, i) => subscribeEvents(subscribers[i]!.session, t('s.#'), { filter, retained: true })),
      );
      const values: Dict[] = [
        { temp: 25 },
        { temp: 15, kind: 'b' },
        { kind: 'c', tag: null },
        { type: 'comment', temp: 21 },
        { type: 'post' },
      ];
      for (const [i, kwargs] of values.entries()) {
        await publisher.session.publish(t(`s.v${i}`), [], kwargs, { acknowledge: true });
      }
      // Scalars and lists never match a filter on fields.
      await publisher.session.publish(t('s.scalar'), [25], {}, { acknowledge: true });
      await publisher.session.publish(t('s.list'), [1, 2], {}, { acknowledge: true });
      // The marker passes every filter, so it closes each subscriber's stream.
      await publisher.session.publish(t('s.marker'), [], { temp: 99, kind: 'a', tag: 'm', type: 'post' }, { acknowledge: true });

      const got = await Promise.all(
        inboxes.map(({ events }) =>
          events.waitUntil((items) => items.some((event) => event.topic === t('s.marker')), 'the marker').then((items) => items.map((event) => event.topic)),
        ),
      );
      expect(got).toEqual([
        [t('s.stored'), t('s.v0'), t('s.v3'), t('s.marker')], // temp > 20
        [t('s.stored'), t('s.v1'), t('s.marker')], // kind in [a, b]
        [t('s.stored'), t('s.v2'), t('s.marker')], // tag exists (even as null)
        [t('s.stored'), t('s.v4'), t('s.marker')], // type = post
      ]);
    });

    it('tests a scalar value with an operators-only filter, and accepts the _filter spelling', async () => {
      const [publisher, subscriber] = await clients.connectMany(serializer, 2);
      const { events } = await subscribeEvents(subscriber.session, t('n.#'), { _filter: { $gt: 10 } });
      for (const value of [5, 11, 'x', 42]) await publisher.session.publish(t('n.v'), [value], {}, { acknowledge: true });
      const received = await events.waitFor(2);
      await roundTrip(subscriber.session);
      expect(received.map((event) => event.args[0])).toEqual([11, 42]);
    });
  });

  describe('`after` replays', () => {
    it('replays the history after an event ID, then live events, with no gap and no duplicate', async () => {
      const topic = t('h.topic');
      const [publisher, probe, reader] = await clients.connectMany(serializer, 3);
      const { events: probed } = await subscribeEvents(probe.session, topic);
      const N = 10;
      for (let i = 1; i <= N; i++) await publisher.session.publish(topic, [i], {}, { acknowledge: true });
      const ids = (await probed.waitFor(N)).map((event) => event.eventId);
      for (let i = 1; i < N; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);

      // The reader's own retained publishes, sent in the same breath as its SUBSCRIBE: the router takes them in
      // before the subscription but applies them after it exists, so they are both live events for it and part
      // of the history it replays. Each must arrive once, in order, and then the live one.
      const k = 4;
      const OWN = 20;
      const own = Array.from({ length: OWN }, (_, j) =>
        Promise.resolve(reader.session.publish(t(`h.topic`), [N + 1 + j], {}, { acknowledge: true, retain: true, exclude_me: false })),
      );
      const { events } = await subscribeEvents(reader.session, topic, { after: ids[k - 1] });
      await Promise.all(own);
      await publisher.session.publish(topic, [N + OWN + 1], {}, { acknowledge: true });
      const total = N + OWN + 1 - k;
      const received = await events.waitFor(total);
      await roundTrip(reader.session);
      expect(received.map((event) => event.args[0])).toEqual(Array.from({ length: total }, (_, j) => k + 1 + j));
      expect(received.slice(0, N - k).map((event) => event.eventId)).toEqual(ids.slice(k));
      expect(isIncreasing(received.map((event) => event.eventId))).toBe(true);
      expect(received.every((event) => !event.retained)).toBe(true);
    });

    it('accepts the _after spelling and replays only topics the subscription matches', async () => {
      const [publisher, probe, reader] = await clients.connectMany(serializer, 3);
      const { events: probed } = await subscribeEvents(probe.session, t('mix'), { match: 'prefix' });
      await publisher.session.publish(t('mix.start'), [0], {}, { acknowledge: true });
      const [start] = await probed.waitFor(1);
      await publisher.session.publish(t('mix.a'), ['a1'], {}, { acknowledge: true });
      await publisher.session.publish(t('mix.b'), ['b1'], {}, { acknowledge: true });
      await publisher.session.publish(t('mix.a'), ['a2'], {}, { acknowledge: true });
      const { events } = await subscribeEvents(reader.session, t('mix.a'), { _after: start!.eventId });
      await publisher.session.publish(t('mix.a'), ['a3'], {}, { acknowledge: true });
      const received = await events.waitFor(3);
      await roundTrip(reader.session);
      expect(received.map((event) => event.args[0])).toEqual(['a1', 'a2', 'a3']);
    });
  });

  describe('bad input: an error reply for that request, and nothing else breaks', () => {
    /** Another session can still publish and receive, and `client` itself is still open. */
    async function stillWorks(client: AutobahnClient): Promise<void> {
      const [other, listener] = await clients.connectMany(serializer, 2);
      const { events } = await subscribeEvents(listener.session, t('health'));
      await other.session.publish(t('health'), ['ok'], {}, { acknowledge: true });
      expect((await events.waitFor(1))[0]!.args).toEqual(['ok']);
      await roundTrip(client.session);
      expect(client.connection.isOpen).toBe(true);
    }

    it('answers an object `when` against a scalar stored value with condition_not_met', async () => {
      const client = await clients.connect(serializer);
      await retain(client.session, t('scalar'), [5]);
      const error = await rejectionOf(retain(client.session, t('scalar'), [6], {}, { when: { status: 'x' } }));
      expect(error.error).toBe('fox.error.condition_not_met');
      await stillWorks(client);
    });

    it('answers a `when` that is neither null nor an object, and `watch` without `when`, with invalid_argument', async () => {
      const client = await clients.connect(serializer);
      for (const options of [{ when: 5 }, { when: 'absent' }, { when: [1] }, { watch: true }]) {
        const error = await rejectionOf(retain(client.session, t('badwhen'), ['v'], {}, options));
        expect(error.error, JSON.stringify(options)).toBe('wamp.error.invalid_argument');
      }
      await stillWorks(client);
    });

    it.each([['x'], [-1], [1.5]])('rejects SUBSCRIBE with after: %j as invalid_argument', async (after) => {
      const client = await clients.connect(serializer);
      const error = await rejectionOf(client.session.subscribe(t('after'), () => {}, { after }));
      expect(error.error).toBe('wamp.error.invalid_argument');
      await stillWorks(client);
    });

    it.each([['post'], [5], [[1, 2]], [{ $foo: 1 }], [{ temp: { $nope: 3 } }]])(
      'rejects SUBSCRIBE with filter: %j as invalid_argument',
      async (filter) => {
        const client = await clients.connect(serializer);
        const error = await rejectionOf(client.session.subscribe(t('filter'), () => {}, { filter }));
        expect(error.error).toBe('wamp.error.invalid_argument');
        await stillWorks(client);
      },
    );

    it(`rejects a retained value over --max-retained-size ${MAX_RETAINED_SIZE} as invalid_argument and delivers it to no one`, async () => {
      const [client, watcher] = await clients.connectMany(serializer, 2);
      const { events } = await subscribeEvents(watcher.session, t('big'));
      const error = await rejectionOf(retain(client.session, t('big'), ['x'.repeat(2 * MAX_RETAINED_SIZE)]));
      expect(error.error).toBe('wamp.error.invalid_argument');
      // A value under the limit is fine, and it is the only thing the watcher sees.
      await retain(client.session, t('big'), ['x'.repeat(MAX_RETAINED_SIZE / 4)]);
      await events.waitFor(1);
      await roundTrip(watcher.session);
      expect(events.items.map((event) => (event.args[0] as string).length)).toEqual([MAX_RETAINED_SIZE / 4]);
      // Unacknowledged, the same mistakes get no reply at all (autobahn would end the session on one).
      client.session.publish(t('big'), ['x'.repeat(2 * MAX_RETAINED_SIZE)], {}, { retain: true });
      client.session.publish(t('big'), ['y'], {}, { retain: true, when: 5 });
      await stillWorks(client);
      await roundTrip(watcher.session);
      expect(events.items).toHaveLength(1);
    });
  });
});

function isIncreasing(values: readonly number[]): boolean {
  return values.every((value, i) => i === 0 || value > values[i - 1]!);
}

/** Whether a history of `acquire X` / `release X` lines ever has two holders at once (or a foreign release). */
function holdersNeverOverlap(history: readonly string[]): boolean {
  let holder: string | undefined;
  for (const line of history) {
    const [action, name] = line.split(' ');
    if (action === 'acquire') {
      if (holder !== undefined) return false;
      holder = name;
    } else {
      if (holder !== name) return false;
      holder = undefined;
    }
  }
  return true;
}
