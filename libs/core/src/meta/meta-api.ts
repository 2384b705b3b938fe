import type { Realm } from '../router/realm.js';
import { attachEventHistory } from './event-history.js';
import { attachRegistrationMeta } from './registration-meta.js';
import { MetaService } from './meta-service.js';
import { attachSessionMeta } from './session-meta.js';
import { attachSubscriptionMeta } from './subscription-meta.js';
import { attachTestaments } from './testament.js';

/**
 * Gives a realm the WAMP meta API (session, subscription and registration meta events and procedures,
 * session testaments, and the event history of subscriptions), served by the router's own session in that
 * realm. Returns that service.
 */
export function attachMetaApi(realm: Realm): MetaService {
  const service = new MetaService(realm);
  attachSessionMeta(realm, service);
  attachSubscriptionMeta(realm, service);
  attachRegistrationMeta(realm, service);
  attachTestaments(realm, service);
  attachEventHistory(realm, service);
  return service;
}
