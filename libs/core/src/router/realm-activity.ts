import type { Registration } from './registration.js';
import type { Session } from './session.js';
import type { Subscription } from './subscription.js';

/**
 * What changed in a realm's subscriptions and registrations, as the realm reports it to observers (the meta
 * API publishes these as `wamp.subscription.*` / `wamp.registration.*` events). `created` / `deleted` say the
 * subscription or registration itself came into being with this session, or went away with it.
 */
export interface RealmActivityListener {
  subscribed?(session: Session, subscription: Subscription, created: boolean): void;
  unsubscribed?(session: Session, subscription: Subscription, deleted: boolean): void;
  registered?(session: Session, registration: Registration, created: boolean): void;
  unregistered?(session: Session, registration: Registration, deleted: boolean): void;
}
