import { randomUUID } from 'node:crypto';
import { parseWhen } from '../retained/retained-value.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { EventDelivery, InvocationDelivery } from '../router/deliveries.js';
import type { CallOptions, PublishOptions, RegisterOptions, SubscribeOptions } from '../router/options.js';
import type { Payload } from '../router/payload.js';
import type { Realm } from '../router/realm.js';
import type { Session, SessionInfo, SessionPeer } from '../router/session.js';

/** A result with keyword arguments, or several positional ones. A plain return value becomes `args[0]`. */
export class WampResult {
  constructor(
    readonly args: unknown[] = [],
    readonly kwargs: Record<string, unknown> = {},
  ) {}
}

/** An event as an in-process subscriber sees it. */
export interface LocalEvent {
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
  /** The concrete topic (for pattern subscriptions it differs from the subscribed URI). */
  readonly topic: string;
  readonly publicationId: number;
  readonly details: Record<string, unknown>;
}

/** An invocation as an in-process callee sees it. */
export interface LocalInvocation {
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
  /** The concrete procedure called (for pattern registrations it differs from the registered URI). */
  readonly procedure: string;
  readonly details: Record<string, unknown>;
  /** Sends a progressive result, if the caller asked for them. */
  progress(result: unknown): void;
}

export interface CallResult {
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
}

export type EventHandler = (event: LocalEvent) => void | Promise<void>;
export type ProcedureHandler = (invocation: LocalInvocation) => unknown;

export interface LocalCallOptions extends Omit<CallOptions, 'receiveProgress' | 'progress'> {
  /** Receives progressive results; setting it asks the callee for them. */
  readonly onProgress?: (result: CallResult) => void;
}

/**
 * Publish options as fox-wamp clients write them: `when` is `null` (only if absent) or an object of fields;
 * `will` any value (`null` deletes).
 */
export interface LocalPublishOptions extends Omit<PublishOptions, 'when'> {
  readonly when?: null | Record<string, unknown>;
}

export interface LocalSubscription {
  readonly id: number;
  unsubscribe(): void;
}

export interface LocalRegistration {
  readonly id: number;
  unregister(): void;
}

/**
 * An in-process session of a realm, with the same powers as a remote WAMP client: what the Nest module's
 * `RealmService` and decorated handlers use. Handlers run asynchronously (on a microtask), as they would
 * behind a socket, so a handler that publishes never re-enters the broker mid-delivery.
 */
export class LocalClient implements SessionPeer {
  readonly session: Session;
  private readonly handlers = new Map<number, Set<EventHandler>>();
  private readonly procedures = new Map<number, { procedure: string; handler: ProcedureHandler }>();
  private readonly closeListeners = new Set<(reason: string) => void>();

  constructor(
    readonly realm: Realm,
    info: Partial<Omit<SessionInfo, 'protocol'>> = {},
    private readonly onHandlerError: (error: unknown, where: string) => void = () => {},
  ) {
    this.session = realm.join(this, {
      protocol: 'local',
      authrole: info.authrole ?? 'trusted',
      authmethod: info.authmethod ?? 'local',
      authprovider: info.authprovider ?? 'local',
      transport: 'local',
      authid: info.authid,
    });
  }

  get isOpen(): boolean {
    return this.session.isOpen;
  }

  /**
   * Publishes with fox-wamp's options (`retain`, `when: null | {...}`, `watch`, `will`, ...). Resolves to the
   * publication ID once applied; rejects (e.g. `fox.error.condition_not_met`) otherwise.
   */
  publish(topic: string, args?: unknown[], kwargs?: Record<string, unknown>, options: LocalPublishOptions = {}): Promise<number> {
    let routerOptions: PublishOptions;
    try {
      routerOptions = toPublishOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.realm.publish(this.session, topic, payloadOf(args, kwargs), routerOptions);
  }

  /**
   * Takes the mutex `key`: waits (first come, first served) until no one holds it, then holds it until the
   * returned release is called or this session ends. The stored value says who holds it.
   */
  async lock(key: string, value: Record<string, unknown> = {}): Promise<() => Promise<void>> {
    const token = randomUUID();
    await this.publish(key, [], { ...value, holder: this.session.info.authid, token }, { retain: true, when: null, watch: true, will: null });
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      // Only while still ours: a holder that lost the key (someone deleted it) must not free the next holder's.
      await this.publish(key, undefined, undefined, { retain: true, when: { token } }).catch((error: unknown) => {
        if (!(error instanceof RouterError && error.uri === ErrorUri.conditionNotMet)) throw error;
      });
    };
  }

  subscribe(topic: string, handler: EventHandler, options: SubscribeOptions = {}): LocalSubscription {
    const subscription = this.realm.subscribe(this.session, topic, options);
    let set = this.handlers.get(subscription.id);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(subscription.id, set);
    }
    // One router subscription may serve several local handlers; it goes when the last one does.
    const entry: EventHandler = (event) => handler(event);
    set.add(entry);
    return {
      id: subscription.id,
      unsubscribe: () => {
        if (!set.delete(entry) || set.size > 0) return;
        this.handlers.delete(subscription.id);
        if (this.session.isOpen) this.realm.unsubscribe(this.session, subscription.id);
      },
    };
  }

  register(procedure: string, handler: ProcedureHandler, options: RegisterOptions = {}): LocalRegistration {
    const registration = this.realm.register(this.session, procedure, options);
    this.procedures.set(registration.id, { procedure, handler });
    // In a cluster the registry may refuse it later (a conflicting registration on another router process).
    this.realm.confirmRegistration(this.session, registration, options)?.catch((error: unknown) => {
      this.procedures.delete(registration.id);
      this.realm.logger.error('a registration was refused by the cluster', { procedure, error: String(error) });
    });
    return {
      id: registration.id,
      unregister: () => {
        if (!this.procedures.delete(registration.id)) return;
        if (this.session.isOpen) this.realm.unregister(this.session, registration.id);
      },
    };
  }

  call(procedure: string, args?: unknown[], kwargs?: Record<string, unknown>, options: LocalCallOptions = {}): Promise<CallResult> {
    return new Promise((resolve, reject) => {
      const { onProgress, ...rest } = options;
      this.realm.call(this.session, procedure, payloadOf(args, kwargs), { ...rest, receiveProgress: onProgress !== undefined }, {
        result: (payload, progress) => {
          const result = resultOf(payload);
          if (!progress) resolve(result);
          else onProgress?.(result);
        },
        error: reject,
      });
    });
  }

  /** Leaves the realm. The router calls it with a reason when it ends the session (shutdown, kick). */
  close(reason: string = ErrorUri.closeNormal): void {
    if (!this.session.isOpen) return;
    this.realm.leave(this.session);
    for (const listener of this.closeListeners) listener(reason);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.add(listener);
  }

  // SessionPeer

  sendEvent(event: EventDelivery): void {
    const handlers = this.handlers.get(event.subscriptionId);
    if (handlers === undefined) return;
    // Literal objects (not a spread of resultOf): see docs/performance.md, rule 1.
    const local: LocalEvent = {
      args: event.payload.args ?? [],
      kwargs: event.payload.kwargs ?? {},
      topic: (event.details.topic as string | undefined) ?? this.session.realm.broker.getSubscription(event.subscriptionId)?.uri ?? '',
      publicationId: event.publicationId,
      details: event.details,
    };
    for (const handler of handlers) {
      queueMicrotask(() => {
        Promise.resolve()
          .then(() => handler(local))
          .catch((error: unknown) => this.onHandlerError(error, `event handler for ${local.topic}`));
      });
    }
  }

  sendInvocation(invocation: InvocationDelivery): void {
    const entry = this.procedures.get(invocation.registrationId);
    const session = this.session;
    if (entry === undefined) {
      this.realm.invocationError(session, invocation.requestId, new RouterError(ErrorUri.noSuchProcedure, 'the local procedure was unregistered'));
      return;
    }
    const local: LocalInvocation = {
      args: invocation.payload.args ?? [],
      kwargs: invocation.payload.kwargs ?? {},
      procedure: (invocation.details.procedure as string | undefined) ?? entry.procedure,
      details: invocation.details,
      progress: (result) => {
        if (session.isOpen) this.realm.yield(session, invocation.requestId, toPayload(result), true);
      },
    };
    queueMicrotask(() => {
      Promise.resolve()
        .then(() => entry.handler(local))
        .then(
          (result) => {
            if (session.isOpen) this.realm.yield(session, invocation.requestId, toPayload(result));
          },
          (error: unknown) => {
            if (session.isOpen) this.realm.invocationError(session, invocation.requestId, toRouterError(error));
          },
        );
    });
  }
}

function toPublishOptions(options: LocalPublishOptions): PublishOptions {
  if (!('when' in options)) return options as PublishOptions;
  return { ...options, when: parseWhen(options.when) };
}

function payloadOf(args?: unknown[], kwargs?: Record<string, unknown>): Payload {
  if (kwargs !== undefined) return { args: args ?? [], kwargs };
  return args === undefined ? {} : { args };
}

function resultOf(payload: Payload): CallResult {
  return { args: payload.args ?? [], kwargs: payload.kwargs ?? {} };
}

/** What a handler returned, as a payload: `WampResult` as is, `undefined` as nothing, anything else as args[0]. */
export function toPayload(result: unknown): Payload {
  if (result instanceof WampResult) return { args: result.args, kwargs: result.kwargs };
  return result === undefined ? {} : { args: [result] };
}

/** What a handler threw, as the error the caller gets. Plain errors become `wamp.error.runtime_error`. */
export function toRouterError(error: unknown): RouterError {
  if (error instanceof RouterError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RouterError(ErrorUri.runtimeError, message);
}
