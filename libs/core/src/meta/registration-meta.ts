import { ErrorUri, RouterError } from '../router/errors.js';
import type { Realm } from '../router/realm.js';
import type { Registration } from '../router/registration.js';
import { comparePrecedence, patternMatches, type MatchPolicy } from '../router/topic-pattern.js';
import { dictArgument, idArgument, iso8601, stringArgument, type MetaService } from './meta-service.js';
import { matchOption } from './subscription-meta.js';

/** Registration Meta API: `wamp.registration.on_*` events and the `wamp.registration.*` procedures. */
export function attachRegistrationMeta(realm: Realm, service: MetaService): void {
  realm.onActivity({
    registered(session, registration, created) {
      if (created) service.publish('wamp.registration.on_create', [session.id, registrationDetails(registration)]);
      service.publish('wamp.registration.on_register', [session.id, registration.id]);
    },
    unregistered(session, registration, deleted) {
      service.publish('wamp.registration.on_unregister', [session.id, registration.id]);
      if (deleted) service.publish('wamp.registration.on_delete', [session.id, registration.id]);
    },
  });

  const visible = () => realm.dealer.registrations();
  const get = (args: readonly unknown[]): Registration => {
    const id = idArgument(args, 0, 'registration');
    const registration = realm.dealer.getRegistration(id);
    if (registration === undefined) {
      throw new RouterError(ErrorUri.noSuchRegistration, `no registration ${id} in this realm`);
    }
    return registration;
  };

  service.register('wamp.registration.list', () => {
    const lists: Record<MatchPolicy, number[]> = { exact: [], prefix: [], wildcard: [] };
    for (const registration of visible()) lists[registration.match].push(registration.id);
    return { args: [lists] };
  });
  service.register('wamp.registration.lookup', (args) => {
    const procedure = stringArgument(args, 0, 'procedure');
    const match = matchOption(dictArgument(args, 1, 'options'));
    for (const registration of visible()) {
      if (registration.uri === procedure && registration.match === match) return { args: [registration.id] };
    }
    return { args: [null] };
  });
  service.register('wamp.registration.match', (args) => {
    // The registration a CALL of this URI would reach, by the spec's precedence.
    const levels = stringArgument(args, 0, 'procedure').split('.');
    let best: Registration | undefined;
    for (const registration of visible()) {
      // A reducer is never reached by a CALL (it reduces events on its topics).
      if (realm.dealer.isReducer(registration) || !patternMatches(registration.pattern, levels)) continue;
      if (best === undefined || comparePrecedence(registration.pattern, best.pattern) < 0) best = registration;
    }
    return { args: [best?.id ?? null] };
  });
  service.register('wamp.registration.get', (args) => ({ args: [registrationDetails(get(args))] }));
  service.register('wamp.registration.list_callees', (args) => ({ args: [get(args).callees.map((callee) => callee.session.id)] }));
  service.register('wamp.registration.count_callees', (args) => ({ args: [get(args).callees.length] }));
}

/** The spec's `RegistrationDetails`. */
export function registrationDetails(registration: Registration): Record<string, unknown> {
  return {
    id: registration.id,
    created: iso8601(registration.createdAt),
    uri: registration.uri,
    match: registration.match,
    invoke: registration.policy,
  };
}
