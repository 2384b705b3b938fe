import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AutobahnClients,
  Inbox,
  SERIALIZERS,
  deferred,
  rejectionOf,
  withTimeout,
  type AutobahnClient,
  type AutobahnSession,
  type Deferred,
  type Dict,
  type EventDetails,
} from '../support/autobahn-client.js';
import { startServer, type RunningServer } from '../support/server-process.js';

/**
 * Pattern-based subscriptions and registrations, shared registrations and fox-wamp's per-callee
 * `concurrency`, driven by the npm autobahn client against the built server, once per serializer.
 */

let server: RunningServer;
const clients = new AutobahnClients(() => server.wampUrl);

beforeAll(async () => {
  server = await startServer();
});

afterEach(() => clients.closeAll());

afterAll(async () => {
  await server?.stop();
});

/**
 * Subscribes with `options`, publishes to each topic in order from another session, and returns the
 * concrete topics (EVENT details.topic) the subscriber received. The last topic must be one that matches:
 * events from one publisher arrive in order, so once it is in, no other event can still be on its way.
 */
async function topicsReceived(
  subscriber: AutobahnSession,
  publisher: AutobahnSession,
  pattern: string,
  options: Dict,
  topics: readonly string[],
): Promise<string[]> {
  const events = new Inbox<EventDetails>();
  await subscriber.subscribe(pattern, (_args, _kwargs, details) => events.push(details), options);
  for (const topic of topics) await publisher.publish(topic, [topic], {}, { acknowledge: true });
  const last = topics[topics.length - 1]!;
  await events.waitUntil((items) => items.some((details) => details.topic === last), `the event on ${last}`);
  return events.items.map((details) => details.topic);
}

/** Registers `procedure` on each client; each answers with its own name, so a test sees who served a call. */
async function registerNamed(callees: readonly AutobahnClient[], procedure: string, options: Dict): Promise<string[]> {
  const names = callees.map((_, i) => `callee${i + 1}`);
  for (const [i, callee] of callees.entries()) {
    // Sequentially: the order of registration is the order shared-registration policies refer to.
    await callee.session.register(procedure, () => names[i], options);
  }
  return names;
}

async function callRepeatedly(caller: AutobahnSession, procedure: string, times: number): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (let i = 0; i < times; i++) answers.push(await caller.call(procedure));
  return answers;
}

describe.each(SERIALIZERS)('autobahn over %s', (serializer) => {
  describe('pattern-based subscriptions', () => {
    it("match 'prefix' is a string prefix: com.a.em matches com.a.emergency.1 and com.a.em, not com.a.e", async () => {
      const [subscriber, publisher] = await clients.connectMany(serializer, 2);
      const topics = await topicsReceived(subscriber!.session, publisher!.session, 'com.a.em', { match: 'prefix' }, [
        'com.a.e',
        'com.a.emergency.1',
        'com.b.em',
        'com.a.emx',
        'com.a',
        'com.a.em',
      ]);
      expect(topics).toEqual(['com.a.emergency.1', 'com.a.emx', 'com.a.em']);
    });

    it("match 'wildcard': com..c matches com.b.c, not com.b.c.d nor com.c", async () => {
      const [subscriber, publisher] = await clients.connectMany(serializer, 2);
      const topics = await topicsReceived(subscriber!.session, publisher!.session, 'com..c', { match: 'wildcard' }, [
        'com.b.c.d',
        'com.c',
        'org.b.c',
        'com.b.x',
        'com.b.c',
        'com.zz.c',
      ]);
      expect(topics).toEqual(['com.b.c', 'com.zz.c']);
    });

    it('fox-wamp in-URI com.*.c matches exactly one level in place of the *', async () => {
      const [subscriber, publisher] = await clients.connectMany(serializer, 2);
      const topics = await topicsReceived(subscriber!.session, publisher!.session, 'com.*.c', {}, [
        'com.b.c.d',
        'com.c',
        'com.b.x.c',
        'com.b.c',
        'com.y.c',
      ]);
      expect(topics).toEqual(['com.b.c', 'com.y.c']);
    });

    it('fox-wamp in-URI com.# matches com itself and everything below it, nothing else', async () => {
      const [subscriber, publisher] = await clients.connectMany(serializer, 2);
      const topics = await topicsReceived(subscriber!.session, publisher!.session, 'com.#', {}, [
        'com',
        'comx',
        'org.com',
        'com.x',
        'org',
        'com.x.y.z',
      ]);
      expect(topics).toEqual(['com', 'com.x', 'com.x.y.z']);
    });

    it('an exact subscription does not receive events for longer or shorter topics', async () => {
      const [subscriber, publisher] = await clients.connectMany(serializer, 2);
      const topics = await topicsReceived(subscriber!.session, publisher!.session, 'com.a.b', {}, [
        'com.a',
        'com.a.b.c',
        'com.a.bb',
        'com.a.b',
      ]);
      expect(topics).toEqual(['com.a.b']);
    });

    it('two sessions subscribing the same URI with the same match share one subscription id; another match gets another', async () => {
      const [a, b] = await clients.connectMany(serializer, 2);
      const prefixA = await a!.session.subscribe('com.shared', () => {}, { match: 'prefix' });
      const prefixB = await b!.session.subscribe('com.shared', () => {}, { match: 'prefix' });
      const exactB = await b!.session.subscribe('com.shared', () => {});

      expect(prefixA.id).toBe(prefixB.id);
      expect(exactB.id).not.toBe(prefixB.id);
    });

    it('an event matching several subscriptions of one session arrives once per subscription', async () => {
      const [subscriber, publisher] = await clients.connectMany(serializer, 2);
      const events = new Inbox<string>();
      await subscriber!.session.subscribe('com.multi.topic', () => events.push('exact'));
      await subscriber!.session.subscribe('com.multi', () => events.push('prefix'), { match: 'prefix' });
      await subscriber!.session.subscribe('com..topic', () => events.push('wildcard'), { match: 'wildcard' });

      await publisher!.session.publish('com.multi.topic', [], {}, { acknowledge: true });

      expect((await events.waitFor(3)).slice().sort()).toEqual(['exact', 'prefix', 'wildcard']);
    });
  });

  describe('pattern-based registrations', () => {
    it("prefix and wildcard registrations get calls, with the concrete procedure in the invocation details", async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      await callee!.session.register('com.calc', (args, _kwargs, details) => ['prefix', details.procedure, args], {
        match: 'prefix',
      });
      await callee!.session.register('org..add', (args, _kwargs, details) => ['wildcard', details.procedure, args], {
        match: 'wildcard',
      });

      expect(await caller!.session.call('com.calc.add', [1])).toEqual(['prefix', 'com.calc.add', [1]]);
      expect(await caller!.session.call('com.calculator', [2])).toEqual(['prefix', 'com.calculator', [2]]);
      expect(await caller!.session.call('org.x.add', [3])).toEqual(['wildcard', 'org.x.add', [3]]);
      expect((await rejectionOf(caller!.session.call('org.x.y.add'))).error).toBe('wamp.error.no_such_procedure');
      expect((await rejectionOf(caller!.session.call('com.cal'))).error).toBe('wamp.error.no_such_procedure');
    });

    it('precedence: exact over the longest prefix over wildcard (the spec\'s example)', async () => {
      const [exact, shortPrefix, longPrefix, wildcard, caller] = await clients.connectMany(serializer, 5);
      await shortPrefix!.session.register('a1.b2.c3', () => 'prefix a1.b2.c3', { match: 'prefix' });
      await longPrefix!.session.register('a1.b2.c3.d4', () => 'prefix a1.b2.c3.d4', { match: 'prefix' });
      await wildcard!.session.register('a1.b2..d4.e5', () => 'wildcard a1.b2..d4.e5', { match: 'wildcard' });
      await exact!.session.register('a1.b2.c3.d4.e5', () => 'exact');
      const who = (procedure: string) => caller!.session.call(procedure);

      // All four match a1.b2.c3.d4.e5: the exact registration wins.
      expect(await who('a1.b2.c3.d4.e5')).toBe('exact');
      // Both prefixes and the wildcard match: the longer prefix wins, and any prefix beats a wildcard.
      expect(await who('a1.b2.c3.d4.e55')).toBe('prefix a1.b2.c3.d4');
      // Only the shorter prefix matches.
      expect(await who('a1.b2.c3.d98.e74')).toBe('prefix a1.b2.c3');
      // Only the wildcard matches.
      expect(await who('a1.b2.c55.d4.e5')).toBe('wildcard a1.b2..d4.e5');
    });

    it('two sessions registering the same pattern without a shared policy conflict', async () => {
      const [a, b] = await clients.connectMany(serializer, 2);
      await a!.session.register('com.conflict', () => 'a', { match: 'prefix' });
      const error = await rejectionOf(b!.session.register('com.conflict', () => 'b', { match: 'prefix' }));
      expect(error.error).toBe('wamp.error.procedure_already_exists');
      // The same URI under another match policy is another registration.
      await b!.session.register('com.conflict', () => 'b exact');
      expect(await a!.session.call('com.conflict')).toBe('b exact');
      expect(await a!.session.call('com.conflict.more')).toBe('a');
    });
  });

  describe('shared registrations', () => {
    it("invoke 'roundrobin': 6 calls over 3 callees hit each twice, in registration order", async () => {
      const callees = await clients.connectMany(serializer, 3);
      const caller = await clients.connect(serializer);
      const names = await registerNamed(callees, 'com.shared.rr', { invoke: 'roundrobin' });

      expect(await callRepeatedly(caller.session, 'com.shared.rr', 6)).toEqual([...names, ...names]);
    });

    it("invoke 'first' always calls the first callee that registered, 'last' the last one", async () => {
      const callees = await clients.connectMany(serializer, 3);
      const caller = await clients.connect(serializer);
      await registerNamed(callees, 'com.shared.first', { invoke: 'first' });
      await registerNamed(callees, 'com.shared.last', { invoke: 'last' });

      expect(await callRepeatedly(caller.session, 'com.shared.first', 4)).toEqual(Array(4).fill('callee1'));
      expect(await callRepeatedly(caller.session, 'com.shared.last', 4)).toEqual(Array(4).fill('callee3'));
    });

    it("invoke 'first' moves on to the next callee when the first one leaves", async () => {
      const callees = await clients.connectMany(serializer, 3);
      const caller = await clients.connect(serializer);
      await registerNamed(callees, 'com.shared.failover', { invoke: 'first' });

      expect(await caller.session.call('com.shared.failover')).toBe('callee1');
      await callees[0]!.close();
      expect(await caller.session.call('com.shared.failover')).toBe('callee2');
    });

    it("invoke 'random': every answer comes from a registered callee, and over 60 calls more than one answers", async () => {
      const callees = await clients.connectMany(serializer, 3);
      const caller = await clients.connect(serializer);
      const names = await registerNamed(callees, 'com.shared.random', { invoke: 'random' });

      const answers = await Promise.all(Array.from({ length: 60 }, () => caller.session.call('com.shared.random')));

      for (const answer of answers) expect(names).toContain(answer);
      // All 60 from one callee has probability 3 * 3^-60.
      expect(new Set(answers).size).toBeGreaterThan(1);
    });

    it('joining a shared registration with another invocation policy fails with wamp.error.procedure_already_exists', async () => {
      const [a, b, c] = await clients.connectMany(serializer, 3);
      await a!.session.register('com.shared.policy', () => 'a', { invoke: 'roundrobin' });

      const mismatch = await rejectionOf(b!.session.register('com.shared.policy', () => 'b', { invoke: 'random' }));
      expect(mismatch.error).toBe('wamp.error.procedure_already_exists');
      const single = await rejectionOf(c!.session.register('com.shared.policy', () => 'c'));
      expect(single.error).toBe('wamp.error.procedure_already_exists');
      // The matching policy still joins.
      await b!.session.register('com.shared.policy', () => 'b', { invoke: 'roundrobin' });
      expect(await callRepeatedly(c!.session, 'com.shared.policy', 2)).toEqual(['a', 'b']);
    });
  });

  describe('concurrency (fox-wamp register option)', () => {
    /**
     * A callee whose invocations each wait for a manual release, recording when each starts and finishes
     * and how many run at once.
     */
    function gatedEndpoint() {
      const log = new Inbox<string>();
      const releases: Deferred<void>[] = [];
      let running = 0;
      let maxRunning = 0;
      const endpoint = async (args: unknown[]) => {
        const id = String(args[0]);
        running++;
        maxRunning = Math.max(maxRunning, running);
        const release = deferred();
        releases.push(release);
        log.push(`start ${id}`);
        await release.promise;
        running--;
        log.push(`end ${id}`);
        return id;
      };
      return {
        endpoint,
        log,
        get maxRunning() {
          return maxRunning;
        },
        /** Releases the n-th invocation (0-based, in start order) once it has started. */
        async release(n: number) {
          await log.waitUntil(() => releases.length > n, `invocation #${n + 1} to start`);
          releases[n]!.resolve();
        },
      };
    }

    for (const option of ['concurrency', '_concurrency']) {
      it(`${option}: 1 runs one invocation at a time, in the order called (FIFO)`, async () => {
        const [callee, caller] = await clients.connectMany(serializer, 2);
        const gate = gatedEndpoint();
        await callee!.session.register('com.limited', gate.endpoint, { [option]: 1 });

        // The three CALLs leave in this order on one connection; the router queues the two it cannot invoke.
        const results = [1, 2, 3].map((id) => Promise.resolve(caller!.session.call('com.limited', [id])));

        await gate.log.waitFor(1);
        // A round trip on the caller's connection (the router has handled all three CALLs), then one on the
        // callee's (any INVOCATION the router sent has arrived): only now does "not started" mean "held back".
        await rejectionOf(caller!.session.call('com.limited.probe'));
        await rejectionOf(callee!.session.call('com.limited.probe'));
        expect(gate.log.items).toEqual(['start 1']);

        await gate.release(0);
        await gate.log.waitFor(3);
        expect(gate.log.items).toEqual(['start 1', 'end 1', 'start 2']);
        await gate.release(1);
        await gate.release(2);

        expect(await withTimeout(Promise.all(results), 5_000, 'the three results')).toEqual(['1', '2', '3']);
        expect(gate.log.items).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
        expect(gate.maxRunning).toBe(1);
      });
    }

    it('without a concurrency limit all three invocations run at once', async () => {
      const [callee, caller] = await clients.connectMany(serializer, 2);
      const gate = gatedEndpoint();
      await callee!.session.register('com.unlimited', gate.endpoint);

      const results = [1, 2, 3].map((id) => Promise.resolve(caller!.session.call('com.unlimited', [id])));

      await gate.log.waitFor(3);
      expect(gate.maxRunning).toBe(3);
      for (const n of [0, 1, 2]) await gate.release(n);
      expect((await Promise.all(results)).sort()).toEqual(['1', '2', '3']);
    });
  });
});
