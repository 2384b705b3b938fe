import type { ValueFilter } from '../retained/retained-value.js';
import type { Session } from './session.js';
import { isConcrete, type MatchPolicy, type TopicPattern } from './topic-pattern.js';

/** A compiled `filter` with the canonical text that makes it part of a subscription's identity. */
export interface SubscriptionFilter {
  readonly key: string;
  readonly test: ValueFilter;
}

/** What a gate asks the broker to subscribe to; the parts that make a subscription's identity. */
export interface SubscriptionSpec {
  /** The topic as WAMP shows it (meta API, EVENT details): the URI, or an MQTT filter rendered with `.`. */
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly pattern: TopicPattern;
  readonly filter?: SubscriptionFilter;
  /**
   * A shared subscription's group (MQTT `$share/group/filter`): each publication goes to one of the group's
   * subscribers, in turn, instead of to all of them.
   */
  readonly shareGroup?: string;
  /**
   * Where the identity comes from when it is not the URI and match policy: MQTT filters, whose levels may
   * hold `.`, are keyed by the filter text itself.
   */
  readonly source?: string;
}

/**
 * One subscription: a topic pattern (and one filter, if any), shared by every session subscribed to it (the
 * spec gives all of them the same subscription ID).
 */
export class Subscription {
  readonly subscribers = new Set<Session>();
  readonly createdAt = Date.now();
  /** Pattern subscriptions tell subscribers the concrete topic in EVENT details. */
  readonly isPattern: boolean;
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly pattern: TopicPattern;
  readonly filter: SubscriptionFilter | undefined;
  readonly shareGroup: string | undefined;
  readonly key: string;
  /** Events delivered through this subscription so far (one per subscriber reached): per-topic rates. */
  delivered = 0;
  /** Round-robin position among a shared subscription's subscribers. */
  private turn = 0;

  constructor(
    readonly id: number,
    spec: SubscriptionSpec,
  ) {
    this.uri = spec.uri;
    this.match = spec.match;
    this.pattern = spec.pattern;
    this.filter = spec.filter;
    this.shareGroup = spec.shareGroup;
    this.key = Subscription.keyOf(spec);
    this.isPattern = !isConcrete(spec.pattern);
  }

  /** The identity of a subscription: same URI, match policy, filter (and share group) = same subscription. */
  static keyOf(spec: Pick<SubscriptionSpec, 'uri' | 'match' | 'filter' | 'shareGroup' | 'source'>): string {
    let key = spec.source === undefined ? `${spec.match}\u0000${spec.uri}` : `${spec.source}`;
    if (spec.filter !== undefined) key += `\u0000${spec.filter.key}`;
    if (spec.shareGroup !== undefined) key = `$share\u0000${spec.shareGroup}\u0000${key}`;
    return key;
  }

  /** The shared subscription's next subscriber among those `accepts` lets through, in turn. */
  nextShareMember(accepts: (session: Session) => boolean): Session | undefined {
    const members = [...this.subscribers];
    for (let i = 0; i < members.length; i++) {
      const member = members[(this.turn + i) % members.length]!;
      if (accepts(member)) {
        this.turn = (this.turn + i + 1) % members.length;
        return member;
      }
    }
    return undefined;
  }
}
