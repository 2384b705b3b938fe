import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { CallSink } from '../router/call.js';
import type { Realm } from '../router/realm.js';
import type { Router } from '../router/router.js';
import type { RealmStore } from '../retained/realm-store.js';
import { MeasuredRealmStore, type StoreOperationObserver } from './measured-realm-store.js';
import { FastHistogram, type HistogramChild } from './fast-histogram.js';
import type { MeteredProtocol, OverflowAction, RealmMetrics, RouterMetrics } from './router-metrics.js';
import { TrafficCounters, type Direction } from './traffic-counters.js';

export interface PrometheusMetricsOptions {
  /**
   * The registry to register into. Default: a new one, never prom-client's global registry, so that two
   * routers in one process keep their metrics apart (merge registries with `Registry.merge` to serve both).
   */
  readonly registry?: Registry;
  /** Prefix of every metric name (default `fox_`). */
  readonly prefix?: string;
  /** Also collect prom-client's Node.js process metrics (CPU, memory, event loop lag) into the registry. Default false. */
  readonly processMetrics?: boolean;
  /** Histogram buckets of call latency, in seconds. */
  readonly callBuckets?: readonly number[];
  /** Histogram buckets of store operation latency, in seconds. */
  readonly storeBuckets?: readonly number[];
}

const PROTOCOLS: readonly MeteredProtocol[] = ['wamp', 'mqtt'];
const DIRECTIONS: readonly Direction[] = ['received', 'sent'];
const DEFAULT_CALL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const DEFAULT_STORE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * The router's metrics in a prom-client registry of their own, for a `/metrics` endpoint.
 *
 * Per-message counters are plain numbers (`TrafficCounters`, and per realm in `PrometheusRealmMetrics`) that the
 * registry reads on scrape; latencies go to histograms as they happen; what is a state rather than an event
 * (sessions, send buffers, retained keys, history) is sampled from the router on scrape.
 */
export class PrometheusMetrics implements RouterMetrics {
  readonly enabled = true;
  readonly counters = new TrafficCounters();
  readonly registry: Registry;
  private router: Router | undefined;
  private readonly realms = new Map<string, PrometheusRealmMetrics>();
  private readonly callDuration: FastHistogram;
  private readonly observeStore: StoreOperationObserver;

  constructor(options: PrometheusMetricsOptions = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    const prefix = options.prefix ?? 'fox_';
    const registers = [registry];
    if (options.processMetrics) collectDefaultMetrics({ register: registry });
    // Plain functions below: prom-client calls `collect` with the metric as `this`; the closures reach us.
    const metrics = this;

    new Gauge({
      name: `${prefix}sessions`,
      help: 'Sessions joined to a realm, by realm, protocol and transport',
      labelNames: ['realm', 'protocol', 'transport'],
      registers,
      collect() {
        this.reset();
        for (const realm of metrics.attachedRealms()) {
          const counts = new Map<string, { protocol: string; transport: string; count: number }>();
          for (const session of realm.sessions()) {
            const { protocol, transport } = session.info;
            const key = `${protocol}\u0000${transport}`;
            const entry = counts.get(key);
            if (entry === undefined) counts.set(key, { protocol, transport, count: 1 });
            else entry.count++;
          }
          for (const { protocol, transport, count } of counts.values()) this.set({ realm: realm.name, protocol, transport }, count);
        }
      },
    });

    const trafficCounter = (name: string, help: string, read: (tally: { messages: number; bytes: number }) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['protocol', 'direction', 'type'],
        registers,
        collect() {
          this.reset();
          for (const protocol of PROTOCOLS) {
            for (const direction of DIRECTIONS) {
              for (const [type, tally] of metrics.counters.byType(protocol, direction)) this.inc({ protocol, direction, type }, read(tally));
            }
          }
        },
      });
    trafficCounter(`${prefix}messages_total`, 'Protocol messages received from and sent to clients, by protocol, direction and message type', (tally) => tally.messages);
    trafficCounter(
      `${prefix}wire_bytes_total`,
      'Bytes of those messages on the wire (WebSocket frame payloads, RawSocket frames, MQTT packets), by protocol, direction and message type',
      (tally) => tally.bytes,
    );

    const overflowCounter = (name: string, help: string, action: OverflowAction) =>
      new Counter({
        name,
        help,
        labelNames: ['protocol'],
        registers,
        collect() {
          this.reset();
          for (const protocol of PROTOCOLS) this.inc({ protocol }, metrics.counters.overflowCount(protocol, action));
        },
      });
    overflowCounter(`${prefix}dropped_messages_total`, 'Messages the overflow policy dropped (an MQTT session queue was full)', 'dropped');
    overflowCounter(`${prefix}slow_consumer_disconnects_total`, 'Connections cut because their send buffer passed the bound', 'disconnected');

    const realmCounter = (name: string, help: string, read: (realm: PrometheusRealmMetrics) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['realm'],
        registers,
        collect() {
          this.reset();
          for (const [realm, tallies] of metrics.realms) this.inc({ realm }, read(tallies));
        },
      });
    realmCounter(`${prefix}publications_total`, 'Publications delivered, by realm', (realm) => realm.publications);
    realmCounter(`${prefix}events_delivered_total`, 'Events delivered to subscriber sessions (one per session and subscription), by realm', (realm) => realm.events);
    realmCounter(`${prefix}calls_total`, 'Calls routed to the dealer, by realm', (realm) => realm.calls);

    // Histograms observed per call and per publication (a store operation each): see FastHistogram.
    this.callDuration = new FastHistogram(
      `${prefix}call_duration_seconds`,
      'Time from a CALL reaching the dealer to its final RESULT or ERROR, by realm and outcome',
      ['realm', 'outcome'],
      options.callBuckets ?? DEFAULT_CALL_BUCKETS,
      registers,
    );

    const storeDuration = new FastHistogram(
      `${prefix}store_operation_duration_seconds`,
      'Latency of retained-store operations, by operation',
      ['operation'],
      options.storeBuckets ?? DEFAULT_STORE_BUCKETS,
      registers,
    );
    const storeSeries = new Map<string, HistogramChild>();
    const storeErrors = new Counter({
      name: `${prefix}store_operation_errors_total`,
      help: 'Retained-store operations that failed, by operation',
      labelNames: ['operation'],
      registers,
    });
    this.observeStore = (operation, seconds, failed) => {
      let series = storeSeries.get(operation);
      if (series === undefined) storeSeries.set(operation, (series = storeDuration.child({ operation })));
      series.observe(seconds);
      if (failed) storeErrors.inc({ operation });
    };

    const queueGauge = (name: string, help: string, read: (depth: { bufferedBytes: number; queuedMessages: number }) => number, combine: 'sum' | 'max') =>
      new Gauge({
        name,
        help,
        labelNames: ['protocol'],
        registers,
        collect() {
          this.reset();
          const values = new Map<string, number>();
          for (const realm of metrics.attachedRealms()) {
            for (const session of realm.sessions()) {
              const depth = session.peer.sendQueue?.();
              if (depth === undefined) continue;
              const value = read(depth);
              const previous = values.get(session.info.protocol) ?? 0;
              values.set(session.info.protocol, combine === 'sum' ? previous + value : Math.max(previous, value));
            }
          }
          for (const [protocol, value] of values) this.set({ protocol }, value);
        },
      });
    queueGauge(`${prefix}send_buffer_bytes`, 'Bytes waiting in the send buffers of all sessions, by protocol (sampled on scrape)', (depth) => depth.bufferedBytes, 'sum');
    queueGauge(`${prefix}send_buffer_max_bytes`, 'Bytes waiting in the fullest send buffer of one session, by protocol (sampled on scrape)', (depth) => depth.bufferedBytes, 'max');
    queueGauge(`${prefix}queued_messages`, 'Messages waiting in session queues (MQTT: offline or over the Receive Maximum), by protocol', (depth) => depth.queuedMessages, 'sum');

    const storeGauge = (name: string, help: string, read: (store: RealmStore) => Promise<number> | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['realm'],
        registers,
        async collect() {
          this.reset();
          for (const realm of metrics.attachedRealms()) {
            // A store that cannot answer (a lost connection) leaves its realm out rather than fail the scrape.
            const value = await read(realm.store)?.catch(() => undefined);
            if (value !== undefined) this.set({ realm: realm.name }, value);
          }
        },
      });
    storeGauge(`${prefix}retained_keys`, 'Retained keys, by realm (read from the store on scrape)', (store) => store.size());
    storeGauge(`${prefix}history_events`, 'Events kept in the event history, by realm (read from the store on scrape)', (store) => store.historySize?.());
  }

  /** The content type of `render()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The metrics in the Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  attach(router: Router): void {
    if (this.router !== undefined && this.router !== router) {
      throw new Error('these PrometheusMetrics already serve another router; give each router its own');
    }
    this.router = router;
  }

  forRealm(realm: string): RealmMetrics {
    let metrics = this.realms.get(realm);
    if (metrics === undefined) {
      metrics = new PrometheusRealmMetrics(
        {
          result: this.callDuration.child({ realm, outcome: 'result' }),
          error: this.callDuration.child({ realm, outcome: 'error' }),
        },
        this.observeStore,
      );
      this.realms.set(realm, metrics);
    }
    return metrics;
  }

  received(protocol: MeteredProtocol, type: string, bytes: number): void {
    this.counters.count(protocol, 'received', type, bytes);
  }

  sent(protocol: MeteredProtocol, type: string, bytes: number): void {
    this.counters.count(protocol, 'sent', type, bytes);
  }

  overflow(protocol: MeteredProtocol, action: OverflowAction): void {
    this.counters.countOverflow(protocol, action);
  }

  private attachedRealms(): Iterable<Realm> {
    return this.router?.realms() ?? [];
  }
}

/** One realm's counters and pre-labelled histograms. */
class PrometheusRealmMetrics implements RealmMetrics {
  readonly enabled = true;
  publications = 0;
  events = 0;
  calls = 0;

  constructor(
    private readonly callDuration: { readonly result: HistogramChild; readonly error: HistogramChild },
    private readonly observeStore: StoreOperationObserver,
  ) {}

  published(events: number): void {
    this.publications++;
    this.events += events;
  }

  timeCall(sink: CallSink): CallSink {
    this.calls++;
    const started = performance.now();
    const { result, error } = this.callDuration;
    return {
      result(payload, progress) {
        // A progressive result is not the end of the call; only the final one is timed.
        if (!progress) result.observe((performance.now() - started) / 1000);
        sink.result(payload, progress);
      },
      error(failure) {
        error.observe((performance.now() - started) / 1000);
        sink.error(failure);
      },
    };
  }

  measureStore(store: RealmStore): RealmStore {
    return new MeasuredRealmStore(store, this.observeStore);
  }
}
