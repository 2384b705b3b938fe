import type { PrometheusMetrics, Router } from '@fox-wamp/core';
import type { Counters } from './page/admin-protocol.js';

type RealmCounters = Pick<Counters, 'publications' | 'events' | 'calls'>;

export interface CounterSample {
  readonly total: Counters;
  readonly byRealm: ReadonlyMap<string, RealmCounters>;
}

/** The server's per-realm counters, by their `/metrics` names (the standalone server uses the default prefix). */
const REALM_COUNTERS: Readonly<Record<keyof RealmCounters, string>> = {
  publications: 'fox_publications_total',
  events: 'fox_events_delivered_total',
  calls: 'fox_calls_total',
};

/**
 * Reads the counters behind the console's rates: wire messages and bytes of both protocols from the router's
 * traffic counters, and publications, events and calls per realm from the same metrics `/metrics` serves.
 * Undefined when the router counts nothing (`--no-metrics`).
 */
export async function sampleCounters(router: Router, prometheus: PrometheusMetrics | undefined): Promise<CounterSample | undefined> {
  const traffic = router.metrics.counters;
  if (traffic === undefined || prometheus === undefined) return undefined;
  const byRealm = new Map<string, { publications: number; events: number; calls: number }>();
  for (const [field, name] of Object.entries(REALM_COUNTERS) as [keyof RealmCounters, string][]) {
    const metric = await prometheus.registry.getSingleMetric(name)?.get();
    for (const { labels, value } of metric?.values ?? []) {
      const realm = String(labels.realm);
      const counters = byRealm.get(realm) ?? { publications: 0, events: 0, calls: 0 };
      counters[field] = value;
      byRealm.set(realm, counters);
    }
  }
  const total = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, publications: 0, events: 0, calls: 0 };
  for (const protocol of ['wamp', 'mqtt'] as const) {
    const received = traffic.total(protocol, 'received');
    const sent = traffic.total(protocol, 'sent');
    total.messagesIn += received.messages;
    total.bytesIn += received.bytes;
    total.messagesOut += sent.messages;
    total.bytesOut += sent.bytes;
  }
  for (const counters of byRealm.values()) {
    total.publications += counters.publications;
    total.events += counters.events;
    total.calls += counters.calls;
  }
  return { total, byRealm };
}
