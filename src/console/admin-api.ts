import {
  EMPTY_PAYLOAD,
  ErrorUri,
  levelsOfKey,
  MetaService,
  type MetaProcedure,
  mqttTopicOf,
  parseTopicFilter,
  RouterError,
  valueOf,
  wampUriOf,
  type PrometheusMetrics,
  type Realm,
  type RetainedEntry,
  type Router,
  type Session,
} from '@fox-wamp/core';
import { registrationLoad, registrationRow, sessionLoad, sessionRow, subscriptionRow } from './admin-rows.js';
import type {
  ChangeBatch,
  Counters,
  RealmStats,
  RetainedList,
  RetainedRow,
  RowKey,
  Snapshot,
  Stats,
} from './page/admin-protocol.js';
import { sampleCounters } from './traffic-sample.js';

export interface ConsoleAdminOptions {
  readonly router: Router;
  /** The realm the console joins; the procedures and events live there. */
  readonly realm: Realm;
  /** Who may call the procedures: the console user's session (see `isConsoleUser`). */
  readonly isConsoleUser: (session: Session) => boolean;
  /** The server's metrics, for the rates; undefined with `--no-metrics`. */
  readonly prometheus: PrometheusMetrics | undefined;
  /** How often the stats (rates, queue depths, calls in flight) are sent; default 1000 ms. */
  readonly statsIntervalMs?: number;
}

/** The admin console's procedures and events (see `page/admin-protocol.d.ts` for their shapes). */
export const ADMIN = {
  snapshot: 'fox.admin.snapshot',
  kill: 'fox.admin.kill',
  retainedList: 'fox.admin.retained.list',
  retainedDelete: 'fox.admin.retained.delete',
  onChange: 'fox.admin.on_change',
  onStats: 'fox.admin.on_stats',
} as const;

/** The GOODBYE reason (WAMP) a kicked session gets; MQTT clients get DISCONNECT 0x98, administrative action. */
const KICK_REASON = 'wamp.close.killed';
/** Retained entries one list returns at most. */
const MAX_RETAINED_ROWS = 500;
/** Changes are sent together once they stop coming for this long (a client subscribing 100 topics: one batch). */
const CHANGE_BATCH_DELAY_MS = 50;

/** Keys of pending changes: realm name and ID, as one string. */
const keyOf = (realm: string, id: number) => `${realm}\u0000${id}`;

/**
 * What the admin console sees of the router, served in-process in the console realm: procedures that read
 * and act on every realm (`fox.*` URIs are the router's, so no client can register or publish these), and
 * events of what changes there. The router's own session in the console realm (`MetaService`) is the
 * callee and the publisher, as it is for the `wamp.*` meta API of each realm.
 *
 * Live, without polling: the realms' join, leave and activity hooks mark what changed; the marks are sent
 * as one `on_change` batch of rows read at that moment, so a page applying batches in order converges on
 * the router's state. Only what changes without an event (calls in flight, queue depths) and the traffic
 * counters behind the rates are sampled, once a second, and only while a console is subscribed.
 */
export class ConsoleAdmin {
  private readonly service: MetaService;
  private readonly detachers = new Map<Realm, () => void>();
  private readonly pending = {
    sessions: new Map<string, RowKey>(),
    subscriptions: new Map<string, RowKey>(),
    registrations: new Map<string, RowKey>(),
  };
  private changeTimer: NodeJS.Timeout | undefined;
  private readonly statsTimer: NodeJS.Timeout;
  private sampling = false;
  private readonly startedAt = Date.now();

  constructor(private readonly options: ConsoleAdminOptions) {
    this.service = new MetaService(options.realm);
    this.registerProcedures();
    this.watchNewRealms();
    this.statsTimer = setInterval(() => void this.sendStats(), options.statsIntervalMs ?? 1000);
    this.statsTimer.unref();
  }

  /** Stops the timers and the realm hooks. */
  close(): void {
    clearInterval(this.statsTimer);
    clearTimeout(this.changeTimer);
    for (const detach of this.detachers.values()) detach();
    this.detachers.clear();
  }

  /**
   * Whether a console listens: only the console user can subscribe in the console realm (the server's own
   * in-process sessions there subscribe to nothing), so any subscription there is a console's.
   */
  private get watching(): boolean {
    return this.options.realm.broker.subscriptionCount > 0;
  }

  // --- procedures ---

  private registerProcedures(): void {
    const { router } = this.options;
    this.adminProcedure(ADMIN.snapshot, () => ({ args: [this.snapshot()] }));
    this.adminProcedure(ADMIN.kill, (args) => {
      const realm = realmArgument(router, args[0]);
      const id = args[1];
      const session = typeof id === 'number' ? realm.getSession(id) : undefined;
      if (session === undefined || !this.kickable(session)) {
        throw new RouterError(ErrorUri.noSuchSession, `no session ${JSON.stringify(id)} that can be kicked in realm ${realm.name}`);
      }
      session.peer.close(KICK_REASON, 'kicked from the admin console');
      return {};
    });
    this.adminProcedure(ADMIN.retainedList, async (args) => {
      const realm = realmArgument(router, args[0]);
      const entries = await findRetained(realm, args[1]);
      entries.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
      const list: RetainedList = { entries: entries.slice(0, MAX_RETAINED_ROWS).map(retainedRow), truncated: entries.length > MAX_RETAINED_ROWS };
      return { args: [list] };
    });
    this.adminProcedure(ADMIN.retainedDelete, async (args) => {
      const realm = realmArgument(router, args[0]);
      const key = args[1];
      if (typeof key !== 'string' || key.length === 0) throw new RouterError(ErrorUri.invalidArgument, 'argument 2 (key) must be a retained key');
      // A retained publish without args or kwargs deletes the key (and tells its subscribers, as MQTT's empty
      // retained message does); from the router itself, so the reserved first levels are no obstacle.
      await realm.publishTo(undefined, levelsOfKey(key), EMPTY_PAYLOAD, { retain: true });
      return {};
    });
  }

  /** Registers a procedure that only the console user may call. */
  private adminProcedure(
    uri: string,
    handler: (args: readonly unknown[]) => ReturnType<MetaProcedure>,
  ): void {
    this.service.register(uri, (args, _kwargs, caller) => {
      if (!this.options.isConsoleUser(caller)) throw new RouterError(ErrorUri.notAuthorized, `${uri} is for the admin console's user only`);
      return handler(args);
    });
  }

  private snapshot(): Snapshot {
    this.watchNewRealms();
    const realms = [...this.options.router.realms()];
    return {
      realms: realms.map((realm) => realm.name),
      consoleRealm: this.options.realm.name,
      sessions: realms.flatMap((realm) => [...realm.sessions()].map((session) => sessionRow(session, this.kickable(session)))),
      subscriptions: realms.flatMap((realm) => [...realm.broker.subscriptions()].map((subscription) => subscriptionRow(realm.name, subscription))),
      registrations: realms.flatMap((realm) => [...realm.dealer.registrations()].map((registration) => registrationRow(realm.name, registration))),
      metrics: this.options.prometheus !== undefined,
      startedAt: this.startedAt,
    };
  }

  // --- changes ---

  /** Starts watching the realms that appeared since the last look (auto-realms), and marks what they hold. */
  private watchNewRealms(): void {
    for (const realm of this.options.router.realms()) {
      if (this.detachers.has(realm)) continue;
      this.detachers.set(realm, this.watch(realm));
      for (const session of realm.sessions()) this.mark('sessions', realm.name, session.id);
      for (const subscription of realm.broker.subscriptions()) this.mark('subscriptions', realm.name, subscription.id);
      for (const registration of realm.dealer.registrations()) this.mark('registrations', realm.name, registration.id);
    }
  }

  private watch(realm: Realm): () => void {
    const name = realm.name;
    const onSession = (session: Session) => this.mark('sessions', name, session.id);
    const detachers = [
      realm.onSessionJoin(onSession),
      realm.onSessionLeave(onSession),
      realm.onActivity({
        subscribed: (session, subscription) => {
          this.mark('sessions', name, session.id);
          this.mark('subscriptions', name, subscription.id);
        },
        unsubscribed: (session, subscription) => {
          this.mark('sessions', name, session.id);
          this.mark('subscriptions', name, subscription.id);
        },
        registered: (session, registration) => {
          this.mark('sessions', name, session.id);
          this.mark('registrations', name, registration.id);
        },
        unregistered: (session, registration) => {
          this.mark('sessions', name, session.id);
          this.mark('registrations', name, registration.id);
        },
      }),
    ];
    return () => detachers.forEach((detach) => detach());
  }

  private mark(kind: keyof ConsoleAdmin['pending'], realm: string, id: number): void {
    // Nobody to tell: a console that logs in later starts from a snapshot.
    if (!this.watching) return;
    this.pending[kind].set(keyOf(realm, id), { realm, id });
    this.changeTimer ??= setTimeout(() => this.sendChanges(), CHANGE_BATCH_DELAY_MS);
  }

  /** Sends the rows of everything marked, as it is now (gone if it is gone), and forgets the marks. */
  private sendChanges(): void {
    this.changeTimer = undefined;
    const { sessions, subscriptions, registrations } = this.pending;
    const batch: { -readonly [K in keyof ChangeBatch]: ChangeBatch[K][number][] } = {
      sessions: [],
      sessionsGone: [],
      subscriptions: [],
      subscriptionsGone: [],
      registrations: [],
      registrationsGone: [],
    };
    if (this.watching) {
      const { router } = this.options;
      for (const key of sessions.values()) {
        const session = router.getRealm(key.realm)?.getSession(key.id);
        if (session === undefined || !session.isOpen) batch.sessionsGone.push(key);
        else batch.sessions.push(sessionRow(session, this.kickable(session)));
      }
      for (const key of subscriptions.values()) {
        const subscription = router.getRealm(key.realm)?.broker.getSubscription(key.id);
        if (subscription === undefined) batch.subscriptionsGone.push(key);
        else batch.subscriptions.push(subscriptionRow(key.realm, subscription));
      }
      for (const key of registrations.values()) {
        const registration = router.getRealm(key.realm)?.dealer.getRegistration(key.id);
        if (registration === undefined) batch.registrationsGone.push(key);
        else batch.registrations.push(registrationRow(key.realm, registration));
      }
      this.service.publish(ADMIN.onChange, [batch]);
    }
    sessions.clear();
    subscriptions.clear();
    registrations.clear();
  }

  /**
   * Whether the console may kick a session: not its own (nor another console's), and not one of the server's
   * in-process sessions, which are part of the server itself.
   */
  private kickable(session: Session): boolean {
    const consoleSession = session.realm === this.options.realm && this.options.isConsoleUser(session);
    return session.info.protocol !== 'local' && !consoleSession;
  }

  // --- stats ---

  private async sendStats(): Promise<void> {
    this.watchNewRealms();
    if (!this.watching || this.sampling) return;
    this.sampling = true;
    try {
      this.service.publish(ADMIN.onStats, [await this.stats()]);
    } finally {
      this.sampling = false;
    }
  }

  private async stats(): Promise<Stats> {
    const realms = [...this.options.router.realms()];
    const sample = await sampleCounters(this.options.router, this.options.prometheus);
    const realmStats = await Promise.all(
      realms.map(async (realm): Promise<RealmStats> => {
        // A store that cannot answer (a lost Redis connection) leaves the count out rather than the stats.
        const retainedKeys = await realm.store.size().catch(() => undefined);
        const counters = sample?.byRealm.get(realm.name);
        return {
          realm: realm.name,
          sessions: realm.sessionCount,
          subscriptions: realm.broker.subscriptionCount,
          registrations: realm.dealer.registrationCount,
          ...(retainedKeys === undefined ? {} : { retainedKeys }),
          ...(counters === undefined ? {} : { counters }),
        };
      }),
    );
    const counters: Counters | undefined = sample?.total;
    return {
      time: Date.now(),
      ...(counters === undefined ? {} : { counters }),
      realms: realmStats,
      sessions: realms.flatMap((realm) => [...realm.sessions()].flatMap((session) => sessionLoad(session) ?? [])),
      registrations: realms.flatMap((realm) => [...realm.dealer.registrations()].flatMap((registration) => registrationLoad(realm.name, registration) ?? [])),
      topics: realms.flatMap((realm) => [...realm.broker.subscriptions()].map((subscription) => ({ realm: realm.name, id: subscription.id, delivered: subscription.delivered }))),
    };
  }
}

function realmArgument(router: Router, name: unknown): Realm {
  const realm = typeof name === 'string' ? router.getRealm(name) : undefined;
  if (realm === undefined) throw new RouterError(ErrorUri.noSuchRealm, `no realm ${JSON.stringify(name)}`);
  return realm;
}

/**
 * The retained entries a filter selects: an MQTT topic filter (`a/+/c`, `$SYS/#`) when it has a `/` or a `+`,
 * otherwise a WAMP topic with fox-wamp's `*` (one level) and trailing `#` (the rest); empty or absent: `#`.
 */
function findRetained(realm: Realm, filter: unknown): Promise<RetainedEntry[]> {
  const text = filter === undefined || filter === null || filter === '' ? '#' : filter;
  if (typeof text !== 'string') return Promise.reject(new RouterError(ErrorUri.invalidArgument, 'argument 2 (filter) must be a string'));
  if (text.includes('/') || text.includes('+')) {
    const parsed = parseTopicFilter(text);
    if (parsed === undefined || parsed.shareGroup !== undefined) {
      return Promise.reject(new RouterError(ErrorUri.invalidArgument, `${JSON.stringify(text)} is not an MQTT topic filter`));
    }
    return realm.findRetainedMatching(parsed.pattern);
  }
  try {
    return realm.findRetained(text, 'exact');
  } catch (error) {
    return Promise.reject(error);
  }
}

function retainedRow(entry: RetainedEntry): RetainedRow {
  const levels = levelsOfKey(entry.topic);
  const value = valueOf(entry.payload);
  return {
    topic: wampUriOf(levels),
    mqttTopic: mqttTopicOf(levels),
    key: entry.topic,
    // Bytes as WAMP's JSON serialization writes them ("\0" + base64), whatever the serializer does with a
    // Buffer nested in a row.
    value: value instanceof Uint8Array ? `\u0000${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}` : value,
    publisher: entry.publisherId,
    updatedAt: entry.updatedAt,
    will: entry.will !== undefined,
  };
}
