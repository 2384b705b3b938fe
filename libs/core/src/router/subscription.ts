import type { ValueFilter } from '../retained/retained-value.js';
import type { Session } from './session.js';
import { isConcrete, type MatchPolicy, type TopicPattern } from './topic-pattern.js';

/** A compiled `filter` with the canonical text that makes it part of a subscription's identity. */
export interface SubscriptionFilter {
  readonly key: string;
  readonly test: ValueFilter;
}

/**
 * One subscription: a topic URI under one match policy (and one filter, if any), shared by every session
 * subscribed to it (the spec gives all of them the same subscription ID).
 */
export class Subscription {
  readonly subscribers = new Set<Session>();
  readonly createdAt = Date.now();
  /** Pattern subscriptions tell subscribers the concrete topic in EVENT details. */
  readonly isPattern: boolean;

  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: MatchPolicy,
    readonly pattern: TopicPattern,
    readonly filter: SubscriptionFilter | undefined,
  ) {
    this.isPattern = !isConcrete(pattern);
  }

  /** The identity of a subscription: same URI, match policy and filter = same subscription. */
  static keyOf(uri: string, match: MatchPolicy, filter: SubscriptionFilter | undefined): string {
    return filter === undefined ? `${match}\u0000${uri}` : `${match}\u0000${uri}\u0000${filter.key}`;
  }

  get key(): string {
    return Subscription.keyOf(this.uri, this.match, this.filter);
  }
}
