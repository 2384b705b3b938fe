import { ErrorUri, RouterError } from '../router/errors.js';
import type { Realm } from '../router/realm.js';
import { Subscription } from '../router/subscription.js';
import { isMatchPolicy, patternMatches, type MatchPolicy } from '../router/topic-pattern.js';
import { dictArgument, idArgument, iso8601, stringArgument, type MetaService } from './meta-service.js';

/** Subscription Meta API: `wamp.subscription.on_*` events and the `wamp.subscription.*` procedures. */
export function attachSubscriptionMeta(realm: Realm, service: MetaService): void {
  realm.onActivity({
    subscribed(session, subscription, created) {
      if (created) service.publish('wamp.subscription.on_create', [session.id, subscriptionDetails(subscription)]);
      service.publish('wamp.subscription.on_subscribe', [session.id, subscription.id]);
    },
    unsubscribed(session, subscription, deleted) {
      service.publish('wamp.subscription.on_unsubscribe', [session.id, subscription.id]);
      if (deleted) service.publish('wamp.subscription.on_delete', [session.id, subscription.id]);
    },
  });

  const get = (args: readonly unknown[]): Subscription => {
    const id = idArgument(args, 0, 'subscription');
    const subscription = realm.broker.getSubscription(id);
    if (subscription === undefined) throw new RouterError(ErrorUri.noSuchSubscription, `no subscription ${id} in this realm`);
    return subscription;
  };

  service.register('wamp.subscription.list', () => {
    const lists: Record<MatchPolicy, number[]> = { exact: [], prefix: [], wildcard: [] };
    for (const subscription of realm.broker.subscriptions()) lists[subscription.match].push(subscription.id);
    return { args: [lists] };
  });
  service.register('wamp.subscription.lookup', (args) => {
    const topic = stringArgument(args, 0, 'topic');
    const match = matchOption(dictArgument(args, 1, 'options'));
    // The subscription a plain SUBSCRIBE with these options would join (one without a filter).
    const key = Subscription.keyOf({ uri: topic, match });
    for (const subscription of realm.broker.subscriptions()) if (subscription.key === key) return { args: [subscription.id] };
    return { args: [null] };
  });
  service.register('wamp.subscription.match', (args) => {
    const levels = stringArgument(args, 0, 'topic').split('.');
    const ids: number[] = [];
    for (const subscription of realm.broker.subscriptions()) if (patternMatches(subscription.pattern, levels)) ids.push(subscription.id);
    return { args: [ids.length > 0 ? ids : null] };
  });
  service.register('wamp.subscription.get', (args) => ({ args: [subscriptionDetails(get(args))] }));
  service.register('wamp.subscription.list_subscribers', (args) => ({ args: [[...get(args).subscribers].map((session) => session.id)] }));
  service.register('wamp.subscription.count_subscribers', (args) => ({ args: [get(args).subscribers.size] }));
}

/** The spec's `SubscriptionDetails`. */
export function subscriptionDetails(subscription: Subscription): Record<string, unknown> {
  return { id: subscription.id, created: iso8601(subscription.createdAt), uri: subscription.uri, match: subscription.match };
}

/** `options.match` as in SUBSCRIBE / REGISTER (default `exact`). */
export function matchOption(options: Record<string, unknown>): MatchPolicy {
  const match = options.match ?? 'exact';
  if (!isMatchPolicy(match)) throw new RouterError(ErrorUri.invalidArgument, `unknown match policy ${JSON.stringify(match)}`);
  return match;
}
