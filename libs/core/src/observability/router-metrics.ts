import type { RealmStore } from '../retained/realm-store.js';
import type { CallSink } from '../router/call.js';
import type { Router } from '../router/router.js';
import type { TrafficCounters } from './traffic-counters.js';

/** The protocols whose wire traffic is metered. */
export type MeteredProtocol = 'wamp' | 'mqtt';

/** What the overflow policy did to a client that does not keep up. */
export type OverflowAction =
  /** A message was not queued: an MQTT session's queue was full (QoS 1/2 over the Receive Maximum). */
  | 'dropped'
  /** The connection was cut: its send buffer passed the bound (`maxBufferedBytes`). */
  | 'disconnected';

/**
 * What the router reports while it works: the hooks the gates, the dealer and the publication pipeline call
 * at the points that count. `NO_METRICS` (the default) does nothing; gates test `enabled` before they compute
 * anything that only a metric needs (the byte size of a text frame), so metrics that are off cost one `if`.
 * `PrometheusMetrics` is the implementation the server uses.
 */
export interface RouterMetrics {
  /** False for `NO_METRICS`: skip the work of measuring. */
  readonly enabled: boolean;
  /** The plain counters behind the metrics (MQTT `$SYS` reads them); undefined when nothing is counted. */
  readonly counters: TrafficCounters | undefined;
  /** Called once by the router these metrics are given to, so that gauges read on scrape can find its state. */
  attach(router: Router): void;
  /** The part of the metrics that belongs to one realm; asked once, when the realm is created. */
  forRealm(realm: string): RealmMetrics;
  /** One message received from a client: its type (WAMP message name, MQTT packet type) and its wire size. */
  received(protocol: MeteredProtocol, type: string, bytes: number): void;
  /** One message sent to a client, as `received`. */
  sent(protocol: MeteredProtocol, type: string, bytes: number): void;
  /** The overflow policy dropped a message or cut a connection. */
  overflow(protocol: MeteredProtocol, action: OverflowAction): void;
}

/** The metrics of one realm (labelled with its name, so the hot path looks nothing up). */
export interface RealmMetrics {
  readonly enabled: boolean;
  /** One publication was delivered as `events` events (one per subscriber session). */
  published(events: number): void;
  /**
   * A call enters the dealer: returns the sink to route it with, which records the call's latency when the
   * caller gets its final RESULT or ERROR (the sink itself when metrics are off).
   */
  timeCall(sink: CallSink): CallSink;
  /** The store the realm should use: `store` itself, or a wrapper that times every operation. */
  measureStore(store: RealmStore): RealmStore;
}

export const NO_REALM_METRICS: RealmMetrics = {
  enabled: false,
  published() {},
  timeCall: (sink) => sink,
  measureStore: (store) => store,
};

/** Metrics off: every hook does nothing. */
export const NO_METRICS: RouterMetrics = {
  enabled: false,
  counters: undefined,
  attach() {},
  forRealm: () => NO_REALM_METRICS,
  received() {},
  sent() {},
  overflow() {},
};
