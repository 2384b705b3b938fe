import { Broker } from './broker.js';
import type { Call, CallSink } from './call.js';
import { Dealer, type InvocationAnswer } from './dealer.js';
import { ErrorUri, RouterError } from './errors.js';
import type { RouterLogger } from './logger.js';
import type { CallOptions, PublishOptions, RegisterOptions, SubscribeOptions } from './options.js';
import type { Payload } from './payload.js';
import type { Registration } from './registration.js';
import { Session, type SessionInfo, type SessionPeer } from './session.js';
import type { Subscription } from './subscription.js';
import { randomId } from './ids.js';
import { parseWampPattern, uriUseFor } from './topic-pattern.js';
import { isValidUri, type UriCheck } from './uri.js';

export interface RealmOptions {
  /** `loose` (default) or `strict` URI checks for this realm. */
  readonly uriCheck?: UriCheck;
  /** Calls that may wait per registration when all callees are busy (default 1000). */
  readonly maxQueuedCalls?: number;
}

export type SessionListener = (session: Session) => void;

/**
 * A realm: one routing and administrative domain with its own broker, dealer and sessions. This is the
 * API every gate uses (and the Nest module through an in-process session): it validates URIs, applies the
 * realm's rules and hands the work to the broker or dealer. Errors are thrown as `RouterError`.
 */
export class Realm {
  readonly broker = new Broker();
  readonly dealer: Dealer;
  readonly uriCheck: UriCheck;
  private readonly sessionsById = new Map<number, Session>();
  private readonly joinListeners = new Set<SessionListener>();
  private readonly leaveListeners = new Set<SessionListener>();

  constructor(
    readonly name: string,
    options: RealmOptions,
    private readonly logger: RouterLogger,
  ) {
    this.uriCheck = options.uriCheck ?? 'loose';
    this.dealer = new Dealer({ maxQueuedCalls: options.maxQueuedCalls ?? 1000 });
  }

  get sessionCount(): number {
    return this.sessionsById.size;
  }

  sessions(): IterableIterator<Session> {
    return this.sessionsById.values();
  }

  getSession(id: number): Session | undefined {
    return this.sessionsById.get(id);
  }

  /** Admits a session to the realm. Without an `authid`, the session's ID (as a string) is its authid. */
  join(peer: SessionPeer, info: Omit<SessionInfo, 'authid'> & { authid?: string }): Session {
    const id = randomId();
    const session = new Session(id, this, peer, { ...info, authid: info.authid ?? String(id) });
    this.sessionsById.set(session.id, session);
    this.logger.debug('session joined', { realm: this.name, session: session.id, protocol: info.protocol, authid: info.authid });
    for (const listener of this.joinListeners) listener(session);
    return session;
  }

  /** Removes a session and everything it held. Safe to call twice. */
  leave(session: Session): void {
    if (!session.isOpen) return;
    session.markClosed();
    this.sessionsById.delete(session.id);
    this.broker.removeSession(session);
    this.dealer.removeSession(session);
    this.logger.debug('session left', { realm: this.name, session: session.id });
    for (const listener of this.leaveListeners) listener(session);
  }

  onSessionJoin(listener: SessionListener): () => void {
    this.joinListeners.add(listener);
    return () => this.joinListeners.delete(listener);
  }

  onSessionLeave(listener: SessionListener): () => void {
    this.leaveListeners.add(listener);
    return () => this.leaveListeners.delete(listener);
  }

  subscribe(session: Session, topic: string, options: SubscribeOptions = {}): Subscription {
    const match = options.match ?? 'exact';
    this.checkUri(topic, uriUseFor(match), 'topic');
    return this.broker.subscribe(session, topic, match, parseWampPattern(topic, match));
  }

  unsubscribe(session: Session, subscriptionId: number): void {
    this.broker.unsubscribe(session, subscriptionId);
  }

  /** Publishes and returns the publication ID. `publisher` is undefined for router-originated events. */
  publish(publisher: Session | undefined, topic: string, payload: Payload, options: PublishOptions = {}): number {
    this.checkUri(topic, 'concrete', 'topic');
    return this.broker.publish(publisher, topic, topic.split('.'), payload, options);
  }

  register(session: Session, procedure: string, options: RegisterOptions = {}): Registration {
    const match = options.match ?? 'exact';
    this.checkUri(procedure, uriUseFor(match), 'procedure');
    if (options.concurrency !== undefined && !(Number.isInteger(options.concurrency) && options.concurrency >= 1)) {
      throw new RouterError(ErrorUri.invalidArgument, `concurrency must be an integer of at least 1, not ${String(options.concurrency)}`);
    }
    return this.dealer.register(session, procedure, match, parseWampPattern(procedure, match), options);
  }

  unregister(session: Session, registrationId: number): void {
    this.dealer.unregister(session, registrationId);
  }

  call(caller: Session, procedure: string, payload: Payload, options: CallOptions, sink: CallSink): Call {
    this.checkUri(procedure, 'concrete', 'procedure');
    return this.dealer.call(caller, procedure, procedure.split('.'), payload, options, sink);
  }

  yield(callee: Session, invocationId: number, payload: Payload, progress = false): InvocationAnswer {
    return this.dealer.yield(callee, invocationId, payload, progress);
  }

  invocationError(callee: Session, invocationId: number, error: RouterError): InvocationAnswer {
    return this.dealer.error(callee, invocationId, error);
  }

  /** Ends every session of the realm with `reason` (e.g. `wamp.close.system_shutdown`). */
  closeAll(reason: string, message: string): void {
    for (const session of [...this.sessionsById.values()]) session.peer.close(reason, message);
  }

  private checkUri(uri: unknown, use: Parameters<typeof isValidUri>[1], what: string): asserts uri is string {
    if (!isValidUri(uri, use, this.uriCheck)) {
      throw new RouterError(ErrorUri.invalidUri, `invalid ${what} URI ${JSON.stringify(uri)} (${this.uriCheck} check)`);
    }
  }
}
