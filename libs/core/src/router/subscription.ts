import type { Session } from './session.js';
import { isConcrete, type MatchPolicy, type TopicPattern } from './topic-pattern.js';

/**
 * One subscription: a topic URI under one match policy, shared by every session subscribed to it (the
 * spec gives all of them the same subscription ID).
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
  ) {
    this.isPattern = !isConcrete(pattern);
  }
}
