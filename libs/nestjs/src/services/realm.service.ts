import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import {
  LocalClient,
  type CallResult,
  type EventHandler,
  type LocalCallOptions,
  type LocalRegistration,
  type LocalSubscription,
  type MatchPolicy,
  type ProcedureHandler,
  type LocalPublishOptions,
  type Realm,
  type RegisterOptions,
  type RetainedEntry,
  type SubscribeOptions,
} from '@fox-wamp/core';
import { RouterService } from './router.service.js';

/** Internal token: the realm of a `RealmService` made for `@InjectRealm(name)`; absent for the default one. */
export const REALM_SERVICE_REALM_NAME = 'FoxWampRealmServiceRealmName';

/**
 * One realm, in process: publish, subscribe, call and register with the powers of a WAMP client, as one
 * session of the realm (authrole `trusted`). Injected as is for the default realm; `@InjectRealm(name)`
 * for another. Its session ends at shutdown, after in-flight calls have drained.
 */
@Injectable()
export class RealmService implements OnApplicationShutdown {
  readonly realm: Realm;
  readonly client: LocalClient;

  constructor(
    routerService: RouterService,
    @Optional() @Inject(REALM_SERVICE_REALM_NAME) realmName?: string,
  ) {
    this.realm = realmName === undefined ? routerService.defaultRealm : routerService.realm(realmName);
    this.client = new LocalClient(this.realm, { authid: 'nestjs' }, (error, where) =>
      routerService.logger.error(`${where} failed`, { error: error instanceof Error ? error.message : String(error) }),
    );
  }

  get realmName(): string {
    return this.realm.name;
  }

  get sessionId(): number {
    return this.client.session.id;
  }

  /**
   * Publishes (to everyone but this session, unless `excludeMe: false`); resolves to the publication ID once
   * applied. Retained publishes with a `when` that does not hold reject with `fox.error.condition_not_met`.
   */
  publish(topic: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: LocalPublishOptions): Promise<number> {
    return this.client.publish(topic, args, kwargs, options);
  }

  /**
   * Takes the mutex `key` (waiting, first come first served, while someone else holds it) and resolves to
   * its release. The lock is also released when this application's session ends (`will: null`), so a
   * crashed process never keeps it. `value` is stored with the lock, for whoever wants to see the holder.
   */
  lock(key: string, value?: Record<string, unknown>): Promise<() => Promise<void>> {
    return this.client.lock(key, value);
  }

  subscribe(topic: string, handler: EventHandler, options?: SubscribeOptions): LocalSubscription {
    return this.client.subscribe(topic, handler, options);
  }

  /** Calls a procedure; rejects with a `RouterError` carrying the callee's error URI, args and kwargs. */
  call(procedure: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: LocalCallOptions): Promise<CallResult> {
    return this.client.call(procedure, args, kwargs, options);
  }

  register(procedure: string, handler: ProcedureHandler, options?: RegisterOptions): LocalRegistration {
    return this.client.register(procedure, handler, options);
  }

  /** The retained entry of a topic (the whole publication: payload, publisher, IDs), if there is one. */
  retained(topic: string): Promise<RetainedEntry | undefined> {
    return this.realm.retained(topic);
  }

  /** The retained entries whose topics match a pattern (`key.#`, or `match` as for subscriptions). */
  findRetained(topic: string, match?: MatchPolicy): Promise<RetainedEntry[]> {
    return this.realm.findRetained(topic, match);
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
