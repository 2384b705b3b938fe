import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { ErrorUri, LocalClient, RouterError, type LocalEvent, type LocalInvocation, type Realm, type RegisterOptions } from '@fox-wamp/core';
import { WampContext } from '../context/wamp-context.js';
import { RouterService } from '../services/router.service.js';
import { FoxWampContext } from './fox-wamp.context.js';
import { resolveRealm, type RealmSource } from './realm-source.js';
import { rpcErrorToWamp } from './rpc-error.js';
import { toWampResult, valueOf } from './wamp-payload.js';

export interface FoxWampStrategyOptions {
  /** The realm to serve in (default: the module's default realm). */
  readonly realm?: string;
}

/** The transport id of this strategy (`@MessagePattern(uri, FOX_WAMP_TRANSPORT)` to pin a handler to it). */
export const FOX_WAMP_TRANSPORT = Symbol('FOX_WAMP_TRANSPORT');

/**
 * A `@nestjs/microservices` transport over the in-process router: every `@MessagePattern(uri)` handler is
 * registered as a WAMP procedure and every `@EventPattern(topic)` handler subscribed to a topic, so that
 * WAMP clients call and publish to them. Patterns are URIs (strings). `concurrency`, `match` and `invoke`
 * may be given as the decorator's extras: `@MessagePattern('svc.echo', { concurrency: 5 })`.
 *
 * Handler input is one value (see `valueOf`: one arg, the kwargs, ...); its output becomes the call's
 * result, a stream's values before the last go out as progressive results. Connect it to a hybrid app:
 * `app.connectMicroservice({ strategy: new FoxWampStrategy(app.get(RouterService)) })`.
 */
export class FoxWampStrategy extends Server implements CustomTransportStrategy {
  override transportId = FOX_WAMP_TRANSPORT;
  protected override readonly logger = new Logger(FoxWampStrategy.name);
  private client: LocalClient | undefined;

  constructor(
    private readonly source: RealmSource,
    private readonly options: FoxWampStrategyOptions = {},
  ) {
    super();
  }

  listen(callback: (error?: unknown, info?: unknown) => void): void {
    try {
      const realm = resolveRealm(this.source, this.options.realm);
      const client = new LocalClient(realm, { authid: 'nestjs-microservice' }, (error, where) =>
        this.logger.error(`${where} failed: ${error instanceof Error ? error.message : String(error)}`),
      );
      this.client = client;
      for (const [pattern, handler] of this.messageHandlers) {
        if (handler.isEventHandler) this.subscribe(client, realm, pattern);
        else this.register(client, realm, pattern, handler);
      }
      callback();
    } catch (error) {
      this.client?.close();
      this.client = undefined;
      callback(error);
    }
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  on(): never {
    throw new Error('FoxWampStrategy has no events to listen to');
  }

  unwrap<T>(): T {
    if (this.client === undefined) throw new Error('FoxWampStrategy is not listening');
    return this.client as T;
  }

  private register(client: LocalClient, realm: Realm, pattern: string, handler: MessageHandler): void {
    const extras = (handler.extras ?? {}) as RegisterOptions;
    guard(pattern, () =>
      client.register(pattern, (invocation) => this.invoke(realm, handler, invocation), {
        concurrency: extras.concurrency,
        match: extras.match,
        invoke: extras.invoke,
      }),
    );
  }

  private subscribe(client: LocalClient, realm: Realm, pattern: string): void {
    guard(pattern, () =>
      client.subscribe(pattern, (event: LocalEvent) => {
        const context = new WampContext('event', realm.name, event.topic, event.args, event.kwargs, event.details);
        return this.handleEvent(pattern, { pattern, data: valueOf(event.args, event.kwargs) }, new FoxWampContext(context));
      }),
    );
  }

  /** Runs the handler's stream: every value but the last is a progressive result, the last the result. */
  private async invoke(realm: Realm, handler: MessageHandler, invocation: LocalInvocation): Promise<unknown> {
    // As for decorated handlers: once the app shuts down, calls in flight finish and new ones are turned away.
    if (this.source instanceof RouterService && this.source.isDraining) {
      throw new RouterError(ErrorUri.canceled, 'the service is shutting down');
    }
    const context = new WampContext('call', realm.name, invocation.procedure, invocation.args, invocation.kwargs, invocation.details, (result) =>
      invocation.progress(result),
    );
    let stream$;
    try {
      stream$ = this.transformToObservable(await handler(valueOf(invocation.args, invocation.kwargs), new FoxWampContext(context)));
    } catch (error) {
      throw rpcErrorToWamp(error);
    }
    return new Promise((resolve, reject) => {
      let last: { value: unknown } | undefined;
      stream$.subscribe({
        next: (value) => {
          if (last !== undefined) invocation.progress(toWampResult(last.value));
          last = { value };
        },
        error: (error: unknown) => reject(rpcErrorToWamp(error)),
        complete: () => resolve(toWampResult(last?.value)),
      });
    });
  }
}

function guard(pattern: string, step: () => unknown): void {
  try {
    step();
  } catch (error) {
    const reason = error instanceof RouterError && error.uri === ErrorUri.invalidUri ? 'WAMP patterns are URIs such as "service.echo"' : '';
    throw new Error(`FoxWampStrategy: cannot serve pattern ${pattern}: ${(error as Error).message}${reason ? ` (${reason})` : ''}`);
  }
}
