import type { Realm } from '@fox-wamp/core';
import { RouterService } from '../services/router.service.js';

/** Where the bridge finds its realm: the app's `RouterService` (plus an optional realm name) or a realm. */
export type RealmSource = RouterService | Realm;

export function resolveRealm(source: RealmSource, realmName: string | undefined): Realm {
  if (source instanceof RouterService) return realmName === undefined ? source.defaultRealm : source.realm(realmName);
  if (realmName !== undefined && realmName !== source.name) {
    throw new Error(`FoxWamp: given the realm ${source.name}, the option realm: ${realmName} cannot be honoured`);
  }
  return source;
}
