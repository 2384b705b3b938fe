import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ErrorUri, LocalClient, RouterError } from '@fox-wamp/core';
import { WAMP_PROCEDURE_METADATA, WAMP_SUBSCRIBE_METADATA } from '../fox-wamp.constants.js';
import { WampContext } from '../context/wamp-context.js';
import { WampContextCreator, type WampHandler } from '../context/wamp-context-creator.js';
import type { WampProcedureMetadata, WampSubscribeMetadata } from '../interfaces/wamp-handler-options.interface.js';
import { RouterService } from '../services/router.service.js';

/**
 * Finds `@WampProcedure` and `@WampSubscribe` methods on every provider and controller at module init
 * (before the listeners open, so no client can call too early) and serves them in process: one session
 * per realm for all decorated handlers (authid `nestjs-handlers`), apart from `RealmService`'s, so that an
 * app's own publications reach its own subscribers; a retained subscription gets a session of its own.
 */
@Injectable()
export class WampHandlerExplorer implements OnModuleInit, OnApplicationShutdown {
  /** One session per realm for the decorated handlers, plus one per retained subscription. */
  private readonly clients = new Map<string, LocalClient>();
  private readonly dedicatedClients: LocalClient[] = [];

  constructor(
    private readonly discoveryService: DiscoveryService,
    private readonly metadataScanner: MetadataScanner,
    private readonly contextCreator: WampContextCreator,
    private readonly routerService: RouterService,
  ) {}

  onModuleInit(): void {
    const seen = new Set<object>();
    for (const wrapper of [...this.discoveryService.getProviders(), ...this.discoveryService.getControllers()]) {
      const instance = wrapper.instance as object | undefined;
      if (wrapper.isAlias || instance === undefined || instance === null || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown> | null;
      if (prototype === null) continue;
      for (const methodName of this.metadataScanner.getAllMethodNames(prototype)) {
        const method = prototype[methodName] as object;
        const procedures: WampProcedureMetadata[] = Reflect.getMetadata(WAMP_PROCEDURE_METADATA, method) ?? [];
        const subscriptions: WampSubscribeMetadata[] = Reflect.getMetadata(WAMP_SUBSCRIBE_METADATA, method) ?? [];
        if (procedures.length === 0 && subscriptions.length === 0) continue;
        const where = `${instance.constructor.name}.${methodName}`;
        if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
          this.routerService.logger.warn(`${where}: WAMP handlers must live on singleton providers; a request-scoped or transient one is skipped`);
          continue;
        }
        const handler = this.contextCreator.create(instance, methodName);
        for (const procedure of procedures) this.serveProcedure(procedure, handler, where);
        for (const subscription of subscriptions) this.serveSubscription(subscription, handler, where);
      }
    }
  }

  onApplicationShutdown(): void {
    for (const client of [...this.clients.values(), ...this.dedicatedClients]) client.close();
    this.clients.clear();
    this.dedicatedClients.length = 0;
  }

  private serveProcedure({ uri, options }: WampProcedureMetadata, handler: WampHandler, where: string): void {
    const client = this.clientFor(options.realm, `@WampProcedure('${uri}') on ${where}`);
    const realm = client.realm.name;
    attempt(`@WampProcedure('${uri}') on ${where}`, () =>
      client.register(
        uri,
        (invocation) => {
          // Shutdown has begun: calls in flight finish, new ones are turned away.
          if (this.routerService.isDraining) throw new RouterError(ErrorUri.canceled, 'the service is shutting down');
          const context = new WampContext('call', realm, invocation.procedure, invocation.args, invocation.kwargs, invocation.details, (result) =>
            invocation.progress(result),
          );
          return handler(context);
        },
        { match: options.match, invoke: options.invoke, concurrency: options.concurrency, reducer: options.reducer },
      ),
    );
    this.routerService.logger.debug(`procedure ${uri} -> ${where}`, { realm });
  }

  private serveSubscription({ topic, options }: WampSubscribeMetadata, handler: WampHandler, where: string): void {
    const what = `@WampSubscribe('${topic}') on ${where}`;
    // A retained replay goes to every handler of the session's subscription: such a handler gets its own.
    const client = options.retained ? this.dedicatedClient(options.realm, what) : this.clientFor(options.realm, what);
    const realm = client.realm.name;
    const logger = this.routerService.logger;
    attempt(what, () =>
      client.subscribe(
        topic,
        async (event) => {
          try {
            await handler(new WampContext('event', realm, event.topic, event.args, event.kwargs, event.details));
          } catch (error) {
            // An event has nobody to answer: a guard's denial or a failure is only worth a log line.
            const uri = error instanceof RouterError ? error.uri : ErrorUri.runtimeError;
            logger.warn(`event handler ${where} for ${event.topic} failed`, { uri, message: (error as Error).message });
          }
        },
        { match: options.match, retained: options.retained, filter: options.filter },
      ),
    );
    logger.debug(`subscription ${topic} -> ${where}`, { realm });
  }

  /** The shared handler session of a realm. */
  private clientFor(realmName: string | undefined, what: string): LocalClient {
    const name = realmName ?? this.routerService.defaultRealmName;
    let client = this.clients.get(name);
    if (client === undefined) {
      client = this.newClient(name, what);
      this.clients.set(name, client);
    }
    return client;
  }

  /** A handler session of its own. */
  private dedicatedClient(realmName: string | undefined, what: string): LocalClient {
    const client = this.newClient(realmName ?? this.routerService.defaultRealmName, what);
    this.dedicatedClients.push(client);
    return client;
  }

  private newClient(realmName: string, what: string): LocalClient {
    const realm = attempt(what, () => this.routerService.realm(realmName));
    return new LocalClient(realm, { authid: 'nestjs-handlers' }, (error, where) =>
      this.routerService.logger.error(`${where} failed`, { error: error instanceof Error ? error.message : String(error) }),
    );
  }
}

/** Runs a registration step; a failure names the decorator and method it came from. */
function attempt<T>(what: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
