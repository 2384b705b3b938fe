import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Details, FoxWampModule, Kwargs, WampProcedure } from '@fox-wamp/nestjs';
import {
  autobahn,
  AutobahnClients,
  connectAutobahn,
  deferred,
  rejectionOf,
  type AutobahnClient,
  type AutobahnError,
} from '../support/autobahn-client.js';
import { subscribeEvents } from '../support/autobahn-events.js';
import { registerReducer, type ReducerInput } from '../support/autobahn-reducers.js';
import { until, wampUrlOf } from '../support/nest-app.js';
import { retainedView } from '../support/retained-view.js';
import { seededRandom } from '../support/seeded-random.js';
import { startServer, type RunningServer } from '../support/server-process.js';
import { WampyClients } from '../support/wampy-client.js';

// Reducers (`register(pattern, fn, { reducer: true })`, the seed README's map-reduce): every event published
// on a matching topic goes to the reducer with the topic's retained value; what it returns is the topic's new
// retained value, published to the topic's subscribers. Against the built server, with autobahn (which hides
// INVOCATION.Details.retained; the support helper reads it off the wire), wampy and a Nest app.

let server: RunningServer;
let clients: AutobahnClients;

beforeAll(async () => {
  server = await startServer();
  clients = new AutobahnClients(() => server.wampUrl);
});

afterEach(async () => {
  await clients.closeAll();
});

afterAll(async () => {
  await server.stop();
});

/** Publishes with acknowledge; resolves to the publication ID the router answered with. */
async function publishAcked(client: AutobahnClient, topic: string, kwargs: Record<string, unknown>, args: unknown[] = []): Promise<number> {
  const publication = await client.session.publish(topic, args, kwargs, { acknowledge: true });
  return publication!.id;
}

describe('the seed README example', () => {
  it("keeps each topic's running sum of kwargs.value as its retained value (options.retained + kwargs.value)", async () => {
    const [reducer, publisher, watcher, latecomer] = await clients.connectMany('json', 4);
    const seen: ReducerInput[] = [];
    // The seed's reducer, verbatim: on a topic without a value `retained` is null, and null + 5 is 5.
    await registerReducer(reducer.session, 'reduce.the.key.#', (input) => {
      seen.push(input);
      return (input.retained as number) + (input.kwargs.value as number);
    });
    const { events } = await subscribeEvents(watcher.session, 'reduce.the.key.#');

    for (const [key, value] of [['a', 5], ['b', 1], ['a', 7], ['a', -2], ['b', 10]] as const) {
      await publishAcked(publisher, `reduce.the.key.${key}`, { value });
    }

    expect(seen.map((input) => [input.topic, input.retained, input.kwargs.value])).toEqual([
      ['reduce.the.key.a', null, 5],
      ['reduce.the.key.b', null, 1],
      ['reduce.the.key.a', 5, 7],
      ['reduce.the.key.a', 12, -2],
      ['reduce.the.key.b', 1, 10],
    ]);
    // Subscribers see the values, never the events that went into them.
    const received = await events.waitFor(5);
    expect(received.map((event) => [event.topic, event.args, event.kwargs])).toEqual([
      ['reduce.the.key.a', [5], {}],
      ['reduce.the.key.b', [1], {}],
      ['reduce.the.key.a', [12], {}],
      ['reduce.the.key.a', [10], {}],
      ['reduce.the.key.b', [11], {}],
    ]);
    // A new subscriber with `retained: true` starts from the current values.
    expect(await retainedView(latecomer.session, 'reduce.the.key.#')).toEqual(
      new Map([
        ['reduce.the.key.a', 10],
        ['reduce.the.key.b', 11],
      ]),
    );
  });

  it('answers PUBLISHED with the ID of the publication that carries the new value', async () => {
    const [reducer, publisher, watcher] = await clients.connectMany('json', 3);
    await registerReducer(reducer.session, 'tally.*', (input) => ((input.retained as number | null) ?? 0) + 1);
    const publications: number[] = [];
    await watcher.session.subscribe('tally.*', (_args, _kwargs, details) => publications.push(details.publication));
    const first = await publishAcked(publisher, 'tally.x', {});
    const second = await publishAcked(publisher, 'tally.x', {});
    await until(() => publications.length === 2, 'both values at the watcher');
    expect(publications).toEqual([first, second]);
  });
});

describe('ordering and concurrency', () => {
  it('reduces each topic one event at a time in publication order under 4 concurrent publishers, with exact totals', async () => {
    const reducer = await clients.connect('json');
    const publishers = await clients.connectMany('json', 4);
    const TOPICS = ['order.counter.red', 'order.counter.green', 'order.counter.blue'];
    const PER_TOPIC = 40;
    const CONCURRENCY = 3;
    const random = seededRandom(20240610);
    const busy = new Map<string, number>();
    let maxPerTopic = 0;
    let running = 0;
    let maxRunning = 0;
    const lastSeq = new Map<string, number>();
    const outOfOrder: string[] = [];

    await registerReducer(
      reducer.session,
      'order.counter.*',
      async ({ topic, retained, kwargs }) => {
        busy.set(topic, (busy.get(topic) ?? 0) + 1);
        maxPerTopic = Math.max(maxPerTopic, busy.get(topic)!);
        maxRunning = Math.max(maxRunning, ++running);
        const stream = `${topic} from publisher ${String(kwargs.publisher)}`;
        if ((lastSeq.get(stream) ?? -1) >= (kwargs.seq as number)) outOfOrder.push(`${stream}: ${String(kwargs.seq)}`);
        lastSeq.set(stream, kwargs.seq as number);
        // Answer after a while, so that a router that did not wait would interleave reductions of one topic.
        await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(random() * 3)));
        busy.set(topic, busy.get(topic)! - 1);
        running--;
        const total = (retained as { sum: number; count: number } | null) ?? { sum: 0, count: 0 };
        return new autobahn.Result([], { sum: total.sum + (kwargs.amount as number), count: total.count + 1 });
      },
      { concurrency: CONCURRENCY },
    );

    // Every publisher fires all its events at once: seq i of publisher p adds p * 1000 + i.
    const acknowledged = publishers.flatMap((client, p) =>
      Array.from({ length: PER_TOPIC }, (_, seq) =>
        TOPICS.map((topic) => publishAcked(client, topic, { publisher: p, seq, amount: p * 1000 + seq })),
      ).flat(),
    );
    await Promise.all(acknowledged);

    expect(outOfOrder).toEqual([]);
    expect(maxPerTopic).toBe(1);
    expect(maxRunning).toBeLessThanOrEqual(CONCURRENCY);
    expect(maxRunning).toBeGreaterThan(1);
    const perPublisher = (p: number) => PER_TOPIC * p * 1000 + (PER_TOPIC * (PER_TOPIC - 1)) / 2;
    const sum = [0, 1, 2, 3].reduce((total, p) => total + perPublisher(p), 0);
    const view = await retainedView(reducer.session, 'order.counter.*');
    expect(view).toEqual(new Map(TOPICS.map((topic) => [topic, { sum, count: 4 * PER_TOPIC }])));
  });
});

describe('failures', () => {
  it('leaves the value unchanged when the reducer fails, and reports it to the publisher, as fox.reducer.on_error and in the log', async () => {
    const [reducer, publisher, monitor] = await clients.connectMany('json', 3);
    await registerReducer(reducer.session, 'bank.balance.*', ({ retained, kwargs }) => {
      const balance = ((retained as number | null) ?? 0) + (kwargs.amount as number);
      if (balance < 0) throw new autobahn.Error('app.error.overdrawn', ['the balance would go below 0'], { balance });
      return balance;
    });
    const { events: errors } = await subscribeEvents(monitor.session, 'fox.reducer.on_error');

    await publishAcked(publisher, 'bank.balance.alice', { amount: 10 });
    const refused: AutobahnError = await rejectionOf(publisher.session.publish('bank.balance.alice', [], { amount: -25 }, { acknowledge: true }));
    expect(refused).toMatchObject({ error: 'app.error.overdrawn', args: ['the balance would go below 0'], kwargs: { balance: -15 } });
    expect(await retainedView(monitor.session, 'bank.balance.alice')).toEqual(new Map([['bank.balance.alice', 10]]));
    await publishAcked(publisher, 'bank.balance.alice', { amount: -5 });
    expect(await retainedView(monitor.session, 'bank.balance.alice')).toEqual(new Map([['bank.balance.alice', 5]]));

    // Without acknowledge nobody is waiting for the answer: the meta event and the log still tell.
    publisher.session.publish('bank.balance.alice', [], { amount: -100 });
    const reported = await errors.waitFor(2);
    expect(reported.map((event) => event.args[0])).toEqual([
      {
        topic: 'bank.balance.alice',
        registration: expect.any(Number),
        procedure: 'bank.balance.*',
        error: 'app.error.overdrawn',
        args: ['the balance would go below 0'],
        kwargs: { balance: -15 },
        publisher: publisher.session.id,
      },
      expect.objectContaining({ topic: 'bank.balance.alice', error: 'app.error.overdrawn', kwargs: { balance: -95 } }),
    ]);
    await until(() => /reducer failed.*bank\.balance\.alice/s.test(server.output()), 'the log line of the failed reduction');
    expect(await retainedView(monitor.session, 'bank.balance.alice')).toEqual(new Map([['bank.balance.alice', 5]]));
  });

  it('hands the event being reduced to the next callee when its callee leaves, and keeps the events behind it in order', async () => {
    const [first, second, publisher] = await clients.connectMany('json', 3);
    const firstSaw: ReducerInput[] = [];
    const reducing = deferred();
    // `first` takes every event while it is up, and never answers.
    await registerReducer(
      first.session,
      'relay.total',
      (input) => {
        firstSaw.push(input);
        reducing.resolve();
        return new Promise(() => {});
      },
      { invoke: 'first' },
    );
    const secondSaw: ReducerInput[] = [];
    await registerReducer(
      second.session,
      'relay.total',
      (input) => {
        secondSaw.push(input);
        return ((input.retained as number | null) ?? 0) * 10 + (input.kwargs.digit as number);
      },
      { invoke: 'first' },
    );

    const acknowledged = [1, 2, 3].map((digit) => publishAcked(publisher, 'relay.total', { digit }));
    await reducing.promise;
    await first.drop();
    await Promise.all(acknowledged);

    expect(firstSaw.map((input) => input.kwargs.digit)).toEqual([1]);
    expect(secondSaw.map((input) => [input.retained, input.kwargs.digit])).toEqual([
      [null, 1],
      [1, 2],
      [12, 3],
    ]);
    expect(await retainedView(publisher.session, 'relay.total')).toEqual(new Map([['relay.total', 123]]));
  });

  it('publishes the events still waiting as they were sent, in order, once no reducer is left', async () => {
    const [reducer, publisher, watcher] = await clients.connectMany('json', 3);
    const reducing = deferred();
    await registerReducer(reducer.session, 'orphan.total', () => {
      reducing.resolve();
      return new Promise(() => {});
    });
    const { events } = await subscribeEvents(watcher.session, 'orphan.total');

    const acknowledged = [1, 2, 3].map((n) => publishAcked(publisher, 'orphan.total', { n }));
    await reducing.promise;
    await reducer.drop();
    await Promise.all(acknowledged);
    // Published after the reducer left: a plain event, after the ones that waited.
    await publishAcked(publisher, 'orphan.total', { n: 4 });

    const received = await events.waitFor(4);
    expect(received.map((event) => [event.kwargs, event.retained])).toEqual([
      [{ n: 1 }, false],
      [{ n: 2 }, false],
      [{ n: 3 }, false],
      [{ n: 4 }, false],
    ]);
    expect(await retainedView(watcher.session, 'orphan.total')).toEqual(new Map());
  });
});

describe('what a reducer registration is', () => {
  it('is not a procedure: calls do not reach it, and a procedure of the same URI can be registered beside it', async () => {
    const [owner, caller] = await clients.connectMany('json', 2);
    await registerReducer(owner.session, 'dual.use', () => 'reduced');
    const unreachable = await rejectionOf(caller.session.call('dual.use'));
    expect(unreachable.error).toBe('wamp.error.no_such_procedure');
    // The meta API agrees: no registration a CALL of dual.use would reach.
    expect(await caller.session.call('wamp.registration.match', ['dual.use'])).toBeNull();
    await owner.session.register('dual.use', () => 'called');
    expect(await caller.session.call('dual.use')).toBe('called');
    await publishAcked(caller, 'dual.use', {});
    expect(await retainedView(caller.session, 'dual.use')).toEqual(new Map([['dual.use', 'reduced']]));
  });

  it('refuses when, watch and will on a reduced topic, and leaves other topics alone', async () => {
    const [owner, publisher, watcher] = await clients.connectMany('json', 3);
    await registerReducer(owner.session, 'guarded.*', () => 1);
    for (const options of [{ when: null }, { will: 'x' }, { _when: { a: 1 }, _watch: true }]) {
      const refused = await rejectionOf(publisher.session.publish('guarded.x', [1], {}, { acknowledge: true, ...options }));
      expect(refused.error).toBe('wamp.error.invalid_argument');
    }
    const { events } = await subscribeEvents(watcher.session, 'guarded');
    await publishAcked(publisher, 'guarded', { plain: true });
    expect((await events.waitFor(1))[0]!.kwargs).toEqual({ plain: true });
  });

  it('replaces the value with nothing when the reducer returns an empty result', async () => {
    const [owner, publisher] = await clients.connectMany('json', 2);
    await registerReducer(owner.session, 'shrinking.*', ({ kwargs }) => (kwargs.clear ? new autobahn.Result() : 'kept'));
    await publishAcked(publisher, 'shrinking.one', {});
    expect(await retainedView(publisher.session, 'shrinking.*')).toEqual(new Map([['shrinking.one', 'kept']]));
    await publishAcked(publisher, 'shrinking.one', { clear: true });
    expect(await retainedView(publisher.session, 'shrinking.*')).toEqual(new Map());
  });
});

describe('other clients', () => {
  it("registers with wampy's `_reducer` and reads `details.retained` as the seed README does", async () => {
    const wampy = new WampyClients(server.wampUrl, 'json');
    try {
      const { client } = await wampy.connect();
      await client.register(
        'wampy.sum',
        ({ details, argsDict }) => ({ argsList: [(details.retained as number) + (argsDict!.value as number)] }),
        { match: 'prefix', _reducer: true },
      );
      const publisher = await clients.connect('json');
      await publishAcked(publisher, 'wampy.sum.k', { value: 2 });
      await publishAcked(publisher, 'wampy.sum.k', { value: 40 });
      expect(await retainedView(publisher.session, 'wampy.sum.k')).toEqual(new Map([['wampy.sum.k', 42]]));
    } finally {
      await wampy.closeAll();
    }
  });

  it('serves @WampProcedure(uri, { reducer: true }) in a Nest app, with @Details("retained")', async () => {
    @Injectable()
    class Tallies {
      @WampProcedure('nest.tally.*', { reducer: true })
      count(@Details('retained') retained: { count: number } | null, @Kwargs('by') by: number): { count: number } {
        return { count: (retained?.count ?? 0) + by };
      }
    }
    @Module({ imports: [FoxWampModule.forRoot({ wamp: { port: 0 }, logger: silentLogger })], providers: [Tallies] })
    class TallyApp {}

    const app: INestApplication = await NestFactory.create(TallyApp, { logger: false });
    await app.init();
    const client = await connectAutobahn(wampUrlOf(app), 'json');
    try {
      for (const by of [1, 2, 3]) await publishAcked(client, 'nest.tally.visits', { by });
      expect(await retainedView(client.session, 'nest.tally.visits')).toEqual(new Map([['nest.tally.visits', { count: 6 }]]));
    } finally {
      await client.close();
      await app.close();
    }
  });
});

const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };
