import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  LocalClient,
  type CallResult,
  type EventHandler,
  type LocalCallOptions,
  type LocalRegistration,
  type LocalSubscription,
  type ProcedureHandler,
  type PublishOptions,
  type Realm,
  type RegisterOptions,
  type SubscribeOptions,
} from '@fox-wamp/core';
import { RouterService } from './router.service.js';

/**
 * The default realm, in process: publish, subscribe, call and register with the powers of a WAMP client,
 * as one session of the realm (authrole `trusted`).
 */
@Injectable()
export class RealmService implements OnModuleDestroy {
  readonly realm: Realm;
  readonly client: LocalClient;

  constructor(routerService: RouterService) {
    this.realm = routerService.defaultRealm;
    this.client = new LocalClient(this.realm, { authid: 'nestjs' }, (error, where) =>
      routerService.logger.error(`${where} failed`, { error: error instanceof Error ? error.message : String(error) }),
    );
  }

  get sessionId(): number {
    return this.client.session.id;
  }

  publish(topic: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: PublishOptions): number {
    return this.client.publish(topic, args, kwargs, options);
  }

  subscribe(topic: string, handler: EventHandler, options?: SubscribeOptions): LocalSubscription {
    return this.client.subscribe(topic, handler, options);
  }

  call(procedure: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: LocalCallOptions): Promise<CallResult> {
    return this.client.call(procedure, args, kwargs, options);
  }

  register(procedure: string, handler: ProcedureHandler, options?: RegisterOptions): LocalRegistration {
    return this.client.register(procedure, handler, options);
  }

  onModuleDestroy(): void {
    this.client.close();
  }
}
