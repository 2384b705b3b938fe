import { DEFAULT_HISTORY_RETENTION, type HistoryRetention, type RealmStore, type RetainedEntry } from '../retained/realm-store.js';
import { compileFilter } from '../retained/retained-value.js';
import { attachMetaApi } from '../meta/meta-api.js';
import { MetaService } from '../meta/meta-service.js';
import { HIDDEN_LEVEL, reachesHiddenTopics } from '../reduce/hidden-topics.js';
import { RealmTables } from '../reduce/realm-tables.js';
import { Reducers } from '../reduce/reducers.js';
import { NO_REALM_METRICS, type RealmMetrics } from '../observability/router-metrics.js';
import { Broker } from './broker.js';
import type { Call, CallSink } from './call.js';
import { Dealer, type InvocationAnswer } from './dealer.js';
import { ErrorUri, RouterError } from './errors.js';
import { randomId } from './ids.js';
import type { RouterLogger } from './logger.js';
import type { CallOptions, CancelMode, PublishOptions, RegisterOptions, SubscribeOptions } from './options.js';
import type { Payload } from './payload.js';
import { PublicationPipeline } from './publication-pipeline.js';
import type { RealmActivityListener } from './realm-activity.js';
import type { Registration } from './registration.js';
import { Session, type SessionInfo, type SessionPeer } from './session.js';
import type { Subscription, SubscriptionFilter, SubscriptionSpec } from './subscription.js';
import { topicKey, topicKeyOfUri, type TopicLevels } from './topic.js';
import { parseWampPattern, uriUseFor, type MatchPolicy, type TopicPattern } from './topic-pattern.js';
import { isValidUri, type UriCheck } from './uri.js';
import type { ClusterSessionInfo, NodeMessage, RealmBackplane } from '../cluster/backplane.js';
import { ClusterCalls } from '../cluster/cluster-calls.js';
import { ClusterPublications } from '../cluster/cluster-publications.js';
import { ClusterShares } from '../cluster/cluster-shares.js';

export interface RealmOptions {
  /** `loose` (default) or `strict` URI checks for this realm. */
  readonly uriCheck?: UriCheck;
  /** Calls that may wait per registration when all callees are busy (default 1000). */
  readonly maxQueuedCalls?: number;
  /** Event history kept for `after` replays (default: 1000 events, one hour). */
  readonly history?: HistoryRetention;
  /** Largest retained payload in bytes (default 256 KiB). */
  readonly maxRetainedSize?: number;
  /**
   * The realm's information schema (JSON, see `parseInformationSchema`): its tables become topics served by
   * the aggregate engine (`reduce/realm-tables.ts`). Absent: none, unless defined at runtime.
   */
  readonly schema?: unknown;
}

export type SessionListener = (session: Session) => void;

/** A publication topic that passed the realm's URI check: its key, its levels, whether it is the router's. */
interface CheckedTopic {
  readonly key: string;
  readonly levels: TopicLevels;
  readonly reserved: boolean;
}

/** How many checked publication topics a realm keeps (all are dropped at once when full: a cache, not a record). */
const CHECKED_TOPICS = 4096;

/**
 * A realm: one routing and administrative domain with its own broker, dealer, sessions and retained
 * state. This is the API every gate uses (and the Nest module through an in-process session): it
 * validates URIs and options, applies the realm's rules and hands the work to the broker, the dealer or
 * the publication pipeline. Errors are thrown (or rejected) as `RouterError`.
 */
export class Realm {
  readonly broker = new Broker();
  readonly dealer: Dealer;
  /**
   * The router's own procedures (the reserved `wamp.*` meta API), apart from `dealer`: they are not
   * registrations of the realm, and no client may register there.
   */
  readonly routerDealer = new Dealer({ maxQueuedCalls: 1000 });
  readonly uriCheck: UriCheck;
  /** Resolves once the realm's state is loaded (event IDs reserved, leftover wills applied). */
  readonly ready: Promise<void>;
  /** Reducer registrations at work: events of reduced topics go through them. */
  readonly reducers: Reducers;
  /** The aggregate engine's tables: publications on their topics are rows. */
  readonly tables: RealmTables;
  private readonly pipeline: PublicationPipeline;
  /** Set when the realm spans several router processes (a backplane): RPC across them. */
  private readonly clusterCalls: ClusterCalls | undefined;
  private readonly clusterPublications: ClusterPublications | undefined;
  private readonly sessionsById = new Map<number, Session>();
  private readonly checkedTopics = new Map<string, CheckedTopic>();
  private readonly joinListeners = new Set<SessionListener>();
  private readonly leaveListeners = new Set<SessionListener>();
  private readonly activityListeners = new Set<RealmActivityListener>();
  /** Who takes node messages of a type other than RPC's (the MQTT gate: session hand-over). */
  private readonly nodeMessageHandlers = new Map<NodeMessage['type'], (message: NodeMessage) => void>();

  constructor(
    readonly name: string,
    options: RealmOptions,
    readonly logger: RouterLogger,
    readonly store: RealmStore,
    /** Where the realm reports publications and calls (the router's metrics; default off). */
    readonly metrics: RealmMetrics = NO_REALM_METRICS,
    /** The cluster this realm spans (`--store redis://...`); absent: this process alone. */
    readonly backplane?: RealmBackplane,
  ) {
    this.uriCheck = options.uriCheck ?? 'loose';
    this.dealer = new Dealer({ maxQueuedCalls: options.maxQueuedCalls ?? 1000 });
    this.pipeline = new PublicationPipeline(
      name,
      this.broker,
      store,
      { history: options.history ?? DEFAULT_HISTORY_RETENTION, maxRetainedSize: options.maxRetainedSize ?? 256 * 1024 },
      logger,
      metrics,
    );
    const router = new MetaService(this);
    this.reducers = new Reducers(name, this.dealer, this.pipeline, router, logger);
    this.tables = new RealmTables(name, this.pipeline, router, { schema: options.schema, maxRetainedSize: options.maxRetainedSize ?? 256 * 1024 }, logger);
    let joined: Promise<void> = Promise.resolve();
    if (backplane !== undefined) {
      const history = options.history ?? DEFAULT_HISTORY_RETENTION;
      const publications = new ClusterPublications(
        name,
        backplane,
        this.broker,
        (id) => this.sessionsById.get(id),
        { keepsHistory: history.maxEvents > 0, maxRetainedSize: options.maxRetainedSize ?? 256 * 1024 },
        logger,
        metrics,
      );
      const calls = new ClusterCalls(this, this.dealer, backplane, logger);
      this.clusterPublications = publications;
      this.clusterCalls = calls;
      this.pipeline.joinCluster(publications);
      this.dealer.onMissingProcedure = () => calls.lookFurther();
      const shares = new ClusterShares(backplane, logger);
      this.broker.shareOwner = (subscription, publicationId) => shares.owns(subscription, publicationId);
      this.activityListeners.add({
        subscribed: (_session, subscription, created) => {
          if (created && subscription.shareGroup !== undefined) shares.local(subscription, true);
        },
        unsubscribed: (_session, subscription, removed) => {
          if (removed && subscription.shareGroup !== undefined) shares.local(subscription, false);
        },
      });
      joined = backplane.start({
        event: (event) => publications.deliver(event),
        waiterApplied: (waiterId) => publications.waiterApplied(waiterId),
        calleeAdded: (callee) => calls.calleeAdded(callee),
        calleeRemoved: (node, sessionId, match, uri) => calls.calleeRemoved(node, sessionId, match, uri),
        nodeMessage: (message) => {
          const handler = this.nodeMessageHandlers.get(message.type);
          if (handler !== undefined) handler(message);
          else calls.message(message);
        },
        shareChanged: (node, key, present) => shares.changed(node, key, present),
        nodeDown: (node) => {
          calls.nodeDown(node);
          shares.nodeDown(node);
        },
      });
    }
    this.ready = Promise.all([joined, this.pipeline.start()]).then(() => this.tables.restore());
    this.ready.catch((error: unknown) => logger.error('realm failed to start', { realm: name, error: String(error) }));
    attachMetaApi(this);
  }

  get sessionCount(): number {
    return this.sessionsById.size;
  }

  sessions(): IterableIterator<Session> {
    return this.sessionsById.values();
  }

  getSession(id: number): Session | undefined {
    return this.sessionsById.get(id);
  }

  /**
   * Admits a session to the realm. Without an `authid`, the session's ID (as a string) is its authid. `id`:
   * one chosen with `randomId()` before joining (WAMP-CRA names it in its challenge); default a fresh one.
   */
  join(peer: SessionPeer, info: Omit<SessionInfo, 'authid'> & { authid?: string }, id = randomId()): Session {
    if (this.sessionsById.has(id)) throw new Error(`session ID ${id} is in use in realm ${this.name}`);
    const session = new Session(id, this, peer, { ...info, authid: info.authid ?? String(id) });
    this.sessionsById.set(session.id, session);
    this.logger.debug('session joined', { realm: this.name, session: session.id, protocol: info.protocol, authid: session.info.authid });
    if (this.backplane !== undefined) this.announceSession(session);
    for (const listener of this.joinListeners) listener(session);
    return session;
  }

  /** Removes a session and everything it held; its wills fire. Safe to call twice. */
  leave(session: Session): void {
    if (!session.isOpen) return;
    session.markClosed();
    this.sessionsById.delete(session.id);
    // Observers hear what the session held, and whether it went with it (after removal, so counts are final).
    const observed = this.activityListeners.size > 0;
    const subscriptions = observed ? [...session.subscriptions] : [];
    const registrations = observed || this.clusterCalls !== undefined ? [...session.registrations] : [];
    if (this.clusterCalls !== undefined) for (const registration of registrations) if (!this.dealer.isReducer(registration)) this.clusterCalls.withdrawn(session, registration);
    this.broker.removeSession(session);
    this.dealer.removeSession(session);
    for (const subscription of subscriptions) {
      for (const listener of this.activityListeners) listener.unsubscribed?.(session, subscription, subscription.subscribers.size === 0);
    }
    for (const registration of registrations) {
      for (const listener of this.activityListeners) listener.unregistered?.(session, registration, registration.callees.length === 0);
    }
    this.pipeline.sessionLeft(session);
    this.logger.debug('session left', { realm: this.name, session: session.id });
    for (const listener of this.leaveListeners) listener(session);
  }

  /** Whether the realm spans several router processes. */
  get clustered(): boolean {
    return this.backplane !== undefined;
  }

  /** In a cluster: takes the node messages of `type` (one handler per type). */
  handleNodeMessages(type: NodeMessage['type'], handler: (message: NodeMessage) => void): void {
    this.nodeMessageHandlers.set(type, handler);
  }

  /** Every session of the cluster (the engine's directory); undefined when the realm is this process's alone. */
  clusterSessions(): Promise<ClusterSessionInfo[]> | undefined {
    return this.backplane?.sessions();
  }

  private announceSession(session: Session): void {
    const { info } = session;
    this.backplane!.sessionJoined({
      node: this.backplane!.node,
      session: session.id,
      authid: info.authid,
      authrole: info.authrole,
      authmethod: info.authmethod,
      authprovider: info.authprovider,
      transport: info.transport,
      protocol: info.protocol,
    }).catch((error: unknown) => this.logger.warn('the cluster did not list a session', { realm: this.name, session: session.id, error: String(error) }));
  }

  onSessionJoin(listener: SessionListener): () => void {
    this.joinListeners.add(listener);
    return () => this.joinListeners.delete(listener);
  }

  onSessionLeave(listener: SessionListener): () => void {
    this.leaveListeners.add(listener);
    return () => this.leaveListeners.delete(listener);
  }

  /** Observes subscriptions and registrations coming and going (sessions leaving included). */
  onActivity(listener: RealmActivityListener): () => void {
    this.activityListeners.add(listener);
    return () => this.activityListeners.delete(listener);
  }

  /**
   * Subscribes. With `retained` or `after`, the replay is queued to follow: the caller answers the SUBSCRIBE
   * first (synchronously), then the replayed events arrive, then the live ones.
   */
  subscribe(session: Session, topic: string, options: SubscribeOptions = {}): Subscription {
    const match = options.match ?? 'exact';
    this.checkUri(topic, uriUseFor(match), 'topic');
    return this.subscribeTo(session, { uri: topic, match, pattern: parseWampPattern(topic, match) }, options);
  }

  /**
   * Subscribes to a pattern a gate has parsed itself (MQTT filters, shared subscriptions); `spec.filter` is
   * taken from `options.filter`. Same replay rules as `subscribe`.
   */
  subscribeTo(session: Session, spec: Omit<SubscriptionSpec, 'filter'>, options: SubscribeOptions = {}): Subscription {
    checkNotHidden(spec.pattern, spec.uri);
    const after = options.after;
    if (after !== undefined && !(Number.isSafeInteger(after) && after >= 0)) {
      throw new RouterError(ErrorUri.invalidArgument, `after must be an event ID (an integer of 0 or more); got ${JSON.stringify(after)}`);
    }
    const filter = options.filter === undefined ? undefined : filterOf(options.filter);
    const held = session.subscriptions.size;
    const subscription = this.broker.subscribe(session, filter === undefined ? spec : { ...spec, filter });
    // A repeated SUBSCRIBE of the same session changes nothing, and is not reported.
    if (session.subscriptions.size > held) {
      for (const listener of this.activityListeners) listener.subscribed?.(session, subscription, subscription.subscribers.size === 1);
    }
    if (after !== undefined) this.pipeline.replay(session, subscription, { after });
    else if (options.retained) this.pipeline.replay(session, subscription, { retained: true });
    return subscription;
  }

  unsubscribe(session: Session, subscriptionId: number): void {
    const subscription = this.broker.getSubscription(subscriptionId);
    this.broker.unsubscribe(session, subscriptionId);
    for (const listener of this.activityListeners) listener.unsubscribed?.(session, subscription!, subscription!.subscribers.size === 0);
  }

  /**
   * Publishes; resolves to the publication ID once applied and delivered. `publisher` is undefined for
   * router-originated events. A publish with `when` that does not hold rejects with
   * `fox.error.condition_not_met` (or, with `watch`, waits until it holds).
   */
  publish(publisher: Session | undefined, topic: string, payload: Payload, options: PublishOptions = {}): Promise<number> {
    try {
      const outcome = this.publishNow(publisher, topic, payload, options);
      return typeof outcome === 'number' ? Promise.resolve(outcome) : outcome;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `publish` for a gate on its hot path: the publication ID at once when the publication was applied and
   * delivered in this call, else its promise; throws (a `RouterError`) what `publish` would reject with at once.
   */
  publishNow(publisher: Session | undefined, topic: string, payload: Payload, options: PublishOptions = {}): number | Promise<number> {
    const checked = this.publicationTopic(topic);
    if (publisher !== undefined && checked.reserved) checkNotReserved(topic, 'topic');
    checkWatch(options);
    return this.route(publisher, checked.key, checked.levels, payload, options);
  }

  /**
   * A publication topic, checked and split once: the same topics come again and again, so the realm keeps the
   * last few thousand it has seen (their levels are shared, read-only, by every publication on them).
   */
  private publicationTopic(topic: string): CheckedTopic {
    let checked = this.checkedTopics.get(topic);
    if (checked !== undefined) return checked;
    this.checkUri(topic, 'concrete', 'topic');
    checked = { key: topicKeyOfUri(topic), levels: topic.split('.'), reserved: isReserved(topic) };
    if (this.checkedTopics.size >= CHECKED_TOPICS) this.checkedTopics.clear();
    this.checkedTopics.set(topic, checked);
    return checked;
  }

  /**
   * Publishes on a topic a gate has validated and split into levels itself (MQTT topic names). Sessions may
   * not publish under the reserved first level `wamp`.
   */
  publishTo(publisher: Session | undefined, levels: TopicLevels, payload: Payload, options: PublishOptions = {}): Promise<number> {
    try {
      const outcome = this.publishToNow(publisher, levels, payload, options);
      return typeof outcome === 'number' ? Promise.resolve(outcome) : outcome;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `publishTo` for a gate's hot path, answering at once when it can (as `publishNow`); throws what it would reject with at once. */
  publishToNow(publisher: Session | undefined, levels: TopicLevels, payload: Payload, options: PublishOptions = {}): number | Promise<number> {
    if (publisher !== undefined && isReservedLevel(levels[0])) {
      throw new RouterError(ErrorUri.invalidUri, `the topic ${JSON.stringify(levels.join('/'))} is reserved for the router (${levels[0]})`);
    }
    checkWatch(options);
    return this.route(publisher, topicKey(levels), levels, payload, options);
  }


  /**
   * Where a publication goes: to the aggregate engine (a table's topic), to a reducer (a reduced topic), or
   * straight to the pipeline. While the realm has neither tables nor reducers this costs two checks.
   */
  private route(publisher: Session | undefined, key: string, levels: TopicLevels, payload: Payload, options: PublishOptions): number | Promise<number> {
    if (this.tables.active) {
      const routed = this.tables.route(publisher, levels, payload, options);
      if (routed !== undefined) return routed;
    }
    if (this.reducers.engaged) {
      const routed = this.reducers.route(publisher, key, levels, payload, options);
      if (routed !== undefined) return routed;
    }
    return this.pipeline.publishNow(publisher, key, levels, payload, options);
  }

  /** The retained entry of one topic. */
  retained(topic: string): Promise<RetainedEntry | undefined> {
    this.checkUri(topic, 'concrete', 'topic');
    checkNotHidden(parseWampPattern(topic, 'exact'), topic);
    return this.pipeline.get(topicKeyOfUri(topic));
  }

  /** The retained entries matching a topic pattern (`match` as for subscriptions). */
  findRetained(topic: string, match: MatchPolicy = 'exact'): Promise<RetainedEntry[]> {
    this.checkUri(topic, uriUseFor(match), 'topic');
    return this.findRetainedMatching(parseWampPattern(topic, match));
  }

  /** The retained entries matching a pattern a gate has parsed itself. */
  findRetainedMatching(pattern: TopicPattern): Promise<RetainedEntry[]> {
    try {
      checkNotHidden(pattern);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.pipeline.find(pattern);
  }

  /** Resolves when every publication queued so far has been applied (table operations included). */
  async settled(): Promise<void> {
    await this.tables.settled();
    await this.pipeline.drain();
  }

  register(session: Session, procedure: string, options: RegisterOptions = {}): Registration {
    const match = options.match ?? 'exact';
    this.checkUri(procedure, uriUseFor(match), 'procedure');
    checkNotReserved(procedure, 'procedure');
    if (options.concurrency !== undefined && !(Number.isInteger(options.concurrency) && options.concurrency >= 1)) {
      throw new RouterError(ErrorUri.invalidArgument, `concurrency must be an integer of at least 1, not ${String(options.concurrency)}`);
    }
    const registration = this.dealer.register(session, procedure, match, parseWampPattern(procedure, match), options);
    for (const listener of this.activityListeners) listener.registered?.(session, registration, registration.callees.length === 1);
    return registration;
  }

  /**
   * Resolves once a registration is confirmed: at once on a single process; in a cluster, once the cluster's
   * registry took it (rejects with `procedure_already_exists`, the local registration undone, on a conflict
   * with another process's). Gates send REGISTERED after this.
   */
  confirmRegistration(session: Session, registration: Registration, options: RegisterOptions = {}): Promise<void> | undefined {
    if (this.clusterCalls === undefined || options.reducer === true) return undefined;
    return this.clusterCalls.confirm(session, registration, options);
  }

  unregister(session: Session, registrationId: number): void {
    const registration = this.dealer.getRegistration(registrationId);
    this.dealer.unregister(session, registrationId);
    if (this.clusterCalls !== undefined && registration !== undefined && !this.dealer.isReducer(registration)) this.clusterCalls.withdrawn(session, registration);
    for (const listener of this.activityListeners) listener.unregistered?.(session, registration!, registration!.callees.length === 0);
  }

  call(caller: Session, procedure: string, payload: Payload, options: CallOptions, sink: CallSink): Call {
    this.checkUri(procedure, 'concrete', 'procedure');
    const dealer = isReserved(procedure) ? this.routerDealer : this.dealer;
    // With metrics on, the sink is wrapped to time the call until the caller has its outcome.
    const timed = this.metrics.enabled ? this.metrics.timeCall(sink) : sink;
    return dealer.call(caller, procedure, procedure.split('.'), payload, options, timed);
  }

  yield(callee: Session, invocationId: number, payload: Payload, progress = false): InvocationAnswer {
    return this.dealer.yield(callee, invocationId, payload, progress);
  }

  invocationError(callee: Session, invocationId: number, error: RouterError): InvocationAnswer {
    return this.dealer.error(callee, invocationId, error);
  }

  /** The next chunk of a progressive call invocation; false when the call takes no more (see `Dealer`). */
  continueCall(call: Call, payload: Payload, progress: boolean): boolean {
    return this.dealer.continueCall(call, payload, progress);
  }

  /** The caller cancels one of its calls (spec: Call Canceling); a call that is already over is left alone. */
  cancel(call: Call, mode: CancelMode = 'killnowait'): void {
    this.dealer.cancel(call, mode);
  }

  /** Ends every session of the realm with `reason` (e.g. `wamp.close.system_shutdown`). */
  closeAll(reason: string, message: string): void {
    for (const session of [...this.sessionsById.values()]) session.peer.close(reason, message);
  }

  private checkUri(uri: unknown, use: Parameters<typeof isValidUri>[1], what: string): asserts uri is string {
    if (!isValidUri(uri, use, this.uriCheck)) {
      throw new RouterError(ErrorUri.invalidUri, `invalid ${what} URI ${JSON.stringify(uri)} (${this.uriCheck} check)`);
    }
  }
}

/**
 * The spec reserves URIs whose first component is `wamp` for WAMP itself, and this router keeps `fox` and
 * `$fox` for its own (see `RESERVED_LEVELS`): sessions may subscribe to the router's meta events and call its
 * procedures, but not publish or register there.
 */
function checkNotReserved(uri: string, what: string): void {
  if (isReserved(uri)) {
    throw new RouterError(ErrorUri.invalidUri, `the ${what} URI ${JSON.stringify(uri)} is reserved for the router (${uri.split('.')[0]}.*)`);
  }
}

function checkWatch(options: PublishOptions): void {
  if (options.watch && options.when === undefined) {
    throw new RouterError(ErrorUri.invalidArgument, 'watch needs a when condition to wait for');
  }
}

/**
 * First levels that belong to the router: `wamp` (the spec's), `fox` (this router's procedures and meta
 * events: `fox.schema.*`, `fox.reducer.on_error`) and `$fox` (its hidden entries, see `hidden-topics.ts`).
 */
const RESERVED_LEVELS: ReadonlySet<string> = new Set(['wamp', 'fox', HIDDEN_LEVEL]);

function isReservedLevel(level: string | undefined): boolean {
  return level !== undefined && RESERVED_LEVELS.has(level);
}

function isReserved(uri: string): boolean {
  const dot = uri.indexOf('.');
  return isReservedLevel(dot < 0 ? uri : uri.slice(0, dot));
}

/** The router's hidden entries (`$fox.…`) are nobody's to subscribe to or read. */
function checkNotHidden(pattern: TopicPattern, uri?: string): void {
  if (reachesHiddenTopics(pattern)) {
    const what = uri === undefined ? 'the topic pattern' : `the topic ${JSON.stringify(uri)}`;
    throw new RouterError(ErrorUri.invalidUri, `${what} reaches topics reserved for the router (${HIDDEN_LEVEL})`);
  }
}

function filterOf(filter: Record<string, unknown>): SubscriptionFilter {
  return { key: canonicalJson(filter), test: compileFilter(filter) };
}

/** JSON with sorted keys, so equal filters written in another key order share a subscription. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
