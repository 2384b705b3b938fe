import type { EventDelivery, InvocationDelivery } from '../router/deliveries.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import { isWampId, randomId } from '../router/ids.js';
import type { Payload } from '../router/payload.js';
import type { Realm } from '../router/realm.js';
import { Session, type SessionPeer } from '../router/session.js';
import { parseWampPattern } from '../router/topic-pattern.js';

/** A meta procedure: gets the call's arguments and the calling session, returns the result payload. */
export type MetaProcedure = (args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, caller: Session) => Payload | Promise<Payload>;

/**
 * The router's own presence in a realm: the callee of the `wamp.*` meta procedures and the publisher of the
 * meta events. Its session is not joined to the realm: it is in no session list or count and emits no meta
 * events of its own; its procedures live in the realm's `routerDealer`, apart from the realm's registrations
 * (`wamp.registration.*` does not show them). Events it publishes
 * carry no publisher (they come from the router, not from a client session).
 */
export class MetaService implements SessionPeer {
  readonly session: Session;
  private readonly procedures = new Map<number, MetaProcedure>();

  constructor(readonly realm: Realm) {
    this.session = new Session(randomId(), realm, this, {
      protocol: 'local',
      authid: 'router',
      authrole: 'router',
      authmethod: 'internal',
      authprovider: 'internal',
      transport: 'internal',
    });
  }

  /** Registers a meta procedure (exact match, single callee): the reserved `wamp.*` URIs bypass the realm's check. */
  register(procedure: string, handler: MetaProcedure): void {
    const registration = this.realm.routerDealer.register(this.session, procedure, 'exact', parseWampPattern(procedure, 'exact'), {});
    this.procedures.set(registration.id, handler);
  }

  /**
   * Publishes a meta event with positional arguments. Delivery waits for a microtask, so the request that
   * caused the event is answered first (SUBSCRIBED before the `on_subscribe` a subscriber may receive about
   * itself), and events keep the order they were published in. Meta events are not kept in the history.
   */
  publish(topic: string, args: unknown[]): void {
    queueMicrotask(() => {
      this.realm.broker.deliver({
        publisher: undefined,
        topic,
        levels: topic.split('.'),
        payload: { args },
        options: {},
        publicationId: randomId(),
        eventId: 0,
      });
    });
  }

  // SessionPeer

  sendEvent(_event: EventDelivery): void {
    // The router session subscribes to nothing.
  }

  sendInvocation(invocation: InvocationDelivery): void {
    const handler = this.procedures.get(invocation.registrationId);
    const call = this.session.invocations.get(invocation.requestId);
    if (handler === undefined || call === undefined) return;
    const { requestId } = invocation;
    const args = invocation.payload.args ?? [];
    const kwargs = invocation.payload.kwargs ?? {};
    // Answered on a later microtask, as a remote callee would: the dealer has finished routing the call.
    queueMicrotask(() => {
      Promise.resolve()
        .then(() => handler(args, kwargs, call.caller))
        .then(
          (result) => this.realm.routerDealer.yield(this.session, requestId, result, false),
          (error: unknown) => this.realm.routerDealer.error(this.session, requestId, asRouterError(error)),
        );
    });
  }

  close(): void {
    // The router session lives as long as its realm.
  }
}

function asRouterError(error: unknown): RouterError {
  if (error instanceof RouterError) return error;
  return new RouterError(ErrorUri.runtimeError, error instanceof Error ? error.message : String(error));
}

/** Argument checks shared by the meta procedures: a wrong argument is `wamp.error.invalid_argument`. */
export function idArgument(args: readonly unknown[], index: number, what: string): number {
  const value = args[index];
  if (!isWampId(value)) throw new RouterError(ErrorUri.invalidArgument, `argument ${index + 1} (${what}) must be a WAMP ID`);
  return value;
}

export function stringArgument(args: readonly unknown[], index: number, what: string): string {
  const value = args[index];
  if (typeof value !== 'string' || value.length === 0) {
    throw new RouterError(ErrorUri.invalidArgument, `argument ${index + 1} (${what}) must be a non-empty string`);
  }
  return value;
}

/** An optional dict argument (absent or null: empty). */
export function dictArgument(args: readonly unknown[], index: number, what: string): Record<string, unknown> {
  const value = args[index];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new RouterError(ErrorUri.invalidArgument, `argument ${index + 1} (${what}) must be a dict`);
  }
  return value as Record<string, unknown>;
}

export function iso8601(time: number): string {
  return new Date(time).toISOString();
}
