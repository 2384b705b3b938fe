import { RouterAuth, type AuthOptions } from '../auth/router-auth.js';
import { MemoryStoreProvider } from '../retained/memory-realm-store.js';
import { DEFAULT_HISTORY_RETENTION, type StoreProvider } from '../retained/realm-store.js';
import { NO_METRICS, type RouterMetrics } from '../observability/router-metrics.js';
import { SILENT_LOGGER, type RouterLogger } from './logger.js';
import { Realm, type RealmOptions } from './realm.js';
import { isValidUri } from './uri.js';
import type { Backplane } from '../cluster/backplane.js';

export interface RouterOptions {
  /** Realms that exist from the start. */
  readonly realms?: readonly string[];
  /** Create a realm when a session asks for one that does not exist (default false). */
  readonly autoRealms?: boolean;
  /** Options for every realm. */
  readonly realmOptions?: RealmOptions;
  /** Options of particular realms, over `realmOptions` (e.g. `{ sensors: { uriCheck: 'strict' } }`). */
  readonly perRealm?: Readonly<Record<string, RealmOptions>>;
  /** Where retained state and history live (default: memory). The router closes it on `close()`. */
  readonly store?: StoreProvider;
  readonly logger?: RouterLogger;
  /**
   * Where the router reports traffic, calls, publications and store latency (e.g. `new PrometheusMetrics()`).
   * Absent: off, and the hot path only tests a flag.
   */
  readonly metrics?: RouterMetrics;
  /** Authentication and authorization hooks. Absent: anonymous sessions only, everything allowed. */
  readonly auth?: AuthOptions;
  /**
   * The cluster this router is one process of (`RedisBackplane.connect`): its realms span every process on
   * the same engine. Use it with the store on the same engine. The router closes it on `close()`.
   */
  readonly cluster?: Backplane;
}

/** The router: a set of realms. Protocol gates find realms here; the router itself routes nothing. */
export class Router {
  readonly logger: RouterLogger;
  readonly metrics: RouterMetrics;
  readonly autoRealms: boolean;
  readonly store: StoreProvider;
  readonly auth: RouterAuth;
  readonly cluster: Backplane | undefined;
  private readonly realmsByName = new Map<string, Realm>();
  private readonly realmOptions: RealmOptions;
  private readonly perRealm: Readonly<Record<string, RealmOptions>>;

  constructor(options: RouterOptions = {}) {
    this.logger = options.logger ?? SILENT_LOGGER;
    this.metrics = options.metrics ?? NO_METRICS;
    // Checked first: a misconfiguration fails before a store is opened.
    this.auth = new RouterAuth(options.auth);
    this.autoRealms = options.autoRealms ?? false;
    this.realmOptions = options.realmOptions ?? {};
    this.perRealm = options.perRealm ?? {};
    this.store = options.store ?? new MemoryStoreProvider();
    this.cluster = options.cluster;
    for (const name of options.realms ?? []) this.addRealm(name);
    // Last: metrics that sample the router on scrape attach only to a router that was built.
    this.metrics.attach(this);
  }

  /** Creates a realm (or returns the existing one). Throws on a name that is not a valid URI. */
  addRealm(name: string, options: RealmOptions = { ...this.realmOptions, ...this.perRealm[name] }): Realm {
    const existing = this.realmsByName.get(name);
    if (existing !== undefined) return existing;
    if (!isValidUri(name, 'concrete')) throw new Error(`invalid realm name ${JSON.stringify(name)}`);
    const metrics = this.metrics.forRealm(name);
    const retention = options.history ?? DEFAULT_HISTORY_RETENTION;
    const store = metrics.measureStore(this.store.openRealm(name, retention));
    const realm = new Realm(name, options, this.logger, store, metrics, this.cluster?.openRealm(name, retention));
    this.realmsByName.set(name, realm);
    return realm;
  }

  getRealm(name: string): Realm | undefined {
    return this.realmsByName.get(name);
  }

  /** The realm a joining session asks for: existing, or created when auto-realms is on. */
  resolveRealm(name: string): Realm | undefined {
    return this.realmsByName.get(name) ?? (this.autoRealms ? this.addRealm(name) : undefined);
  }

  realms(): IterableIterator<Realm> {
    return this.realmsByName.values();
  }

  get sessionCount(): number {
    let count = 0;
    for (const realm of this.realmsByName.values()) count += realm.sessionCount;
    return count;
  }

  /** Resolves once every realm has loaded its state (for a durable store: wills from before a restart applied). */
  async ready(): Promise<void> {
    await Promise.all([...this.realmsByName.values()].map((realm) => realm.ready));
  }

  /** Asks every session in every realm to leave with `reason`. */
  closeAll(reason: string, message: string): void {
    for (const realm of this.realmsByName.values()) realm.closeAll(reason, message);
  }

  /** Lets queued publications finish, then closes the store. Sessions should have left first. */
  async close(): Promise<void> {
    await Promise.all([...this.realmsByName.values()].map((realm) => realm.settled().catch(() => undefined)));
    await this.cluster?.close();
    await this.store.close();
  }
}
