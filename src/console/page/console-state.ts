import type {
  ChangeBatch,
  Counters,
  RealmStats,
  RegistrationLoad,
  RegistrationRow,
  RowKey,
  SessionLoad,
  SessionRow,
  Snapshot,
  Stats,
  SubscriptionRow,
} from './admin-protocol.js';

/** A row's key in the maps below: realm and ID (IDs are unique per realm only). */
export function rowKey(realm: string, id: number): string {
  return `${realm}/${id}`;
}

/**
 * What the console knows of the router: the snapshot, kept current by the change batches, plus the latest
 * sampled loads. Batches that arrive before the snapshot are held and applied after it, in order: each one
 * carries rows as they were when it was sent, so replaying them converges on the router's state.
 */
export class ConsoleState {
  readonly sessions = new Map<string, SessionRow>();
  readonly subscriptions = new Map<string, SubscriptionRow>();
  readonly registrations = new Map<string, RegistrationRow>();
  sessionLoads = new Map<string, SessionLoad>();
  registrationLoads = new Map<string, RegistrationLoad>();
  realmStats: readonly RealmStats[] = [];
  /** Events per second through each subscription (by row key), between the last two stats. */
  topicRates = new Map<string, number>();
  private topicDelivered = new Map<string, number>();
  private statsTime: number | undefined;
  realms: readonly string[] = [];
  consoleRealm = '';
  metrics = false;
  startedAt = 0;
  private held: ChangeBatch[] | undefined = [];

  applySnapshot(snapshot: Snapshot): void {
    this.sessions.clear();
    this.subscriptions.clear();
    this.registrations.clear();
    for (const row of snapshot.sessions) this.sessions.set(rowKey(row.realm, row.session), row);
    for (const row of snapshot.subscriptions) this.subscriptions.set(rowKey(row.realm, row.id), row);
    for (const row of snapshot.registrations) this.registrations.set(rowKey(row.realm, row.id), row);
    this.realms = snapshot.realms;
    this.consoleRealm = snapshot.consoleRealm;
    this.metrics = snapshot.metrics;
    this.startedAt = snapshot.startedAt;
    const held = this.held ?? [];
    this.held = undefined;
    for (const batch of held) this.applyChanges(batch);
  }

  applyChanges(batch: ChangeBatch): void {
    if (this.held !== undefined) {
      this.held.push(batch);
      return;
    }
    const remove = (map: Map<string, unknown>, keys: readonly RowKey[]) => keys.forEach((key) => map.delete(rowKey(key.realm, key.id)));
    remove(this.sessions, batch.sessionsGone);
    remove(this.subscriptions, batch.subscriptionsGone);
    remove(this.registrations, batch.registrationsGone);
    for (const row of batch.sessions) this.sessions.set(rowKey(row.realm, row.session), row);
    for (const row of batch.subscriptions) this.subscriptions.set(rowKey(row.realm, row.id), row);
    for (const row of batch.registrations) this.registrations.set(rowKey(row.realm, row.id), row);
  }

  applyStats(stats: Stats): void {
    const seconds = this.statsTime === undefined ? 0 : (stats.time - this.statsTime) / 1000;
    const rates = new Map<string, number>();
    for (const topic of stats.topics) {
      const key = rowKey(topic.realm, topic.id);
      const before = this.topicDelivered.get(key);
      if (before !== undefined && seconds > 0) rates.set(key, Math.max(0, topic.delivered - before) / seconds);
    }
    this.topicRates = rates;
    this.topicDelivered = new Map(stats.topics.map((topic) => [rowKey(topic.realm, topic.id), topic.delivered]));
    this.statsTime = stats.time;
    this.sessionLoads = new Map(stats.sessions.map((load) => [rowKey(load.realm, load.session), load]));
    this.registrationLoads = new Map(stats.registrations.map((load) => [rowKey(load.realm, load.id), load]));
    this.realmStats = stats.realms;
    this.realms = stats.realms.map((realm) => realm.realm);
  }
}

/** The rates the charts draw, per second. */
export type Rates = Record<keyof Counters, number>;

export interface RatePoint {
  readonly time: number;
  readonly rates: Rates;
}

/** Turns the monotonic counters of successive stats into per-second rates, keeping the last `capacity` points. */
export class RateSeries {
  readonly points: RatePoint[] = [];
  private previous: { time: number; counters: Counters } | undefined;

  constructor(private readonly capacity = 120) {}

  add(time: number, counters: Counters): void {
    const previous = this.previous;
    this.previous = { time, counters };
    if (previous === undefined || time <= previous.time) return;
    const seconds = (time - previous.time) / 1000;
    const rates = {} as Rates;
    for (const field of Object.keys(counters) as (keyof Counters)[]) {
      // A counter that went down (a restarted server behind the same URL) starts over rather than go negative.
      rates[field] = Math.max(0, counters[field] - previous.counters[field]) / seconds;
    }
    this.points.push({ time, rates });
    if (this.points.length > this.capacity) this.points.shift();
  }

  get latest(): Rates | undefined {
    return this.points[this.points.length - 1]?.rates;
  }
}
