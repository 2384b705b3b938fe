import type { HistoryEvent, HistoryRetention, RealmStore, RetainedEntry, RetainedWrite, WriteCondition } from '../retained/realm-store.js';
import { payloadSize } from '../retained/payload-size.js';
import { valueOf as valueOfPayload } from '../retained/retained-value.js';
import { writeConditionHolds } from '../retained/write-condition.js';
import { NO_REALM_METRICS, type RealmMetrics } from '../observability/router-metrics.js';
import type { Broker } from './broker.js';
import type { EventDelivery } from './deliveries.js';
import { ErrorUri, RouterError } from './errors.js';
import { randomId } from './ids.js';
import type { RouterLogger } from './logger.js';
import { isAddressed, type PublishOptions } from './options.js';
import type { Payload } from './payload.js';
import { Sequencer } from './sequencer.js';
import type { Session } from './session.js';
import type { Subscription } from './subscription.js';
import { levelsOfKey, topicKey, wampUriOf, type TopicLevels } from './topic.js';
import { patternMatches } from './topic-pattern.js';
import { withForwardedDetails } from './forwarded-details.js';
import type { ClusterPublications } from '../cluster/cluster-publications.js';

export interface PipelineSettings {
  readonly history: HistoryRetention;
  /** Largest retained payload, in bytes of its serialized form. */
  readonly maxRetainedSize: number;
}

/**
 * Event IDs are reserved from the store in blocks, so a durable store writes once per block, not per event; large
 * enough that a burst (one TCP chunk can hold hundreds of PUBLISH frames) does not drain a block before its
 * asynchronous top-up (at half) returns, which would send publications through the sequencer's slow path.
 */
const EVENT_ID_BLOCK = 10_000;

/** A conditional publish parked by `watch` until its condition holds. */
interface Waiter {
  readonly session: Session | undefined;
  readonly topic: string;
  readonly levels: TopicLevels;
  readonly payload: Payload;
  readonly options: PublishOptions;
  readonly condition: WriteCondition;
  resolve(publicationId: number): void;
  reject(error: RouterError): void;
}

/**
 * Everything that happens to a publication between the gate and the broker, in one order: event IDs,
 * retained writes with `when` / `watch` / `will`, the event history, and replays to new subscribers.
 *
 * Publications that touch the store run one at a time through a sequencer, so delivery order, event-ID
 * order and store order agree even when the store answers asynchronously. A plain publication takes a
 * synchronous fast path when nothing is queued, so pub/sub without retained state costs no promise hop.
 */
export class PublicationPipeline {
  private readonly sequencer = new Sequencer();
  private readonly watchers = new Map<string, Waiter[]>();
  /** Sessions that own at least one entry with a will: only their departure needs a store look-up. */
  private readonly sessionsWithWills = new Set<number>();
  /** The next event ID to hand out, and the end of the block it comes from. */
  private nextEventId = 1;
  private reservedUpTo = 0;
  /** Blocks reserved ahead, in order (a shared store may hand out blocks that are not contiguous). */
  private readonly spareBlocks: { first: number; last: number }[] = [];
  private reservation: Promise<void> | undefined;
  private readonly keepsHistory: boolean;
  /** Set when the realm spans several router processes: publications then go through the engine. */
  private cluster: ClusterPublications | undefined;

  constructor(
    private readonly realmName: string,
    private readonly broker: Broker,
    private readonly store: RealmStore,
    private readonly settings: PipelineSettings,
    private readonly logger: RouterLogger,
    private readonly metrics: RealmMetrics = NO_REALM_METRICS,
  ) {
    this.keepsHistory = settings.history.maxEvents > 0;
  }

  /** From now on, publications go through the cluster's engine (before `start`). */
  joinCluster(cluster: ClusterPublications): void {
    this.cluster = cluster;
  }

  /**
   * Reserves the first event IDs and applies the wills of sessions that died with the previous process. In a
   * cluster, the engine assigns event IDs and its reaper fires the wills of dead processes: nothing to do.
   */
  start(): Promise<void> {
    if (this.cluster !== undefined) return Promise.resolve();
    return this.sequencer.run(async () => {
      await this.reserveEventIds();
      const wills = await this.store.allWills();
      for (const entry of wills) await this.fireWill(entry);
      if (wills.length > 0) this.logger.info('applied wills of sessions from before the restart', { realm: this.realmName, count: wills.length });
    });
  }

  /** Publishes on the topic with key `topic` and `levels`; resolves to the publication ID once applied and delivered. */
  publish(publisher: Session | undefined, topic: string, levels: TopicLevels, payload: Payload, options: PublishOptions): Promise<number> {
    const outcome = this.publishNow(publisher, topic, levels, payload, options);
    return typeof outcome === 'number' ? Promise.resolve(outcome) : outcome;
  }

  /**
   * `publish`, answering at once (the publication ID) when the publication was applied and delivered in this
   * call — the fast path of a plain publication — so a gate can acknowledge it without a promise.
   */
  publishNow(publisher: Session | undefined, topic: string, levels: TopicLevels, payload: Payload, options: PublishOptions): number | Promise<number> {
    if (this.cluster !== undefined) return this.cluster.publish(publisher, topic, payload, options);
    const stateful = options.retain === true || options.when !== undefined || options.will !== undefined;
    if (stateful) {
      this.checkRetainedSize(topic, payload);
      // A parked publish must not hold the sequencer while it waits: the op ends, the caller keeps waiting.
      return this.sequencer
        .run(() => this.applyRetained(publisher, topic, levels, payload, options))
        .then((outcome) => (typeof outcome === 'number' ? outcome : outcome.parked));
    }
    if (this.sequencer.idle && this.hasEventIds) return this.deliverNow(publisher, topic, levels, payload, options);
    return this.sequencer.run(async () => {
      await this.ensureEventIds();
      return this.deliverNow(publisher, topic, levels, payload, options);
    });
  }

  /**
   * Sends a new subscriber the matching retained entries (`retained`) or the history after an event ID
   * (`after`), then the live events that arrived meanwhile — no gap, no duplicate. Runs after the caller has
   * answered the SUBSCRIBE, so replayed events follow SUBSCRIBED.
   */
  replay(session: Session, subscription: Subscription, mode: { readonly after: number } | { readonly retained: true }): void {
    const waiting: EventDelivery[] = [];
    (session.catchingUp ??= new Map()).set(subscription, waiting);
    const stillSubscribed = () => session.isOpen && subscription.subscribers.has(session);
    void this.sequencer.run(async () => {
      // Everything below runs inside one sequencer operation: no publication is delivered in between, so the
      // buffer is complete when it is flushed, and it stops buffering in the same step.
      try {
        let skip: (event: EventDelivery) => boolean;
        if ('after' in mode) {
          const events = await this.store.history(mode.after, this.settings.history.maxEvents);
          let lastReplayed = mode.after;
          for (const event of events) {
            if (!stillSubscribed()) return;
            lastReplayed = event.eventId;
            if (matches(subscription, event.topic, event.payload) && takes(session, event.payload)) {
              session.peer.sendEvent(replayedEvent(subscription, event, false));
            }
          }
          skip = (event) => event.eventId <= lastReplayed;
        } else {
          const entries = await this.store.find(subscription.pattern);
          const replayedIds = new Map<string, number>();
          for (const entry of entries) {
            if (!stillSubscribed()) return;
            replayedIds.set(entry.topic, entry.eventId);
            if (matches(subscription, entry.topic, entry.payload) && takes(session, entry.payload)) {
              session.peer.sendEvent(replayedEvent(subscription, entry, true));
            }
          }
          // A live event the snapshot already reflects (or outdates) must not follow it.
          skip = (event) => (replayedIds.get(topicKey(event.levels)) ?? 0) >= event.eventId;
        }
        if (stillSubscribed()) for (const event of waiting) if (!skip(event)) session.peer.sendEvent(event);
      } catch (error) {
        this.logger.error('replay to a new subscriber failed', { realm: this.realmName, error: String(error) });
        // Whatever arrived live is still owed to the subscriber.
        if (stillSubscribed()) for (const event of waiting) session.peer.sendEvent(event);
      } finally {
        if (session.catchingUp?.get(subscription) === waiting) session.catchingUp.delete(subscription);
      }
    });
  }

  /** A session left: its parked publishes are dropped and its wills fire. */
  sessionLeft(session: Session): void {
    if (this.cluster !== undefined) return this.cluster.sessionLeft(session);
    for (const [topic, queue] of this.watchers) {
      const kept = queue.filter((waiter) => waiter.session !== session);
      if (kept.length === queue.length) continue;
      for (const waiter of queue) {
        if (waiter.session === session) waiter.reject(new RouterError(ErrorUri.canceled, 'the session left while its publish waited'));
      }
      if (kept.length === 0) this.watchers.delete(topic);
      else this.watchers.set(topic, kept);
    }
    if (!this.sessionsWithWills.delete(session.id)) return;
    void this.sequencer
      .run(async () => {
        for (const entry of await this.store.willsOf(session.id)) await this.fireWill(entry);
      })
      .catch((error: unknown) => this.logger.error('applying wills failed', { realm: this.realmName, session: session.id, error: String(error) }));
  }

  /** Waits until everything queued so far has run (tests, shutdown). */
  drain(): Promise<void> {
    return this.sequencer.run(() => undefined);
  }

  get(topic: string): Promise<RetainedEntry | undefined> {
    return this.sequencer.run(() => this.store.get(topic));
  }

  /**
   * Stores a router-internal entry (an aggregate row's bookkeeping, an information schema) in order with the
   * publications: it is never delivered and not kept in the history. An empty payload deletes it. Only for
   * topics no client can subscribe to (see `reduce/hidden-topics.ts`).
   */
  storeInternal(topic: string, payload: Payload): Promise<void> {
    return this.sequencer.run(async () => {
      await this.ensureEventIds();
      await this.store.write({ topic, payload, publisherId: 0, publicationId: randomId(), eventId: this.takeEventId() });
    });
  }

  find(subscriptionPattern: Subscription['pattern']): Promise<RetainedEntry[]> {
    return this.sequencer.run(() => this.store.find(subscriptionPattern));
  }

  private deliverNow(publisher: Session | undefined, topic: string, levels: TopicLevels, payload: Payload, options: PublishOptions, publicationId = randomId()): number {
    const eventId = this.takeEventId();
    const delivered = this.broker.deliver({ publisher, topic, levels, payload, options, publicationId, eventId: this.keepsHistory ? eventId : 0 });
    this.metrics.published(delivered);
    if (this.keepsHistory && !isAddressed(options)) {
      const event: HistoryEvent = { eventId, topic, payload, publisherId: publisher?.id ?? 0, publicationId, publishedAt: Date.now() };
      if (this.store.appendHistoryNow !== undefined) {
        try {
          this.store.appendHistoryNow(event);
        } catch (error) {
          this.historyFailed(error);
        }
      } else {
        this.store.appendHistory(event).catch((error: unknown) => this.historyFailed(error));
      }
    }
    return publicationId;
  }

  /** Applies a retained or conditional publish: its publication ID, or the promise of a parked (`watch`) one. */
  private async applyRetained(
    publisher: Session | undefined,
    topic: string,
    levels: TopicLevels,
    payload: Payload,
    options: PublishOptions,
  ): Promise<number | { readonly parked: Promise<number> }> {
    // A publish that arrived before its session left still applies, unless it would outlive the session
    // (a will that could never fire, a wait nobody answers).
    if (publisher !== undefined && !publisher.isOpen && (options.will !== undefined || options.watch)) {
      throw new RouterError(ErrorUri.canceled, 'the session left before its publish was applied');
    }
    const condition = options.when;
    const result = await this.write(publisher, topic, levels, payload, options, condition);
    if (!result.applied) {
      if (options.watch) return { parked: this.park(publisher, topic, levels, payload, options, condition!) };
      throw new RouterError(ErrorUri.conditionNotMet, `the condition on ${topic} does not hold`, {
        args: [`the condition on ${topic} does not hold`],
        kwargs: { topic, current: result.current === undefined ? null : valueView(result.current) },
      });
    }
    await this.wakeWatchers(topic, result.entry);
    return result.publicationId;
  }

  /** Writes to the store and, if applied, delivers the publication. */
  private async write(
    publisher: Session | undefined,
    topic: string,
    levels: TopicLevels,
    payload: Payload,
    options: PublishOptions,
    condition: WriteCondition | undefined,
  ): Promise<{ applied: true; entry: RetainedEntry | undefined; publicationId: number } | { applied: false; current: RetainedEntry | undefined }> {
    await this.ensureEventIds();
    const publicationId = randomId();
    const eventId = this.takeEventId();
    const will = options.will === undefined ? undefined : options.will === null ? null : { args: [options.will] };
    const write: RetainedWrite = { topic, payload, condition, will, publisherId: publisher?.id ?? 0, publicationId, eventId };
    const result = await this.store.write(write);
    if (!result.applied) return result;
    if (will !== undefined && publisher !== undefined && result.entry !== undefined) this.sessionsWithWills.add(publisher.id);
    const delivered = this.broker.deliver({ publisher, topic, levels, payload, options, publicationId, eventId: this.keepsHistory ? eventId : 0 });
    this.metrics.published(delivered);
    if (this.keepsHistory && !isAddressed(options)) {
      await this.store.appendHistory({ eventId, topic, payload, publisherId: publisher?.id ?? 0, publicationId, publishedAt: Date.now() });
    }
    return { applied: true, entry: result.entry, publicationId };
  }

  private park(
    publisher: Session | undefined,
    topic: string,
    levels: TopicLevels,
    payload: Payload,
    options: PublishOptions,
    condition: WriteCondition,
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { session: publisher, topic, levels, payload, options, condition, resolve, reject };
      const queue = this.watchers.get(topic);
      if (queue === undefined) this.watchers.set(topic, [waiter]);
      else queue.push(waiter);
    });
  }

  /** After a change: the first waiter (in arrival order) whose condition now holds wins; repeat for its change. */
  private async wakeWatchers(topic: string, current: RetainedEntry | undefined): Promise<void> {
    for (;;) {
      const queue = this.watchers.get(topic);
      if (queue === undefined) return;
      const index = queue.findIndex((waiter) => writeConditionHolds(waiter.condition, current));
      if (index < 0) return;
      const [waiter] = queue.splice(index, 1) as [Waiter];
      if (queue.length === 0) this.watchers.delete(topic);
      const result = await this.write(waiter.session, topic, waiter.levels, waiter.payload, waiter.options, waiter.condition);
      if (!result.applied) {
        // Cannot happen while the sequencer serializes writes; keep the waiter rather than lose it.
        this.park(waiter.session, topic, waiter.levels, waiter.payload, waiter.options, waiter.condition).then(waiter.resolve, waiter.reject);
        return;
      }
      waiter.resolve(result.publicationId);
      current = result.entry;
    }
  }

  private async fireWill(entry: RetainedEntry): Promise<void> {
    const payload = entry.will ?? {};
    const result = await this.write(undefined, entry.topic, levelsOfKey(entry.topic), payload, { retain: true }, { kind: 'publication', publicationId: entry.publicationId });
    if (result.applied) await this.wakeWatchers(entry.topic, result.entry);
  }

  private historyFailed(error: unknown): void {
    this.logger.error('appending to the event history failed', { realm: this.realmName, error: String(error) });
  }

  private checkRetainedSize(topic: string, payload: Payload): void {
    const limit = this.settings.maxRetainedSize;
    const size = payloadSize(payload, limit);
    if (size > limit) {
      throw new RouterError(ErrorUri.invalidArgument, `the retained value for ${topic} is over the limit of ${limit} bytes`);
    }
  }


  private takeEventId(): number {
    if (this.nextEventId > this.reservedUpTo) this.switchBlock();
    const id = this.nextEventId++;
    // Top up well before the block runs out, so the fast path rarely has to wait.
    if (this.reservedUpTo - id < EVENT_ID_BLOCK / 2 && this.spareBlocks.length === 0 && this.reservation === undefined) {
      this.reservation = this.reserveEventIds().finally(() => (this.reservation = undefined));
    }
    return id;
  }

  private get hasEventIds(): boolean {
    return this.nextEventId <= this.reservedUpTo || this.spareBlocks.length > 0;
  }

  private async ensureEventIds(): Promise<void> {
    while (!this.hasEventIds) await (this.reservation ?? this.reserveEventIds());
  }

  private async reserveEventIds(): Promise<void> {
    const { first, reservedUpTo } = await this.store.reserveEventIds(EVENT_ID_BLOCK);
    this.spareBlocks.push({ first, last: reservedUpTo });
  }

  private switchBlock(): void {
    const block = this.spareBlocks.shift();
    if (block === undefined) throw new Error('no event IDs reserved');
    // IDs only go up, even if a store hands out a block below one we used.
    this.nextEventId = Math.max(block.first, this.nextEventId);
    this.reservedUpTo = block.last;
  }
}

function matches(subscription: Subscription, topic: string, payload: Payload): boolean {
  if (!patternMatches(subscription.pattern, levelsOfKey(topic))) return false;
  return subscription.filter === undefined || subscription.filter.test(valueOfPayload(payload));
}

/** As for live events: a passthru payload only reaches a subscriber that announced Payload Passthru Mode. */
function takes(session: Session, payload: Payload): boolean {
  return payload.properties?.passthru === undefined || session.peer.acceptsPayloadPassthru?.('subscriber') !== false;
}

function valueView(entry: RetainedEntry): unknown {
  return valueOfPayload(entry.payload) ?? null;
}

function replayedEvent(subscription: Subscription, source: HistoryEvent | RetainedEntry, retained: boolean): EventDelivery {
  const levels = levelsOfKey(source.topic);
  const details: Record<string, unknown> = {};
  if (retained) details.retained = true;
  if (subscription.isPattern) details.topic = wampUriOf(levels);
  details.event_id = source.eventId;
  withForwardedDetails(details, source.payload.properties);
  return {
    subscriptionId: subscription.id,
    publicationId: source.publicationId,
    eventId: source.eventId,
    levels,
    publisherId: source.publisherId,
    retainedWrite: retained,
    details,
    payload: source.payload,
    retained,
  };
}
