import type { EventDelivery } from './deliveries.js';
import { ErrorUri, RouterError } from './errors.js';
import { withForwardedDetails } from './forwarded-details.js';
import { randomId } from './ids.js';
import type { PublishOptions } from './options.js';
import type { Payload } from './payload.js';
import { valueOf } from '../retained/retained-value.js';
import { RouterSpan } from '../observability/tracing.js';
import type { Session } from './session.js';
import { Subscription, type SubscriptionSpec } from './subscription.js';
import { wampUriOf, type TopicLevels } from './topic.js';
import { TopicIndex } from './topic-index.js';

/** A publication on its way to subscribers, as the realm's publication pipeline hands it over. */
export interface Publication {
  readonly publisher: Session | undefined;
  /**
   * A publisher on another router process of the cluster (`publisher` is then undefined): its session ID, and
   * its identity when it asked to be disclosed.
   */
  readonly remotePublisher?: { readonly id: number; readonly authid?: string; readonly authrole?: string };
  /** The topic key (see `topicKey`). */
  readonly topic: string;
  readonly levels: TopicLevels;
  readonly payload: Payload;
  readonly options: PublishOptions;
  readonly publicationId: number;
  /** The realm's event ID; 0 when the realm keeps no history. */
  readonly eventId: number;
}

/**
 * The broker of one realm: subscriptions in one topic index, and the delivery of publications to the
 * sessions whose subscriptions match. URIs arrive validated and parsed (the realm does that).
 */
export class Broker {
  private readonly byKey = new Map<string, Subscription>();
  private readonly byId = new Map<number, Subscription>();
  private readonly index = new TopicIndex<Subscription>();
  /**
   * In a cluster: whether this process delivers a publication to its members of a shared subscription (one
   * process of those with members does). Absent: always.
   */
  shareOwner: ((subscription: Subscription, publicationId: number) => boolean) | undefined;

  get subscriptionCount(): number {
    return this.byId.size;
  }

  getSubscription(id: number): Subscription | undefined {
    return this.byId.get(id);
  }

  subscriptions(): IterableIterator<Subscription> {
    return this.byId.values();
  }

  /** Adds `session` to the subscription `spec` names, creating it if needed. Idempotent per session. */
  subscribe(session: Session, spec: SubscriptionSpec): Subscription {
    const key = Subscription.keyOf(spec);
    let subscription = this.byKey.get(key);
    if (subscription === undefined) {
      subscription = new Subscription(randomId(), spec);
      this.byKey.set(key, subscription);
      this.byId.set(subscription.id, subscription);
      this.index.add(spec.pattern, subscription);
    }
    subscription.subscribers.add(session);
    session.subscriptions.add(subscription);
    return subscription;
  }

  unsubscribe(session: Session, subscriptionId: number): void {
    const subscription = this.byId.get(subscriptionId);
    if (subscription === undefined || !subscription.subscribers.has(session)) {
      throw new RouterError(ErrorUri.noSuchSubscription, `no subscription ${subscriptionId} in this session`);
    }
    this.detach(session, subscription);
  }

  /** Drops every subscription of a session that is leaving. */
  removeSession(session: Session): void {
    for (const subscription of session.subscriptions) this.detach(session, subscription);
  }

  /**
   * Delivers a publication to every matching subscriber (passing its filter); returns the number of events sent.
   * With tracing on, a client's publication is delivered in a router span, whose context the events carry.
   */
  deliver(publication: Publication): number {
    const span = publication.publisher === undefined ? undefined : RouterSpan.publish(publication.publisher.realm.name, publication.levels, publication.payload);
    if (span === undefined) return this.deliverToSubscribers(publication);
    let delivered = 0;
    try {
      delivered = this.deliverToSubscribers(Object.assign({}, publication, { payload: span.payload }));
      return delivered;
    } finally {
      span.delivered(delivered);
    }
  }

  private deliverToSubscribers(publication: Publication): number {
    const { publisher, options } = publication;
    let delivered = 0;
    let accepts = subscriberFilter(publisher, options);
    if (publication.payload.properties?.passthru !== undefined) accepts = takingPassthru(accepts);
    const disclosed = options.discloseMe ? disclosedPublisher(publication) : undefined;
    let value: unknown;
    let valueKnown = false;
    this.index.match(publication.levels, (subscription) => {
      if (subscription.filter !== undefined) {
        if (!valueKnown) {
          value = valueOf(publication.payload);
          valueKnown = true;
        }
        if (!subscription.filter.test(value)) return;
      }
      if (subscription.shareGroup !== undefined) {
        if (this.shareOwner !== undefined && !this.shareOwner(subscription, publication.publicationId)) return;
        const member = subscription.nextShareMember(accepts);
        if (member !== undefined) {
          send(member, eventFor(subscription, publication, disclosed), subscription);
          delivered++;
        }
        return;
      }
      let event: EventDelivery | undefined;
      for (const subscriber of subscription.subscribers) {
        if (!accepts(subscriber)) continue;
        event ??= eventFor(subscription, publication, disclosed);
        send(subscriber, event, subscription);
        delivered++;
      }
    });
    return delivered;
  }

  private detach(session: Session, subscription: Subscription): void {
    subscription.subscribers.delete(session);
    session.subscriptions.delete(subscription);
    session.catchingUp?.delete(subscription);
    if (subscription.subscribers.size === 0) {
      this.byKey.delete(subscription.key);
      this.byId.delete(subscription.id);
      this.index.delete(subscription.pattern, subscription);
    }
  }
}

function send(subscriber: Session, event: EventDelivery, subscription: Subscription): void {
  subscription.delivered++;
  const waiting = subscriber.catchingUp?.get(subscription);
  if (waiting !== undefined) waiting.push(event);
  else subscriber.peer.sendEvent(event);
}

function eventFor(subscription: Subscription, publication: Publication, disclosed: Record<string, unknown> | undefined): EventDelivery {
  return {
    subscriptionId: subscription.id,
    publicationId: publication.publicationId,
    eventId: publication.eventId,
    levels: publication.levels,
    publisherId: publication.publisher?.id ?? publication.remotePublisher?.id ?? 0,
    retainedWrite: publication.options.retain === true || publication.options.when !== undefined || publication.options.will !== undefined,
    details: eventDetails(subscription, publication, disclosed),
    payload: publication.payload,
    // Declared up front (filled by the first gate that encodes the event): adding them later changes the
    // object's layout on the hot path.
    frames: undefined,
    frameSizes: undefined,
  };
}

function eventDetails(subscription: Subscription, publication: Publication, disclosed: Record<string, unknown> | undefined): Record<string, unknown> {
  const details: Record<string, unknown> = disclosed === undefined ? {} : { ...disclosed };
  if (subscription.isPattern) details.topic = wampUriOf(publication.levels);
  if (publication.eventId !== 0) details.event_id = publication.eventId;
  return withForwardedDetails(details, publication.payload.properties);
}

function disclosedPublisher(publication: Publication): Record<string, unknown> | undefined {
  const { publisher, remotePublisher } = publication;
  if (publisher !== undefined) return { publisher: publisher.id, publisher_authid: publisher.info.authid, publisher_authrole: publisher.info.authrole };
  if (remotePublisher?.authid === undefined) return undefined;
  return { publisher: remotePublisher.id, publisher_authid: remotePublisher.authid, publisher_authrole: remotePublisher.authrole };
}

/** Builds the per-subscriber check for exclude_me and black/white listing; the common case is one compare. */
function subscriberFilter(publisher: Session | undefined, options: PublishOptions): (subscriber: Session) => boolean {
  const excludeMe = options.excludeMe ?? true;
  const listed =
    options.exclude !== undefined ||
    options.eligible !== undefined ||
    options.excludeAuthid !== undefined ||
    options.eligibleAuthid !== undefined ||
    options.excludeAuthrole !== undefined ||
    options.eligibleAuthrole !== undefined;
  if (!listed) return (subscriber) => !(excludeMe && subscriber === publisher);
  const exclude = toSet(options.exclude);
  const eligible = toSet(options.eligible);
  const excludeAuthid = toSet(options.excludeAuthid);
  const eligibleAuthid = toSet(options.eligibleAuthid);
  const excludeAuthrole = toSet(options.excludeAuthrole);
  const eligibleAuthrole = toSet(options.eligibleAuthrole);
  return (subscriber) => {
    if (excludeMe && subscriber === publisher) return false;
    const { authid, authrole } = subscriber.info;
    if (exclude?.has(subscriber.id) || excludeAuthid?.has(authid) || excludeAuthrole?.has(authrole)) return false;
    if (eligible !== undefined && !eligible.has(subscriber.id)) return false;
    if (eligibleAuthid !== undefined && !eligibleAuthid.has(authid)) return false;
    if (eligibleAuthrole !== undefined && !eligibleAuthrole.has(authrole)) return false;
    return true;
  };
}

/**
 * Payload Passthru Mode: a WAMP subscriber that did not announce the feature could not tell the payload from
 * an ordinary one (autobahn, for one, drops the `ppt_*` details), so it does not get the event. The spec leaves
 * this case to the subscriber; the router knows better. MQTT and in-process subscribers get it.
 */
function takingPassthru(accepts: (subscriber: Session) => boolean): (subscriber: Session) => boolean {
  return (subscriber) => accepts(subscriber) && subscriber.peer.acceptsPayloadPassthru?.('subscriber') !== false;
}

function toSet<T>(values: readonly T[] | undefined): Set<T> | undefined {
  return values === undefined ? undefined : new Set(values);
}
