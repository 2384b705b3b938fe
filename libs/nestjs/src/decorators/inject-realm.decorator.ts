import { Inject } from '@nestjs/common';
import { getRealmToken } from '../fox-wamp.constants.js';
import { RealmService } from '../services/realm.service.js';

/**
 * Injects the `RealmService` of the realm `name`; without a name, the default realm's. The realm must be
 * named in `FoxWampModule.forRoot({ realms })` (or `forRootAsync({ realms })`), so that its provider exists.
 */
export function InjectRealm(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(name === undefined ? RealmService : getRealmToken(name));
}
