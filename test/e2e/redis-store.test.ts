import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AutobahnClients, refusalReasonOf, rejectionOf, type AutobahnClient, type Dict } from '../support/autobahn-client.js';
import { subscribeEvents } from '../support/autobahn-events.js';
import { MqttTestClients } from '../support/mqtt-client.js';
import { startRedis, type RunningRedis } from '../support/redis-process.js';
import { runServerToExit, startServer, type RunningServer } from '../support/server-process.js';

// The built server on the Redis store (`--store redis://127.0.0.1:PORT`), as users run it: one node of a
// cluster. Retained state written over WAMP and MQTT outlives the server process, wills of sessions that died
// with it are applied once its lease runs out (by whichever node reaps it, here the restarted server), and
// losing Redis is loud (publishes fail, readiness fails, new sessions are refused) until Redis is back.

let redis: RunningRedis;
let prefixCount = 0;
const servers: RunningServer[] = [];
const clientSets: AutobahnClients[] = [];
const mqttSets: MqttTestClients[] = [];

beforeAll(async () => {
  // An append-only file, so that the Redis restart in the last test keeps the data.
  redis = await startRedis({ persistence: 'aof' });
});

afterEach(async () => {
  for (const set of clientSets.splice(0)) await set.closeAll();
  for (const set of mqttSets.splice(0)) await set.closeAll();
  for (const server of servers.splice(0)) await server.stop('SIGKILL');
  if (!redis.running) await redis.restart();
});

afterAll(async () => {
  await redis.stop();
});

/** Keys of their own per test, on the one Redis server. */
function freshStore(): string {
  return `${redis.url}/0?prefix=e2e${++prefixCount}`;
}

async function startRedisServer(store: string): Promise<{ server: RunningServer; clients: AutobahnClients; mqtt: MqttTestClients }> {
  // A short lease: the wills of a killed server fire within 1.5 s.
  const server = await startServer(['--store', store, '--lease-time', '1000']);
  servers.push(server);
  const clients = new AutobahnClients(() => server.wampUrl);
  clientSets.push(clients);
  const mqtt = new MqttTestClients(server.mqttUrl!, 5);
  mqttSets.push(mqtt);
  return { server, clients, mqtt };
}

/** Waits (bounded) until the server has printed a line matching `pattern`. */
async function outputMatching(server: RunningServer, pattern: RegExp, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(server.output())) {
    if (Date.now() > deadline) throw new Error(`the server did not print ${pattern} within ${timeoutMs} ms:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let markerCount = 0;

/** Subscribes with `options` and returns what arrives before a live marker published afterwards (the replay). */
async function replayBeforeMarker(subscriber: AutobahnClient, publisher: AutobahnClient, topic: string, options: Dict) {
  const { events } = await subscribeEvents(subscriber.session, topic, { match: 'prefix', ...options });
  const marker = `marker ${++markerCount}`;
  await publisher.session.publish(`${topic}.marker`, [marker], {}, { acknowledge: true });
  const received = await events.waitUntil((items) => items.some((event) => event.args[0] === marker), 'the live marker', 10_000);
  const markerAt = received.findIndex((event) => event.args[0] === marker);
  return { replayed: received.slice(0, markerAt), marker: received[markerAt]! };
}

describe('the redis store across a server restart', () => {
  it('keeps retained values and MQTT retained bytes, applies the wills of the dead sessions, and continues event IDs', async () => {
    const store = freshStore();
    const first = await startRedisServer(store);
    const [holder, probe] = await first.clients.connectMany('json', 2);
    await holder.session.publish('dur.kept', ['kept'], {}, { acknowledge: true, retain: true });
    await holder.session.publish('dur.lock', [], { owner: 'holder' }, { acknowledge: true, retain: true, when: null, will: null });
    await holder.session.publish('dur.presence', ['online'], {}, { acknowledge: true, retain: true, will: 'offline' });
    // Bytes that are not JSON: an MQTT subscriber must get exactly them back.
    const bytes = Buffer.from([0xff, 0x00, 0x7b, 0x80]);
    const mqttPublisher = await first.mqtt.connect();
    await mqttPublisher.client.publishAsync('mqtt/kept', bytes, { qos: 1, retain: true, properties: { contentType: 'application/octet-stream' } });
    const { replayed: before } = await replayBeforeMarker(probe, holder, 'dur', { retained: true });
    const lastIdBefore = Math.max(...before.map((event) => event.eventId));

    // The process dies without applying any will: the next one must.
    expect(await first.server.stop('SIGKILL')).toBeNull();

    const second = await startRedisServer(store);
    const [reader, publisher] = await second.clients.connectMany('json', 2);
    // The new server's reaper retires the dead one once its lease has run out: its sessions' wills fire then.
    const { events: presence } = await subscribeEvents(reader.session, 'dur.presence', { get_retained: true });
    await presence.waitUntil((items) => items.some((event) => event.args[0] === 'offline'), 'the will of the killed server\'s session', 10_000);
    const { replayed: dur, marker } = await replayBeforeMarker(reader, publisher, 'dur', { retained: true });
    expect(Object.fromEntries(dur.map((event) => [event.topic, event.args[0] ?? event.kwargs]))).toEqual({
      'dur.kept': 'kept',
      'dur.presence': 'offline',
    });
    expect(dur.every((event) => event.retained)).toBe(true);
    expect(marker.eventId).toBeGreaterThan(lastIdBefore);

    const subscriber = await second.mqtt.connect();
    await subscriber.client.subscribeAsync('mqtt/#', { qos: 1 });
    const retained = await subscriber.inbox.waitForMessage('mqtt/kept');
    expect(retained.retain).toBe(true);
    expect(retained.payload.equals(bytes)).toBe(true);
    expect(retained.properties.contentType).toBe('application/octet-stream');

    // The history (an `after` replay) also outlived the process: the writes from before the restart, in order.
    const { replayed: history } = await replayBeforeMarker(reader, publisher, 'dur', { after: 0 });
    const topics = history.map((event) => event.topic);
    expect(topics.slice(0, 3)).toEqual(['dur.kept', 'dur.lock', 'dur.presence']);
    const ids = history.map((event) => event.eventId);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  });

  it('lets a second server see what the first wrote, while both run on the same store', async () => {
    const store = freshStore();
    const a = await startRedisServer(store);
    const b = await startRedisServer(store);
    const [writer] = await a.clients.connectMany('json', 1);
    const [reader, publisher] = await b.clients.connectMany('json', 2);
    await writer.session.publish('shared.cfg', [], { mode: 'fast' }, { acknowledge: true, retain: true });
    const { replayed } = await replayBeforeMarker(reader, publisher, 'shared', { retained: true });
    expect(replayed.map((event) => [event.topic, event.kwargs])).toEqual([['shared.cfg', { mode: 'fast' }]]);
    // `when` is checked in Redis, so the other server's condition sees this server's write.
    const refused = await rejectionOf(publisher.session.publish('shared.cfg', [], { mode: 'slow' }, { acknowledge: true, retain: true, when: null }));
    expect(refused.error).toBe('fox.error.condition_not_met');
  });
});

describe('the redis store when Redis goes away', () => {
  it('fails publishes loudly, reports not ready and refuses new sessions, and works again once Redis is back', async () => {
    const { server, clients } = await startRedisServer(freshStore());
    const [client, listener] = await clients.connectMany('json', 2);
    await client.session.publish('live.before', ['v'], {}, { acknowledge: true, retain: true });

    await redis.kill();
    // In a cluster every publication goes through the engine (that is what orders it for every node).
    const failed = await rejectionOf(client.session.publish('live.k', ['during'], {}, { acknowledge: true, retain: true }));
    expect(failed.error).toBe('fox.error.engine_unavailable');
    const plain = await rejectionOf(client.session.publish('live.plain', ['during'], {}, { acknowledge: true }));
    expect(plain.error).toBe('fox.error.engine_unavailable');
    // The server says why, naming the store (its log and the ERROR travel different pipes: wait for the log).
    await outputMatching(server, /redis store redis:\/\/127\.0\.0\.1:\d+\/0\?prefix=e2e\d+ is unavailable/);
    const notReady = await fetch(`${server.httpUrl}/health/ready`);
    expect(notReady.status).toBe(503);
    expect(JSON.stringify(await notReady.json())).toMatch(/cluster engine/);
    // Liveness stays green (a supervisor must not restart every node while Redis is away) and says why.
    const live = await fetch(`${server.httpUrl}/health`);
    expect(live.status).toBe(200);
    expect(((await live.json()) as { cluster: { healthy: boolean } }).cluster.healthy).toBe(false);
    // A new session would see only this process: it is refused.
    expect(await refusalReasonOf(server.wampUrl, {})).toBe('fox.error.engine_unavailable');
    void listener;

    await redis.restart();
    // The server reconnects (and, if its lease ran out meanwhile, ends its sessions and joins again) on its own.
    const deadline = Date.now() + 15_000;
    while ((await fetch(`${server.httpUrl}/health/ready`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`the server was not ready again within 15 s of the Redis restart:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [writer, reader] = await clients.connectMany('json', 2);
    await writer.session.publish('live.k', ['after'], {}, { acknowledge: true, retain: true });
    const { replayed } = await replayBeforeMarker(reader, writer, 'live', { retained: true });
    expect(Object.fromEntries(replayed.map((event) => [event.topic, event.args[0]]))).toEqual({ 'live.before': 'v', 'live.k': 'after' });
  });

  it('exits with a one-line reason naming the store, and no stack trace, when Redis cannot be reached at startup', async () => {
    const nowhere = await startRedis();
    const url = `${nowhere.url}/0`;
    await nowhere.stop();
    const { code, stderr } = await runServerToExit(['--port', '0', '--mqtt-port', '0', '--store', url]);
    expect(code).toBe(2);
    expect(stderr).not.toMatch(/^\s+at /m);
    // One line, the server's own: the store is connected before anything else starts.
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    const last = stderr.trimEnd();
    expect(last).toMatch(new RegExp(`^fox-wamp: cannot connect to the redis store ${url.replace(/[.?]/g, '\\$&')}: connect ECONNREFUSED`));
  });
});
