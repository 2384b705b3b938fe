import { createRequire } from 'node:module';
import type { TrafficCounters } from '../observability/traffic-counters.js';
import type { Realm } from '../router/realm.js';
import type { Router } from '../router/router.js';
import { MqttPayload } from './mqtt-payload.js';
import { MqttSession } from './mqtt-session.js';
import { LOAD_WINDOWS, LoadAverages, type LoadWindow } from './sys-load-averages.js';

/** The engine's version, as `$SYS/broker/version` tells it. */
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** The `$SYS/broker/load/<name>/...` averages and the counter each one follows. */
const LOADS: ReadonlyArray<readonly [string, (counters: TrafficCounters) => number]> = [
  ['messages/received', (counters) => counters.total('mqtt', 'received').messages],
  ['messages/sent', (counters) => counters.total('mqtt', 'sent').messages],
  ['bytes/received', (counters) => counters.total('mqtt', 'received').bytes],
  ['bytes/sent', (counters) => counters.total('mqtt', 'sent').bytes],
  ['publish/received', (counters) => counters.of('mqtt', 'received', 'publish').messages],
  ['publish/sent', (counters) => counters.of('mqtt', 'sent', 'publish').messages],
  ['publish/dropped', (counters) => counters.overflowCount('mqtt', 'dropped')],
  ['connections', (counters) => counters.of('mqtt', 'received', 'connect').messages],
];

/**
 * The `$SYS` topics Mosquitto clients look for (mosquitto(8), "Broker Status"), as retained messages of each
 * realm that has MQTT sessions. Wildcard subscriptions never match `$` topics (MQTT-4.7.2-1), so only a
 * subscriber that names `$SYS/...` receives them.
 *
 * - Per realm: `clients/connected`, `clients/disconnected` (persistent sessions whose client is away),
 *   `clients/total`, `clients/maximum` (most connected at one update), `messages/inflight`,
 *   `subscriptions/count`, `retained messages/count`.
 * - The router's MQTT traffic since it started, from the same counters as `/metrics` (so only when metrics are
 *   on): `messages/received|sent` (packets of any type), `bytes/received|sent`, `publish/messages/received|sent|
 *   dropped`, `publish/bytes/received|sent`, and the `load/.../1min|5min|15min` averages per minute.
 * - `version`, `uptime` ("N seconds"), `heap/current`, `heap/maximum`.
 *
 * Everything is refreshed every `intervalSeconds` (Mosquitto's `sys_interval`), and the client counts also
 * when a client connects (`publish`). Only values that changed are published again.
 */
export class SysTopics {
  private readonly startedAt = Date.now();
  private readonly timer: NodeJS.Timeout;
  private readonly lastSent = new Map<string, string>();
  private readonly maxConnected = new Map<string, number>();
  private readonly loads = new Map(LOADS.map(([name]) => [name, new LoadAverages()]));
  private maxHeap = 0;

  constructor(
    private readonly router: Router,
    private readonly connectedIn: (realm: Realm) => number,
    intervalSeconds: number,
  ) {
    this.timer = setInterval(() => this.refresh(), intervalSeconds * 1000);
    this.timer.unref();
  }

  /**
   * Publishes the version, the uptime and the client counts where they changed (and everything the first time a
   * realm is seen). Cheap enough to run whenever a client connects; the traffic counters wait for `refresh`.
   */
  publish(): void {
    const uptime = `${Math.floor((Date.now() - this.startedAt) / 1000)} seconds`;
    for (const realm of this.reportedRealms()) {
      this.send(realm, 'version', `fox-wamp ${VERSION}`);
      this.send(realm, 'uptime', uptime);
      this.publishClients(realm);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** The periodic update: everything `publish` sends, the traffic counters, the load averages, the store and heap. */
  private refresh(): void {
    this.publish();
    const counters = this.router.metrics.counters;
    const now = Date.now();
    if (counters !== undefined) for (const [name, read] of LOADS) this.loads.get(name)!.sample(read(counters), now);
    const heap = process.memoryUsage().heapUsed;
    this.maxHeap = Math.max(this.maxHeap, heap);
    for (const realm of this.reportedRealms()) {
      this.send(realm, 'heap/current', String(heap));
      this.send(realm, 'heap/maximum', String(this.maxHeap));
      this.send(realm, 'subscriptions/count', String(realm.broker.subscriptionCount));
      if (counters !== undefined) this.publishTraffic(realm, counters);
      realm.store.size().then(
        (count) => this.send(realm, 'retained messages/count', String(count)),
        () => undefined, // a store that cannot answer now is asked again at the next update
      );
    }
  }

  /** Realms with MQTT clients, and realms that had some (their topics stay up to date). */
  private *reportedRealms(): Iterable<Realm> {
    for (const realm of this.router.realms()) {
      if (this.connectedIn(realm) > 0 || this.lastSent.has(`${realm.name}\u0000version`)) yield realm;
    }
  }

  private publishClients(realm: Realm): void {
    const connected = this.connectedIn(realm);
    let total = 0;
    let inflight = 0;
    for (const session of realm.sessions()) {
      if (!(session.peer instanceof MqttSession)) continue;
      total++;
      inflight += session.peer.inFlight.size;
    }
    const maximum = Math.max(this.maxConnected.get(realm.name) ?? 0, connected);
    this.maxConnected.set(realm.name, maximum);
    this.send(realm, 'clients/connected', String(connected));
    this.send(realm, 'clients/disconnected', String(Math.max(0, total - connected)));
    this.send(realm, 'clients/total', String(total));
    this.send(realm, 'clients/maximum', String(maximum));
    this.send(realm, 'messages/inflight', String(inflight));
  }

  private publishTraffic(realm: Realm, counters: TrafficCounters): void {
    const received = counters.total('mqtt', 'received');
    const sent = counters.total('mqtt', 'sent');
    const publishReceived = counters.of('mqtt', 'received', 'publish');
    const publishSent = counters.of('mqtt', 'sent', 'publish');
    this.send(realm, 'messages/received', String(received.messages));
    this.send(realm, 'messages/sent', String(sent.messages));
    this.send(realm, 'bytes/received', String(received.bytes));
    this.send(realm, 'bytes/sent', String(sent.bytes));
    this.send(realm, 'publish/messages/received', String(publishReceived.messages));
    this.send(realm, 'publish/messages/sent', String(publishSent.messages));
    this.send(realm, 'publish/messages/dropped', String(counters.overflowCount('mqtt', 'dropped')));
    this.send(realm, 'publish/bytes/received', String(publishReceived.bytes));
    this.send(realm, 'publish/bytes/sent', String(publishSent.bytes));
    for (const [name, loads] of this.loads) {
      for (const window of Object.keys(LOAD_WINDOWS) as LoadWindow[]) {
        const average = loads.average(window);
        if (average !== undefined) this.send(realm, `load/${name}/${window}`, average.toFixed(2));
      }
    }
  }

  private send(realm: Realm, name: string, value: string): void {
    const key = `${realm.name}\u0000${name}`;
    if (this.lastSent.get(key) === value) return;
    this.lastSent.set(key, value);
    realm
      .publishTo(undefined, ['$SYS', 'broker', ...name.split('/')], new MqttPayload(Buffer.from(value, 'utf8')), { retain: true })
      .catch(() => this.lastSent.delete(key));
  }
}
