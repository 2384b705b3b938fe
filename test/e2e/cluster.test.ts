import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  autobahn,
  AutobahnClients,
  deferred,
  rejectionOf,
  withTimeout,
  type AutobahnClient,
  type AutobahnSession,
} from '../support/autobahn-client.js';
import { subscribeEvents, type ReceivedEvent } from '../support/autobahn-events.js';
import {
  checkLinearizability,
  describeHistory,
  HistoryRecorder,
  holdIntervals,
  mutexModel,
  overlappingHolds,
  type MutexInput,
} from '../support/linearizability.js';
import { elapse, MqttTestClients, type ConnectedClient } from '../support/mqtt-client.js';
import { eventValue } from '../support/retained-view.js';
import { calleesVisible, startRouterCluster, type RouterCluster } from '../support/router-cluster.js';

// Issue #8, scale-out: three processes of the built server on one redis-server are one router. Real clients
// (autobahn, MQTT.js) attach to DIFFERENT processes and see one realm: publications fan out across processes,
// calls reach callees elsewhere, retained state is shared, the retained-state mutex stays mutually exclusive
// (checked for linearizability), and a process killed with SIGKILL is retired by the others' reaper within
// lease + lease/2: its wills fire once and the calls pending on its callees fail.

const LEASE_MS = 2000;
const NODES = ['n1', 'n2', 'n3'] as const;
type NodeId = (typeof NODES)[number];

let cluster: RouterCluster;
const wampByNode = new Map<NodeId, AutobahnClients>();
const mqttSets: MqttTestClients[] = [];

beforeAll(async () => {
  cluster = await startRouterCluster(NODES, LEASE_MS);
});

afterEach(async () => {
  for (const clients of wampByNode.values()) await clients.closeAll();
  for (const set of mqttSets.splice(0)) await set.closeAll();
  // The kill test leaves a dead process: the next test gets the full cluster again.
  await cluster.restartKilled();
});

afterAll(async () => {
  await cluster?.stop();
});

/** An autobahn session (JSON) on one router process. */
function wampOn(nodeId: NodeId): Promise<AutobahnClient> {
  let clients = wampByNode.get(nodeId);
  if (clients === undefined) wampByNode.set(nodeId, (clients = new AutobahnClients(() => cluster.node(nodeId).wampUrl)));
  return clients.connect('json');
}

/** An MQTT.js 5 client on one router process. */
function mqttOn(nodeId: NodeId, options: Parameters<MqttTestClients['connect']>[0] = {}): Promise<ConnectedClient> {
  const set = new MqttTestClients(cluster.node(nodeId).mqttUrl!, 5);
  mqttSets.push(set);
  return set.connect(options);
}

/** A topic prefix of one test: retained state lives in Redis for the whole file. */
function uniquePrefix(): string {
  return `c${randomBytes(4).toString('hex')}`;
}

/** Publishes and waits for PUBLISHED (the publication is in the engine). */
function publishAcknowledged(session: AutobahnSession, topic: string, args: unknown[], kwargs = {}, options = {}): Promise<{ id: number }> {
  return Promise.resolve(session.publish(topic, args, kwargs, { ...options, acknowledge: true })!);
}

describe('publications across router processes', () => {
  it('a WAMP publisher on n1 reaches an autobahn subscriber on n2 and an MQTT.js subscriber on n3 (a.b ⇄ a/b), every event in order', async () => {
    const p = uniquePrefix();
    const [publisher, wampSubscriber, mqttSubscriber] = await Promise.all([wampOn('n1'), wampOn('n2'), mqttOn('n3')]);
    const { events } = await subscribeEvents(wampSubscriber.session, `${p}.a.b`);
    await mqttSubscriber.client.subscribeAsync(`${p}/a/b`, { qos: 1 });

    const count = 200;
    // Fire and forget: nothing but the engine's order keeps these in sequence.
    for (let i = 0; i < count; i++) publisher.session.publish(`${p}.a.b`, [i]);

    const received = await events.waitFor(count, 10_000);
    const messages = await mqttSubscriber.inbox.waitForCount(count, `${count} MQTT messages`, 10_000);
    const sequence = Array.from({ length: count }, (_, i) => i);
    expect(received.map((event) => event.args[0])).toEqual(sequence);
    expect(messages.map((message) => [message.topic, message.text])).toEqual(sequence.map((i) => [`${p}/a/b`, String(i)]));
    // Event IDs are realm-wide: one increasing sequence, whichever process published.
    const ids = received.map((event) => event.eventId);
    expect(ids.every((id, i) => typeof id === 'number' && (i === 0 || id > ids[i - 1]!))).toBe(true);
  });

  it('an MQTT shared subscription with members on n2 and n3 gets each message of a publisher on n1 exactly once, on both processes', async () => {
    const p = uniquePrefix();
    const [publisher, onTwo, onThree] = await Promise.all([mqttOn('n1'), mqttOn('n2'), mqttOn('n3')]);
    await onTwo.client.subscribeAsync(`$share/workers/${p}/job`, { qos: 1 });
    await onThree.client.subscribeAsync(`$share/workers/${p}/job`, { qos: 1 });
    const all = () => [...onTwo.inbox.messages, ...onThree.inbox.messages].map((message) => message.text);
    // Either inbox may take the arrival that makes the condition true: wait on both.
    const until = (condition: () => boolean, what: string, timeoutMs: number) =>
      Promise.any([onTwo.inbox.waitUntil(condition, what, timeoutMs), onThree.inbox.waitUntil(condition, what, timeoutMs)]);
    // The processes learn of each other's members over Redis pub/sub: probe until a probe lands exactly once.
    for (let probe = 0; ; probe++) {
      await publisher.client.publishAsync(`${p}/job`, `probe ${probe}`, { qos: 1 });
      await until(() => all().includes(`probe ${probe}`), `probe ${probe}`, 5000).catch(() => undefined);
      if (all().filter((text) => text === `probe ${probe}`).length === 1 && probe >= 2) break;
      if (probe > 50) throw new Error(`the shared subscription did not settle: ${JSON.stringify(all())}`);
    }
    const count = 40;
    for (let i = 0; i < count; i++) await publisher.client.publishAsync(`${p}/job`, `job ${i}`, { qos: 1 });
    await until(() => all().filter((text) => text.startsWith('job ')).length >= count, `${count} jobs`, 10_000);
    // A marker after the jobs: anything duplicated would have arrived before it.
    await publisher.client.publishAsync(`${p}/job`, 'marker', { qos: 1 });
    await until(() => all().includes('marker'), 'the marker', 10_000);
    const jobs = all().filter((text) => text.startsWith('job '));
    expect([...jobs].sort()).toEqual(Array.from({ length: count }, (_, i) => `job ${i}`).sort());
    expect(onTwo.inbox.messages.some((message) => message.text.startsWith('job '))).toBe(true);
    expect(onThree.inbox.messages.some((message) => message.text.startsWith('job '))).toBe(true);
  });

  it('an MQTT client resumes its persistent session on another process: its subscription and the messages queued meanwhile come along', async () => {
    const p = uniquePrefix();
    const clientId = `roamer-${p}`;
    const persistent = { clientId, clean: false, properties: { sessionExpiryInterval: 300 } };
    const first = await mqttOn('n2', persistent);
    await first.client.subscribeAsync(`${p}/inbox`, { qos: 1 });
    await first.client.endAsync();
    // While the client is away its session (on n2) keeps its subscription and queues QoS 1 messages.
    const publisher = await mqttOn('n1');
    for (let i = 0; i < 5; i++) await publisher.client.publishAsync(`${p}/inbox`, `queued ${i}`, { qos: 1 });
    // It comes back to another process: n2 hands the session over to n3.
    const back = await mqttOn('n3', persistent);
    expect(back.connack.sessionPresent).toBe(true);
    await back.inbox.waitForCount(5, 'the 5 queued messages', 10_000);
    await publisher.client.publishAsync(`${p}/inbox`, 'live', { qos: 1 });
    const messages = await back.inbox.waitForCount(6, 'the live message after them', 10_000);
    expect(messages.map((message) => message.text)).toEqual(['queued 0', 'queued 1', 'queued 2', 'queued 3', 'queued 4', 'live']);
    await back.client.endAsync();
    // The session left n2: coming back there, the client finds it on n3 and takes it over again.
    const again = await mqttOn('n2', persistent);
    expect(again.connack.sessionPresent).toBe(true);
    await publisher.client.publishAsync(`${p}/inbox`, 'after the second move', { qos: 1 });
    const moved = await again.inbox.waitForCount(1, 'a message after the second move', 10_000);
    expect(moved.map((message) => message.text)).toEqual(['after the second move']);
  });

  it('an MQTT.js publisher on n3 reaches autobahn subscribers on n1 and n2 as args [value]', async () => {
    const p = uniquePrefix();
    const [device, first, second] = await Promise.all([mqttOn('n3'), wampOn('n1'), wampOn('n2')]);
    const atFirst = await subscribeEvents(first.session, `${p}.a.b`);
    const atSecond = await subscribeEvents(second.session, `${p}.a.b`);

    for (let i = 0; i < 20; i++) await device.client.publishAsync(`${p}/a/b`, JSON.stringify({ i }), { qos: 1 });

    for (const { events } of [atFirst, atSecond]) {
      const received = await events.waitFor(20, 10_000);
      expect(received.map((event) => event.args)).toEqual(Array.from({ length: 20 }, (_, i) => [{ i }]));
    }
  });
});

describe('RPC across router processes', () => {
  it('callers on n1 and n3 get results and an application error from an autobahn callee on n2', async () => {
    const p = uniquePrefix();
    const [callee, callerOne, callerThree] = await Promise.all([wampOn('n2'), wampOn('n1'), wampOn('n3')]);
    await callee.session.register(`${p}.add`, (args) => (args[0] as number) + (args[1] as number));
    await callee.session.register(`${p}.withdraw`, (args) => {
      throw new autobahn.Error('app.error.insufficient_funds', ['not enough'], { balance: 1, asked: args[0] });
    });
    // No wait for the registration to be announced: a call that finds no callee reads the cluster's registry first.

    expect(await callerOne.session.call(`${p}.add`, [2, 3])).toBe(5);
    expect(await callerThree.session.call(`${p}.add`, [40, 2])).toBe(42);
    for (const caller of [callerOne, callerThree]) {
      const error = await rejectionOf(caller.session.call(`${p}.withdraw`, [10]));
      expect([error.error, error.args, error.kwargs]).toEqual(['app.error.insufficient_funds', ['not enough'], { balance: 1, asked: 10 }]);
    }
  });

  it('a round-robin registration shared by callees on n2 and n3 gets calls from n1 on both, in turn', async () => {
    const p = uniquePrefix();
    const [onTwo, onThree, caller] = await Promise.all([wampOn('n2'), wampOn('n3'), wampOn('n1')]);
    await onTwo.session.register(`${p}.work`, () => 'n2', { invoke: 'roundrobin' });
    await onThree.session.register(`${p}.work`, () => 'n3', { invoke: 'roundrobin' });
    await calleesVisible(caller.session, `${p}.work`, 2);

    const served: unknown[] = [];
    for (let i = 0; i < 6; i++) served.push(await caller.session.call(`${p}.work`));

    expect(served.filter((node) => node === 'n2'), `served in order: ${served.join(' ')}`).toHaveLength(3);
    expect(served.filter((node) => node === 'n3')).toHaveLength(3);
    // In turn: never the same callee twice in a row.
    expect(served.every((node, i) => i === 0 || node !== served[i - 1])).toBe(true);
  });
});

describe('retained state across router processes', () => {
  it('a value retained over WAMP on n1 and one retained over MQTT on n2 are replayed to new subscribers on n3 (WAMP get_retained, MQTT)', async () => {
    const p = uniquePrefix();
    const [writer, device] = await Promise.all([wampOn('n1'), mqttOn('n2')]);
    await publishAcknowledged(writer.session, `${p}.room.lamp`, [{ on: true }], {}, { retain: true });
    await device.client.publishAsync(`${p}/room/door`, JSON.stringify({ open: false }), { qos: 1, retain: true });

    const reader = await wampOn('n3');
    const { events } = await subscribeEvents(reader.session, `${p}.room`, { match: 'prefix', get_retained: true });
    const replay = await events.waitFor(2);
    expect(new Map(replay.map((event) => [event.topic, [event.retained, eventValue(event)]]))).toEqual(
      new Map([
        [`${p}.room.lamp`, [true, { on: true }]],
        [`${p}.room.door`, [true, { open: false }]],
      ]),
    );

    const mqttReader = await mqttOn('n3');
    await mqttReader.client.subscribeAsync(`${p}/room/#`, { qos: 1 });
    const messages = await mqttReader.inbox.waitForCount(2, 'the two retained messages');
    expect(new Map(messages.map((message) => [message.topic, [message.retain, JSON.parse(message.text)]]))).toEqual(
      new Map([
        [`${p}/room/lamp`, [true, { on: true }]],
        [`${p}/room/door`, [true, { open: false }]],
      ]),
    );
  });
});

/** The lock of the retained state: take the key only if absent, waiting until it is; deleted if the holder goes. */
const ACQUIRE = { retain: true, when: null, watch: true, will: null } as const;

/** The retained value of `topic` as a new subscriber on this session's process sees it (the topic must have one). */
async function readRetained(session: AutobahnSession, topic: string): Promise<unknown> {
  const { subscription, events } = await subscribeEvents(session, topic, { get_retained: true });
  const [replayed] = await events.waitUntil((items) => items.some((event) => event.retained), `the retained value of ${topic}`);
  await subscription.unsubscribe();
  return eventValue(replayed!);
}

describe('the retained-state mutex across router processes', () => {
  it('6 autobahn contenders on 3 processes: the history is linearizable, no two holds overlap, no increment is lost', async () => {
    const p = uniquePrefix();
    const lockTopic = `${p}.lock.x`;
    const counterTopic = `${p}.counter`;
    const contenders = 6;
    const rounds = 10;
    const sessions = await Promise.all(Array.from({ length: contenders }, (_, i) => wampOn(NODES[i % NODES.length]!)));
    const observer = await wampOn('n1');
    const { events: lockEvents } = await subscribeEvents(observer.session, lockTopic);
    await publishAcknowledged(sessions[0]!.session, counterTopic, [0], {}, { retain: true });

    const history = new HistoryRecorder<MutexInput>();
    const contend = async (client: AutobahnClient, name: string) => {
      for (let round = 0; round < rounds; round++) {
        const acquire = history.invoke(name, 'acquire');
        await publishAcknowledged(client.session, lockTopic, [], { owner: name }, ACQUIRE);
        acquire.ok();
        // The work under the lock: a read-modify-write that loses an increment if two hold the lock at once.
        const value = (await readRetained(client.session, counterTopic)) as number;
        await publishAcknowledged(client.session, counterTopic, [value + 1], {}, { retain: true });
        const release = history.invoke(name, 'release');
        await publishAcknowledged(client.session, lockTopic, [], {}, { retain: true }); // empty: deletes the key
        release.ok();
      }
    };
    await withTimeout(
      Promise.all(sessions.map((client, i) => contend(client, `c${i}@${NODES[i % NODES.length]}`))),
      60_000,
      'every contender to finish its rounds',
    );

    const ops = history.history;
    expect(ops).toHaveLength(contenders * rounds * 2);
    const result = checkLinearizability(ops, mutexModel);
    expect(result.linearizable, `not linearizable as a mutex:\n${describeHistory(ops)}`).toBe(true);
    const holds = holdIntervals(ops);
    expect(holds).toHaveLength(contenders * rounds);
    expect(overlappingHolds(holds)).toEqual([]);
    // The lock was contended, so the checks above had work to do: most acquires were parked until another
    // process released (a release was invoked while they waited).
    const releases = ops.filter((o) => o.input === 'release');
    const waited = ops.filter((o) => o.input === 'acquire' && releases.some((r) => r.process !== o.process && o.invokedAt < r.invokedAt && r.invokedAt < o.completedAt!));
    console.log(`cluster mutex: ${ops.length} operations linearizable, ${waited.length} of ${contenders * rounds} acquires waited for another's release`);
    expect(waited.length).toBeGreaterThanOrEqual((contenders * rounds) / 2);
    expect(await readRetained(observer.session, counterTopic)).toBe(contenders * rounds);

    // The engine's own order of the lock key, as a subscriber on n1 saw it: taken and deleted in turn, the
    // owners in the order of the holds.
    const seen = await lockEvents.waitFor(contenders * rounds * 2, 10_000);
    const owners = seen.filter((_, i) => i % 2 === 0).map((event) => (eventValue(event) as { owner: string }).owner);
    expect(seen.filter((_, i) => i % 2 === 1).every((event) => eventValue(event) === undefined)).toBe(true);
    expect(owners).toEqual([...holds].sort((a, b) => a.from - b.from).map((hold) => hold.process));
  });
});

/**
 * Publishes `[0]`, `[1]`, ... with acknowledge, one after another, recording each sequence number once PUBLISHED
 * arrives. Stops at the first failure (recorded) or at `stop()`.
 */
function startAcknowledgedStream(session: AutobahnSession, topic: string) {
  const acknowledged: number[] = [];
  const failures: unknown[] = [];
  let streaming = true;
  const done = (async () => {
    for (let seq = 0; streaming; seq++) {
      try {
        await publishAcknowledged(session, topic, [seq]);
        acknowledged.push(seq);
      } catch (error) {
        failures.push(error);
        return;
      }
    }
  })();
  return {
    acknowledged,
    failures,
    async stop() {
      streaming = false;
      await done;
    },
  };
}

describe('kill -9 of a router process', () => {
  it('loses no acknowledged publication, fires the dead node\'s will exactly once and fails its pending call, within lease + 2 s', async () => {
    const p = uniquePrefix();
    const bound = LEASE_MS + 2000;
    const [publisher, caller, subscriber, willWatcher, holder, callee] = await Promise.all([
      wampOn('n1'),
      wampOn('n1'),
      wampOn('n2'),
      wampOn('n2'),
      wampOn('n3'),
      wampOn('n3'),
    ]);
    const { events: stream } = await subscribeEvents(subscriber.session, `${p}.stream`);
    const { events: presence } = await subscribeEvents(willWatcher.session, `${p}.presence`);

    // The victim's state: a retained key with a will, and an invocation its callee never answers.
    await publishAcknowledged(holder.session, `${p}.presence`, ['here'], {}, { retain: true, will: 'gone' });
    await presence.waitUntil((items) => items.some((event) => event.args[0] === 'here'), "the holder's 'here'");
    const invoked = deferred();
    await callee.session.register(`${p}.never`, () => {
      invoked.resolve();
      return new Promise(() => {});
    });
    const pendingCall = Promise.resolve(caller.session.call(`${p}.never`)).then(
      (result) => ({ settledAt: performance.now(), result, error: undefined }),
      (error: unknown) => ({ settledAt: performance.now(), result: undefined, error: error as { error: string } }),
    );
    await withTimeout(invoked.promise, 5000, 'the invocation to reach the callee on n3');

    const streamer = startAcknowledgedStream(publisher.session, `${p}.stream`);
    let killedAt: number, willAt: number, call: Awaited<typeof pendingCall>;
    try {
      await stream.waitFor(20, 5000); // mid-stream
      killedAt = await cluster.kill('n3');
      willAt = await presence
        .waitUntil((items) => items.some((event) => event.args[0] === 'gone'), "the will 'gone'", bound + 1000)
        .then(() => performance.now());
      call = await withTimeout(pendingCall, bound + 1000, 'the pending call to fail');
      const acknowledgedAtFailure = streamer.acknowledged.length;
      await stream.waitFor(acknowledgedAtFailure + 20, 5000); // the stream goes on past the retirement
    } catch (error) {
      // What the survivors logged (reaps, fencing, engine errors) is the first thing to read when this fails.
      throw new Error(`${(error as Error).message}\n${cluster.outputs(['n1', 'n2'])}`, { cause: error });
    } finally {
      await streamer.stop();
    }
    const { acknowledged, failures } = streamer;

    const willLatency = willAt - killedAt;
    const callLatency = call.settledAt - killedAt;
    console.log(`cluster kill -9: will after ${willLatency.toFixed(0)} ms, call failed after ${callLatency.toFixed(0)} ms, ${acknowledged.length} acknowledged publications`);
    expect(willLatency).toBeGreaterThan(0);
    expect(willLatency).toBeLessThanOrEqual(bound);
    expect(call.error?.error).toBe('wamp.error.canceled');
    expect(callLatency).toBeGreaterThan(0);
    expect(callLatency).toBeLessThanOrEqual(bound);

    // No second will: the reapers of both survivors have run again (a lease's worth of passes) by the time a
    // marker published afterwards comes back. The subject here is time: a will fired twice would come late.
    await elapse(LEASE_MS);
    await publishAcknowledged(publisher.session, `${p}.presence`, ['marker']);
    const presenceSeen = await presence.waitUntil((items) => items.some((event) => event.args[0] === 'marker'), 'the presence marker');
    expect(presenceSeen.map((event: ReceivedEvent) => event.args[0])).toEqual(['here', 'gone', 'marker']);
    expect(await readRetained(willWatcher.session, `${p}.presence`)).toBe('gone');

    // Every publication acknowledged to the publisher reached the subscriber on n2, in order.
    await publishAcknowledged(publisher.session, `${p}.stream`, ['end']);
    const delivered = (await stream.waitUntil((items) => items.some((event) => event.args[0] === 'end'), 'the end of the stream')).map((event) => event.args[0]);
    expect(failures).toEqual([]);
    expect(delivered.slice(0, -1)).toEqual(acknowledged);
    // The survivors kept their own membership throughout (a fenced node would have ended its sessions).
    for (const survivor of ['n1', 'n2']) expect(cluster.node(survivor).output()).not.toContain('lost its cluster lease');
  });
});
