import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LocalClient, messageName, PrometheusMetrics, Router, WampWebSocketListener, type Session } from '@fox-wamp/core';
import { autobahn, AutobahnClients } from '../support/autobahn-client.js';
import { subscribeEvents } from '../support/autobahn-events.js';
import { MqttTestClients, uniqueName } from '../support/mqtt-client.js';
import { MetricsScrape } from '../support/prometheus-scrape.js';
import { RawMqttSocket } from '../support/raw-mqtt-socket.js';
import { startServer, type RunningServer } from '../support/server-process.js';
import { WireRecordingWampClient, type WireFrame } from '../support/wire-recording-wamp-client.js';

// `/metrics` of the standalone server, scraped before and after a scripted client: every counter moves by
// exactly what the client did. WAMP tests use realms of their own (auto-realms), so the MQTT `$SYS` updates
// (every second here) never publish into them; the message and byte counters are per protocol, and the tests
// of one file run one after another.

let server: RunningServer;
let wamp: AutobahnClients;
let mqttClients: MqttTestClients;
const rawClients: { terminate(): void }[] = [];

beforeAll(async () => {
  server = await startServer(['--auto-realms', '--mqtt-sys-interval', '1']);
  wamp = new AutobahnClients(() => server.wampUrl);
  mqttClients = new MqttTestClients(server.mqttUrl!, 4);
});

afterEach(async () => {
  for (const client of rawClients.splice(0)) client.terminate();
  await wamp.closeAll();
  await mqttClients.closeAll();
});

afterAll(async () => {
  await server?.stop();
});

function scrape(): Promise<MetricsScrape> {
  return MetricsScrape.of(`${server.httpUrl}/metrics`);
}

function mqttPort(): number {
  return Number(new URL(server.mqttUrl!).port);
}

const wampMessages = (direction: 'received' | 'sent', type: string) => ({ protocol: 'wamp', direction, type });
const mqttMessages = (direction: 'received' | 'sent', type?: string) => ({ protocol: 'mqtt', direction, ...(type === undefined ? {} : { type }) });

describe('/metrics: WAMP', () => {
  it('N acknowledged publishes to two subscribers: publications +N, events +2N, PUBLISH/PUBLISHED/EVENT messages likewise', async () => {
    const realm = 'metrics.pubsub';
    const topic = 'metrics.pubsub.topic';
    const subscribers = [await wamp.connect('json', realm), await wamp.connect('json', realm)];
    const inboxes = await Promise.all(subscribers.map(async (client) => (await subscribeEvents(client.session, topic)).events));
    const publisher = await wamp.connect('json', realm);
    const N = 20;

    const before = await scrape();
    for (let i = 0; i < N; i++) await publisher.session.publish(topic, [i], {}, { acknowledge: true });
    await Promise.all(inboxes.map((inbox) => inbox.waitFor(N)));
    const after = await scrape();

    expect(after.since(before, 'fox_publications_total', { realm })).toBe(N);
    expect(after.since(before, 'fox_events_delivered_total', { realm })).toBe(2 * N);
    expect(after.since(before, 'fox_messages_total', wampMessages('received', 'PUBLISH'))).toBe(N);
    expect(after.since(before, 'fox_messages_total', wampMessages('sent', 'PUBLISHED'))).toBe(N);
    expect(after.since(before, 'fox_messages_total', wampMessages('sent', 'EVENT'))).toBe(2 * N);
    // Nothing else went over the wire meanwhile.
    expect(after.since(before, 'fox_messages_total', { protocol: 'wamp' })).toBe(4 * N);
    expect(after.value('fox_sessions', { realm, protocol: 'wamp', transport: 'websocket' })).toBe(3);
  });

  it('wire bytes in and out are exactly the sizes of the frames a raw client sent and received, by message type', async () => {
    const realm = 'metrics.wire';
    const before = await scrape();
    const client = await WireRecordingWampClient.connect(server.wampUrl);
    rawClients.push(client);
    client.send([1, realm, { roles: { publisher: {}, subscriber: {}, caller: {} } }]);
    await client.next(2);
    client.send([32, 1, {}, 'metrics.wire.topic']);
    await client.next(33);
    // Payloads of different sizes, and the publisher receives its own events.
    for (const [i, payload] of ['a', 'b'.repeat(100), 'ü'.repeat(500)].entries()) {
      client.send([16, 10 + i, { acknowledge: true, exclude_me: false }, 'metrics.wire.topic', [payload]]);
      const answers = [await client.next(), await client.next()];
      expect(answers.map((message) => message[0]).sort()).toEqual([17, 36]);
    }
    client.send([48, 20, {}, 'metrics.wire.nobody', ['x']]);
    await client.next(8);
    client.send([6, {}, 'wamp.close.close_realm']);
    await client.next(6);
    const after = await scrape();

    const expectMetered = (direction: 'received' | 'sent', frames: readonly WireFrame[]) => {
      for (const [code, tally] of WireRecordingWampClient.tally(frames)) {
        const labels = wampMessages(direction, messageName(code)!);
        expect(after.since(before, 'fox_messages_total', labels), `${direction} ${labels.type} messages`).toBe(tally.messages);
        expect(after.since(before, 'fox_wire_bytes_total', labels), `${direction} ${labels.type} bytes`).toBe(tally.bytes);
      }
      const total = frames.reduce((sum, frame) => sum + frame.bytes, 0);
      expect(after.since(before, 'fox_wire_bytes_total', { protocol: 'wamp', direction })).toBe(total);
    };
    // What the client sent, the router received, and the other way round.
    expectMetered('received', client.sent);
    expectMetered('sent', client.received);
  });

  it('calls: counted per realm, with their latency by outcome (RESULT or ERROR)', async () => {
    const realm = 'metrics.rpc';
    const callee = await wamp.connect('json', realm);
    await callee.session.register('metrics.rpc.echo', (args) => args[0]);
    await callee.session.register('metrics.rpc.fail', () => {
      throw new autobahn.Error('app.error.refused', ['no']);
    });
    const caller = await wamp.connect('json', realm);

    const before = await scrape();
    for (let i = 0; i < 3; i++) expect(await caller.session.call('metrics.rpc.echo', [i])).toBe(i);
    for (let i = 0; i < 2; i++) await expect(caller.session.call('metrics.rpc.fail')).rejects.toMatchObject({ error: 'app.error.refused' });
    const after = await scrape();

    expect(after.since(before, 'fox_calls_total', { realm })).toBe(5);
    expect(after.since(before, 'fox_call_duration_seconds_count', { realm, outcome: 'result' })).toBe(3);
    expect(after.since(before, 'fox_call_duration_seconds_count', { realm, outcome: 'error' })).toBe(2);
    expect(after.since(before, 'fox_call_duration_seconds_sum', { realm })).toBeGreaterThan(0);
    expect(after.since(before, 'fox_messages_total', wampMessages('sent', 'INVOCATION'))).toBe(5);
    expect(after.since(before, 'fox_messages_total', wampMessages('received', 'YIELD'))).toBe(3);
  });

  it('retained keys and history size per realm are read from the store, and store writes are timed', async () => {
    const realm = 'metrics.store';
    const publisher = await wamp.connect('json', realm);
    const before = await scrape();
    for (const key of ['a', 'b', 'c']) await publisher.session.publish(`metrics.store.${key}`, [key], {}, { acknowledge: true, retain: true });
    await publisher.session.publish('metrics.store.a', ['again'], {}, { acknowledge: true, retain: true });
    const after = await scrape();

    expect(after.value('fox_retained_keys', { realm })).toBe(3);
    expect(after.value('fox_history_events', { realm })).toBe(4);
    // At least these four (the store histogram is not per realm, and $SYS writes retained values elsewhere).
    expect(after.since(before, 'fox_store_operation_duration_seconds_count', { operation: 'write' })).toBeGreaterThanOrEqual(4);
  });
});

describe('/metrics: MQTT', () => {
  it('QoS 1 publishes: PUBLISH in, PUBACK and PUBLISH out, counted with their exact packet sizes', async () => {
    const topic = uniqueName('metrics/mqtt');
    const subscriber = await RawMqttSocket.connected(mqttPort(), { version: 4 });
    rawClients.push({ terminate: () => subscriber.destroy() });
    subscriber.sendPacket({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] });
    await subscriber.nextPacket('suback');
    const publisher = await mqttClients.connect();
    const publishBytes: number[] = [];
    publisher.client.on('packetsend', (packet: Packet) => {
      if (packet.cmd === 'publish') publishBytes.push(mqttPacket.generate(packet, { protocolVersion: 4 }).length);
    });
    const N = 10;

    const before = await scrape();
    const subscriberBytesBefore = subscriber.bytes.length;
    for (let i = 0; i < N; i++) await publisher.client.publishAsync(topic, `message ${i} ${'x'.repeat(i * 50)}`, { qos: 1 });
    await waitForPublishes(subscriber, N);
    const after = await scrape();

    expect(after.since(before, 'fox_messages_total', mqttMessages('received', 'publish'))).toBe(N);
    expect(after.since(before, 'fox_wire_bytes_total', mqttMessages('received', 'publish'))).toBe(publishBytes.reduce((a, b) => a + b, 0));
    expect(after.since(before, 'fox_messages_total', mqttMessages('sent', 'puback'))).toBe(N);
    // A 3.1.1 PUBACK is 4 bytes: fixed header and packet identifier.
    expect(after.since(before, 'fox_wire_bytes_total', mqttMessages('sent', 'puback'))).toBe(4 * N);
    expect(after.since(before, 'fox_messages_total', mqttMessages('sent', 'publish'))).toBe(N);
    expect(after.since(before, 'fox_wire_bytes_total', mqttMessages('sent', 'publish'))).toBe(subscriber.bytes.length - subscriberBytesBefore);
    expect(after.since(before, 'fox_messages_total', mqttMessages('received'))).toBe(N);
    expect(after.since(before, 'fox_messages_total', mqttMessages('sent'))).toBe(2 * N);
  });

  it('a QoS 1 subscriber that never acknowledges: 256 in flight, 1000 queued, the rest dropped, and $SYS reports the same count', async () => {
    const topic = uniqueName('metrics/stalled');
    // A 3.1.1 client gets 256 messages in flight (the inflight window) and 1000 queued (maxQueuedMessages).
    const inFlight = 256;
    const queued = 1000;
    const beyond = 37;
    const stalled = await RawMqttSocket.connected(mqttPort(), { version: 4 });
    rawClients.push({ terminate: () => stalled.destroy() });
    stalled.sendPacket({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] });
    await stalled.nextPacket('suback');
    const publisher = await mqttClients.connect();

    const before = await scrape();
    // In rounds, so the publisher's own unacknowledged PUBLISHes stay under the router's Receive Maximum.
    const total = inFlight + queued + beyond;
    for (let sent = 0; sent < total; sent += 100) {
      const round = Array.from({ length: Math.min(100, total - sent) }, (_, i) => publisher.client.publishAsync(topic, String(sent + i), { qos: 1 }));
      await Promise.all(round);
    }
    await waitForPublishes(stalled, inFlight);
    const after = await scrape();

    expect(after.since(before, 'fox_dropped_messages_total', { protocol: 'mqtt' })).toBe(beyond);
    expect(after.value('fox_queued_messages', { protocol: 'mqtt' })).toBe(queued);
    expect(after.since(before, 'fox_messages_total', mqttMessages('sent', 'publish'))).toBe(inFlight);

    // $SYS is fed by the same counters: the next update (every second here) carries the scraped values.
    const observer = await mqttClients.connect();
    await observer.client.subscribeAsync(['$SYS/broker/publish/messages/dropped', '$SYS/broker/publish/messages/received', '$SYS/broker/messages/inflight'], { qos: 0 });
    await observer.inbox.waitForMessage('$SYS/broker/publish/messages/dropped', String(after.value('fox_dropped_messages_total', { protocol: 'mqtt' })));
    await observer.inbox.waitForMessage('$SYS/broker/publish/messages/received', String(after.value('fox_messages_total', mqttMessages('received', 'publish'))));
    await observer.inbox.waitForMessage('$SYS/broker/messages/inflight', String(inFlight));
  });
});

describe('PrometheusMetrics in process', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function routerWithListener(maxBufferedBytes: number): Promise<{ router: Router; metrics: PrometheusMetrics; url: string }> {
    const metrics = new PrometheusMetrics();
    const router = new Router({ realms: ['realm1'], metrics });
    const http: Server = createServer();
    const listener = new WampWebSocketListener(router, http, { path: '/ws', maxBufferedBytes, pingIntervalMs: 0 });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    cleanups.push(async () => {
      listener.close();
      http.close();
      await router.close();
    });
    return { router, metrics, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws` };
  }

  it('a WAMP subscriber whose socket is paused is cut at the send-buffer bound, and counted as a slow-consumer disconnect', async () => {
    const { router, metrics, url } = await routerWithListener(256 * 1024);
    const realm = router.getRealm('realm1')!;
    const ws = new WebSocket(url, ['wamp.2.json']);
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
    await once(ws, 'message');
    ws.send(JSON.stringify([32, 1, {}, 'flood']));
    await once(ws, 'message');
    const left = new Promise<Session>((resolve) => realm.onSessionLeave(resolve));
    let gone = false;
    void left.then(() => (gone = true));
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const publisher = new LocalClient(realm);
    const payload = ['x'.repeat(1024)];
    for (let sent = 0; !gone && sent < 200_000; ) {
      for (let i = 0; i < 64; i++, sent++) await publisher.publish('flood', payload);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(gone).toBe(true);
    const scrape = MetricsScrape.parse(await metrics.render());
    expect(scrape.value('fox_slow_consumer_disconnects_total', { protocol: 'wamp' })).toBe(1);
    expect(scrape.value('fox_dropped_messages_total', { protocol: 'wamp' })).toBe(0);
  });

  it('two routers in one process keep their metrics in registries of their own', async () => {
    const first = await routerWithListener(1024 * 1024);
    const second = await routerWithListener(1024 * 1024);
    await new LocalClient(first.router.getRealm('realm1')!).publish('only.first', [1]);
    const [one, two] = await Promise.all([first.metrics.render(), second.metrics.render()]);
    expect(MetricsScrape.parse(one).value('fox_publications_total', { realm: 'realm1' })).toBe(1);
    expect(MetricsScrape.parse(two).value('fox_publications_total', { realm: 'realm1' })).toBe(0);
    // Two registries, not prom-client's global one (there, the second router's metrics would not even register).
    expect(first.metrics.registry).not.toBe(second.metrics.registry);
  });
});

/** Waits until the raw connection has received `count` PUBLISH packets (the check runs whenever a packet arrives). */
async function waitForPublishes(socket: RawMqttSocket, count: number): Promise<void> {
  const publishes = () => socket.packets.filter((packet): packet is IPublishPacket => packet.cmd === 'publish').length;
  await socket.nextPacket('publish', 10_000, () => publishes() >= count);
}
