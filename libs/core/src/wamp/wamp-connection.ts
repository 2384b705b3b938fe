import type { CallSink } from '../router/call.js';
import type { InvocationAnswer } from '../router/dealer.js';
import type { EventDelivery, InvocationDelivery } from '../router/deliveries.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { RouterLogger } from '../router/logger.js';
import { hasKwargs, type Payload } from '../router/payload.js';
import type { Router } from '../router/router.js';
import type { Session, SessionPeer } from '../router/session.js';
import { isValidUri } from '../router/uri.js';
import { ROUTER_AGENT, ROUTER_ROLES } from './features.js';
import { MessageCode, type WampMessage } from './message-codes.js';
import { findShapeViolation } from './message-shapes.js';
import { SerializationError } from './serializer.js';
import type { WampTransport } from './wamp-transport.js';
import * as wire from './wire-options.js';

type Dict = Record<string, unknown>;

/**
 * Where a connection is in the spec's session lifecycle. A transport may carry several sessions one after
 * another: after a GOODBYE handshake it is back to `awaiting-hello`.
 */
type ConnectionState =
  | { readonly phase: 'awaiting-hello' }
  | { readonly phase: 'established'; readonly session: Session }
  /** We sent GOODBYE and wait for the client's reply before closing the transport. */
  | { readonly phase: 'closing'; readonly timer: NodeJS.Timeout }
  | { readonly phase: 'closed' };

export interface WampConnectionOptions {
  /** How long to wait for the client's GOODBYE reply after ours (ms). */
  readonly goodbyeTimeoutMs: number;
}

/**
 * One WAMP connection: the session state machine of the spec, translating messages to realm calls and
 * router callbacks back to messages. A malformed or out-of-place message aborts this session only.
 */
export class WampConnection implements SessionPeer {
  private state: ConnectionState = { phase: 'awaiting-hello' };

  constructor(
    private readonly router: Router,
    private readonly transport: WampTransport,
    private readonly options: WampConnectionOptions,
    private readonly logger: RouterLogger,
  ) {}

  get session(): Session | undefined {
    return this.state.phase === 'established' ? this.state.session : undefined;
  }

  /** One frame from the transport. Never throws. */
  receive(frame: string | Buffer): void {
    if (this.state.phase === 'closed') return;
    let message: WampMessage;
    try {
      message = this.transport.serializer.decode(frame);
    } catch (error) {
      const reason = error instanceof SerializationError ? error.message : 'undecodable message';
      this.abort(ErrorUri.protocolViolation, reason);
      return;
    }
    const violation = findShapeViolation(message);
    if (violation !== undefined) {
      this.abort(ErrorUri.protocolViolation, violation);
      return;
    }
    try {
      this.dispatch(message);
    } catch (error) {
      this.logger.error('unexpected error while handling a WAMP message', { error: String(error), type: message[0] });
      this.abort(ErrorUri.protocolViolation, 'the router failed to handle this message');
    }
  }

  /** The transport is gone (closed by either side or lost). */
  transportClosed(): void {
    const state = this.state;
    this.state = { phase: 'closed' };
    if (state.phase === 'established') state.session.realm.leave(state.session);
    if (state.phase === 'closing') clearTimeout(state.timer);
  }

  // SessionPeer: what the router sends to this session.

  sendEvent(event: EventDelivery): void {
    const name = this.transport.serializer.name;
    let frame = event.frames?.[name];
    if (frame === undefined) {
      frame = this.transport.serializer.encode(
        withPayload([MessageCode.EVENT, event.subscriptionId, event.publicationId, event.details], event.payload),
      );
      (event.frames ??= {})[name] = frame;
    }
    this.transport.send(frame);
  }

  sendInvocation(invocation: InvocationDelivery): void {
    this.send(
      withPayload(
        [MessageCode.INVOCATION, invocation.requestId, invocation.registrationId, invocation.details],
        invocation.payload,
      ),
    );
  }

  close(reason: string, message: string): void {
    if (this.state.phase !== 'established') return;
    const session = this.state.session;
    this.send([MessageCode.GOODBYE, { message }, reason]);
    const timer = setTimeout(() => this.closeTransport(false), this.options.goodbyeTimeoutMs);
    timer.unref();
    this.state = { phase: 'closing', timer };
    session.realm.leave(session);
  }

  // Incoming messages.

  private dispatch(message: WampMessage): void {
    const state = this.state;
    const code = message[0];
    if (state.phase === 'awaiting-hello') {
      if (code === MessageCode.HELLO) return this.hello(message[1] as string, message[2] as Dict);
      return this.abort(ErrorUri.protocolViolation, `expected HELLO, got message type ${code}`);
    }
    if (state.phase === 'closing') {
      // Only the GOODBYE reply matters now; anything else crossed ours on the wire.
      if (code === MessageCode.GOODBYE || code === MessageCode.ABORT) this.closeTransport(false);
      return;
    }
    if (state.phase !== 'established') return;
    const session = state.session;
    switch (code) {
      case MessageCode.HELLO:
        return this.abort(ErrorUri.protocolViolation, 'HELLO received on an established session');
      case MessageCode.AUTHENTICATE:
        return this.abort(ErrorUri.protocolViolation, 'AUTHENTICATE without a CHALLENGE');
      case MessageCode.GOODBYE:
        return this.goodbye(session);
      case MessageCode.ABORT:
        this.state = { phase: 'closed' };
        session.realm.leave(session);
        return this.closeTransport(false);
      case MessageCode.SUBSCRIBE:
        return this.request(MessageCode.SUBSCRIBE, message[1] as number, () => {
          const subscription = session.realm.subscribe(session, message[3] as string, wire.subscribeOptions(message[2] as Dict));
          this.send([MessageCode.SUBSCRIBED, message[1], subscription.id]);
        });
      case MessageCode.UNSUBSCRIBE:
        return this.request(MessageCode.UNSUBSCRIBE, message[1] as number, () => {
          session.realm.unsubscribe(session, message[2] as number);
          this.send([MessageCode.UNSUBSCRIBED, message[1]]);
        });
      case MessageCode.PUBLISH:
        return this.publish(session, message);
      case MessageCode.REGISTER:
        return this.request(MessageCode.REGISTER, message[1] as number, () => {
          const registration = session.realm.register(session, message[3] as string, wire.registerOptions(message[2] as Dict));
          this.send([MessageCode.REGISTERED, message[1], registration.id]);
        });
      case MessageCode.UNREGISTER:
        return this.request(MessageCode.UNREGISTER, message[1] as number, () => {
          session.realm.unregister(session, message[2] as number);
          this.send([MessageCode.UNREGISTERED, message[1]]);
        });
      case MessageCode.CALL:
        return this.call(session, message);
      case MessageCode.CANCEL:
        // call_canceling is not announced: a CANCEL changes nothing and the call completes as usual.
        this.logger.debug('CANCEL ignored: call canceling is not supported', { session: session.id });
        return;
      case MessageCode.YIELD:
        return this.answerInvocation(message[1] as number, () =>
          session.realm.yield(session, message[1] as number, payloadOf(message, 3), wire.yieldProgress(message[2] as Dict)),
        );
      case MessageCode.ERROR:
        if (message[1] !== MessageCode.INVOCATION) {
          return this.abort(ErrorUri.protocolViolation, `ERROR for message type ${String(message[1])}: only INVOCATION errors come from a client`);
        }
        return this.answerInvocation(message[2] as number, () =>
          session.realm.invocationError(
            session,
            message[2] as number,
            new RouterError(message[4] as string, undefined, payloadOf(message, 5)),
          ),
        );
    }
  }

  private hello(realmName: string, details: Dict): void {
    if (!isValidUri(realmName, 'concrete')) {
      return this.abort(ErrorUri.invalidUri, `invalid realm name ${JSON.stringify(realmName)}`, false);
    }
    const roles = details.roles;
    if (typeof roles !== 'object' || roles === null || Object.keys(roles).length === 0) {
      return this.abort(ErrorUri.protocolViolation, 'HELLO.Details.roles must announce at least one role');
    }
    const realm = this.router.resolveRealm(realmName);
    if (realm === undefined) {
      return this.abort(ErrorUri.noSuchRealm, `no realm named ${realmName}`, false);
    }
    // Anonymous sessions get their session ID as authid: unique and stable for the session's life.
    const session = realm.join(this, {
      protocol: 'wamp',
      authrole: 'anonymous',
      authmethod: 'anonymous',
      authprovider: 'static',
      transport: this.transport.kind,
      serializer: this.transport.serializer.name,
      remoteAddress: this.transport.remoteAddress,
    });
    this.state = { phase: 'established', session };
    this.send([
      MessageCode.WELCOME,
      session.id,
      {
        realm: realm.name,
        authid: session.info.authid,
        authrole: session.info.authrole,
        authmethod: session.info.authmethod,
        authprovider: session.info.authprovider,
        agent: ROUTER_AGENT,
        roles: ROUTER_ROLES,
      },
    ]);
  }

  private goodbye(session: Session): void {
    session.realm.leave(session);
    this.send([MessageCode.GOODBYE, {}, ErrorUri.goodbyeAndOut]);
    this.state = { phase: 'awaiting-hello' };
  }

  private publish(session: Session, message: WampMessage): void {
    const requestId = message[1] as number;
    const acknowledge = wire.wantsAcknowledge(message[2] as Dict);
    this.request(MessageCode.PUBLISH, requestId, () => {
      const options = wire.publishOptions(message[2] as Dict);
      session.realm.publish(session, message[3] as string, payloadOf(message, 4), options).then(
        (publicationId) => {
          if (acknowledge) this.send([MessageCode.PUBLISHED, requestId, publicationId]);
        },
        (error: unknown) => this.publishFailed(requestId, acknowledge, error),
      );
    }, acknowledge);
  }

  private publishFailed(requestId: number, acknowledge: boolean, error: unknown): void {
    if (!(error instanceof RouterError)) {
      this.logger.error('publish failed', { error: String(error) });
      error = new RouterError(ErrorUri.runtimeError, 'the router failed to apply the publication');
    }
    if (acknowledge) this.sendError(MessageCode.PUBLISH, requestId, error as RouterError);
    else this.logger.debug('unacknowledged publish failed', { uri: (error as RouterError).uri, message: (error as RouterError).message });
  }

  private call(session: Session, message: WampMessage): void {
    const requestId = message[1] as number;
    const sink: CallSink = {
      result: (payload, progress) => {
        this.send(withPayload([MessageCode.RESULT, requestId, progress ? { progress: true } : {}], payload));
      },
      error: (error) => this.sendError(MessageCode.CALL, requestId, error),
    };
    this.request(MessageCode.CALL, requestId, () => {
      session.realm.call(session, message[3] as string, payloadOf(message, 4), wire.callOptions(message[2] as Dict), sink);
    });
  }

  /** A YIELD or ERROR: late answers (caller gone) are dropped; answers to invocations never sent abort. */
  private answerInvocation(invocationId: number, answer: () => InvocationAnswer): void {
    if (answer() === 'unknown') {
      this.abort(ErrorUri.protocolViolation, `no INVOCATION ${invocationId} was sent to this session`);
    }
  }

  /**
   * Runs a client request; a RouterError it throws becomes an ERROR reply for that request. `reply` false
   * (an unacknowledged PUBLISH) means the client expects no answer, so errors are only logged.
   */
  private request(type: number, requestId: number, work: () => void, reply = true): void {
    try {
      work();
    } catch (error) {
      if (!(error instanceof RouterError)) throw error;
      if (reply) this.sendError(type, requestId, error);
      else this.logger.debug('unacknowledged request failed', { type, uri: error.uri, message: error.message });
    }
  }

  private sendError(type: number, requestId: number, error: RouterError): void {
    this.send(withPayload([MessageCode.ERROR, type, requestId, {}, error.uri], error.payload));
  }

  private send(message: WampMessage): void {
    if (this.state.phase === 'closed') return;
    this.transport.send(this.transport.serializer.encode(message));
  }

  /** Ends the session with ABORT and closes the transport. */
  private abort(reason: string, message: string, protocolError = reason === ErrorUri.protocolViolation): void {
    const state = this.state;
    if (state.phase === 'closed') return;
    this.logger.info('aborting WAMP session', { reason, message, remote: this.transport.remoteAddress });
    this.send([MessageCode.ABORT, { message }, reason]);
    if (state.phase === 'established') state.session.realm.leave(state.session);
    this.closeTransport(protocolError);
  }

  private closeTransport(protocolError: boolean): void {
    const state = this.state;
    if (state.phase === 'closing') clearTimeout(state.timer);
    if (state.phase === 'established') state.session.realm.leave(state.session);
    this.state = { phase: 'closed' };
    this.transport.close(protocolError);
  }
}

/** Payload from the optional trailing Arguments|list and ArgumentsKw|dict fields starting at `index`. */
function payloadOf(message: WampMessage, index: number): Payload {
  const args = message[index] as unknown[] | undefined;
  const kwargs = message[index + 1] as Dict | undefined;
  if (args === undefined) return {};
  return kwargs === undefined ? { args } : { args, kwargs };
}

/** Appends a payload the way the spec wants it: omitted when empty, `[]` args when only kwargs are set. */
function withPayload(message: WampMessage, payload: Payload): WampMessage {
  if (hasKwargs(payload)) message.push(payload.args ?? [], payload.kwargs);
  else if (payload.args !== undefined && payload.args.length > 0) message.push(payload.args);
  return message;
}
