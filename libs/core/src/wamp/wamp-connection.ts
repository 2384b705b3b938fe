import type { Identity } from '../auth/authenticate-hook.js';
import type { AuthResponse, AuthStep } from '../auth/authenticator.js';
import { AuthorizationGate, type GateHandlers } from '../auth/authorization-gate.js';
import type { AuthorizeRequest } from '../auth/authorize-hook.js';
import { isPromiseLike } from '../auth/promise-like.js';
import { MAX_WAITING_AUTHORIZATIONS } from '../auth/router-auth.js';
import type { Call, CallSink } from '../router/call.js';
import type { InvocationAnswer } from '../router/dealer.js';
import type { EventDelivery, InvocationDelivery } from '../router/deliveries.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import { withForwardedDetails } from '../router/forwarded-details.js';
import { randomId } from '../router/ids.js';
import type { RouterLogger } from '../router/logger.js';
import { hasKwargs, type MessageProperties, type Payload } from '../router/payload.js';
import type { Router } from '../router/router.js';
import type { SendQueueDepth, Session, SessionPeer } from '../router/session.js';
import { sessionLogFields, withLogContext } from '../observability/log-context.js';
import type { RouterMetrics } from '../observability/router-metrics.js';
import { frameBytes } from '../observability/wire-size.js';
import { isValidUri } from '../router/uri.js';
import { ROUTER_AGENT, ROUTER_ROLES } from './features.js';
import { MessageCode, messageName, type WampMessage } from './message-codes.js';
import { findShapeViolation } from './message-shapes.js';
import { SerializationError } from './serializer.js';
import type { WampTransport } from './wamp-transport.js';
import * as wireAuth from './wire-auth.js';
import * as wire from './wire-options.js';

type Dict = Record<string, unknown>;

/** How long, and for how many calls, a finished progressive call's request ID is remembered (see `endedStreams`). */
const ENDED_STREAM_GRACE_MS = 60_000;
const MAX_ENDED_STREAMS = 1000;

/**
 * Where a connection is in the spec's session lifecycle. A transport may carry several sessions one after
 * another: after a GOODBYE handshake it is back to `awaiting-hello`.
 */
type ConnectionState =
  | { readonly phase: 'awaiting-hello' }
  /** HELLO accepted; the authenticator (or the client, for a CHALLENGE) has the next word. */
  | { readonly phase: 'authenticating'; readonly handshake: Handshake }
  /** `gate` orders and authorizes the session's requests; absent when the router has no authorize hook. */
  | { readonly phase: 'established'; readonly session: Session; readonly gate?: AuthorizationGate<WampMessage> }
  /** We sent GOODBYE and wait for the client's reply before closing the transport. */
  | { readonly phase: 'closing'; readonly timer: NodeJS.Timeout }
  | { readonly phase: 'closed' };

/** One authentication attempt: it is current while the connection's state holds this very object. */
interface Handshake {
  readonly realm: string;
  readonly method: string;
  /** The ID the session gets if admitted: chosen at HELLO because a WAMP-CRA challenge must name it. */
  readonly sessionId: number;
  readonly timer: NodeJS.Timeout;
  /** Continues with the client's AUTHENTICATE; set while a CHALLENGE is unanswered. */
  respond: ((response: AuthResponse) => AuthStep | PromiseLike<AuthStep>) | undefined;
}

export interface WampConnectionOptions {
  /** How long to wait for the client's GOODBYE reply after ours (ms). */
  readonly goodbyeTimeoutMs: number;
}


/** The message properties of an acknowledged WAMP publication (see `MessageProperties.qos`). */
const ACKNOWLEDGED: MessageProperties = Object.freeze({ qos: 1 });

/**
 * One WAMP connection: the session state machine of the spec, translating messages to realm calls and
 * router callbacks back to messages. A malformed or out-of-place message aborts this session only.
 */
export class WampConnection implements SessionPeer {
  private state: ConnectionState = { phase: 'awaiting-hello' };
  /** The client announced `callee.features.call_canceling` in its HELLO: it understands INTERRUPT. */
  private calleeCancels = false;
  /** This session's unfinished CALLs by request ID, for its CANCELs and progressive call continuations. */
  private readonly openCalls = new Map<number, Call>();
  /** HELLO announced `callee.features.progressive_call_invocations` (and `call_canceling`, which the spec requires). */
  private calleeStreams = false;
  /**
   * Request IDs of this session's progressive calls that ended lately, until when: a continuation CALL that
   * crossed the call's answer on the wire is dropped instead of starting a new call (spec: grace period).
   */
  private readonly endedStreams = new Map<number, number>();
  /** The roles whose HELLO features announced `payload_passthru_mode`. */
  private passthruRoles: ReadonlySet<string> = NO_ROLES;

  /** Logs with this connection's session (or, before it, its peer) in every line. */
  private readonly logger: RouterLogger;
  private readonly metrics: RouterMetrics;
  /** Encoded JSON goes to the transport as UTF-8 bytes (see `WampTransport.textAsBytes`). */
  private readonly textAsBytes: boolean;
  /**
   * This connection's key in `EventDelivery.frames`: the serializer's name, or a key of its own when the
   * frame is JSON as bytes, so that a transport that wants strings never gets another one's Buffer.
   */
  private readonly frameKey: string;

  constructor(
    private readonly router: Router,
    private readonly transport: WampTransport,
    private readonly options: WampConnectionOptions,
    logger: RouterLogger,
  ) {
    this.logger = withLogContext(logger, () => this.logContext());
    this.metrics = router.metrics;
    const serializer = transport.serializer;
    this.textAsBytes = transport.textAsBytes === true && !serializer.binary;
    this.frameKey = this.textAsBytes ? `${serializer.name}:bytes` : serializer.name;
  }

  get session(): Session | undefined {
    return this.state.phase === 'established' ? this.state.session : undefined;
  }

  /**
   * One frame from the transport. `wireBytes`, when the transport knows it, is the frame's size on the wire
   * (the bytes a text frame arrived as), which the metrics would otherwise measure again. Never throws.
   */
  receive(frame: string | Buffer, wireBytes?: number): void {
    if (this.state.phase === 'closed') return;
    let message: WampMessage;
    try {
      message = this.transport.serializer.decode(frame);
    } catch (error) {
      if (this.metrics.enabled) this.meter('received', undefined, frame, wireBytes);
      const reason = error instanceof SerializationError ? error.message : 'undecodable message';
      this.abort(ErrorUri.protocolViolation, reason);
      return;
    }
    if (this.metrics.enabled) this.meter('received', message[0], frame, wireBytes);
    const violation = findShapeViolation(message);
    if (violation !== undefined) {
      this.abort(ErrorUri.protocolViolation, violation);
      return;
    }
    try {
      this.dispatch(message);
    } catch (error) {
      this.failedUnexpectedly(error, message[0]);
    }
  }

  /** The transport is gone (closed by either side or lost). A pending authentication's result is ignored. */
  transportClosed(): void {
    const state = this.state;
    this.state = { phase: 'closed' };
    this.release(state);
  }

  // SessionPeer: what the router sends to this session.

  sendEvent(event: EventDelivery): void {
    const key = this.frameKey;
    let frame = event.frames?.[key];
    if (frame === undefined) {
      frame = this.encode(fourFieldsAndPayload(MessageCode.EVENT, event.subscriptionId, event.publicationId, event.details, event.payload));
      (event.frames ??= {})[key] = frame;
    }
    this.transport.send(frame);
    if (this.metrics.enabled) {
      // A text frame is measured once per event, not once per subscriber; bytes know their length.
      const size = typeof frame === 'string' ? ((event.frameSizes ??= {})[key] ??= frameBytes(frame)) : frame.length;
      this.metrics.sent('wamp', 'EVENT', size + (this.transport.framingBytes ?? 0));
    }
  }

  sendInvocation(invocation: InvocationDelivery): void {
    this.send(fourFieldsAndPayload(MessageCode.INVOCATION, invocation.requestId, invocation.registrationId, invocation.details, invocation.payload));
  }

  sendQueue(): SendQueueDepth {
    return { bufferedBytes: this.transport.bufferedBytes?.() ?? 0, queuedMessages: 0 };
  }

  acceptsProgressiveInvocations(): boolean {
    return this.calleeStreams;
  }

  acceptsPayloadPassthru(role: 'subscriber' | 'caller' | 'callee'): boolean {
    return this.passthruRoles.has(role);
  }

  acceptsInterrupts(): boolean {
    return this.calleeCancels;
  }

  sendInterrupt(invocationId: number, mode: 'kill' | 'killnowait'): boolean {
    if (!this.calleeCancels || this.state.phase !== 'established') return false;
    this.send([MessageCode.INTERRUPT, invocationId, { mode }]);
    return true;
  }

  close(reason: string, message: string): void {
    const state = this.state;
    if (state.phase !== 'established') return;
    // An empty message is none: GOODBYE.Details then carries no "message" (e.g. a kill without one, per the meta API).
    this.send([MessageCode.GOODBYE, message === '' ? {} : { message }, reason]);
    const timer = setTimeout(() => this.closeTransport(false), this.options.goodbyeTimeoutMs);
    timer.unref();
    this.state = { phase: 'closing', timer };
    this.release(state);
  }

  // Incoming messages.

  private dispatch(message: WampMessage): void {
    const state = this.state;
    const code = message[0];
    if (state.phase === 'awaiting-hello') {
      if (code === MessageCode.HELLO) return this.hello(message[1] as string, message[2] as Dict);
      return this.abort(ErrorUri.protocolViolation, `expected HELLO, got message type ${code}`);
    }
    if (state.phase === 'authenticating') return this.duringAuthentication(state.handshake, message);
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
      case MessageCode.ABORT:
        return this.closeTransport(false);
      // Answers to the router's INVOCATIONs never wait behind the session's own requests: another
      // session's call is waiting for them, and the spec orders nothing between RPC and PubSub.
      case MessageCode.YIELD: {
        const payload = this.answerPayload(payloadOf(message, 3), message[2] as Dict, 'YIELD');
        if (payload === undefined) return;
        return this.answerInvocation(message[1] as number, () =>
          session.realm.yield(session, message[1] as number, payload, wire.yieldProgress(message[2] as Dict)),
        );
      }
      case MessageCode.ERROR: {
        if (message[1] !== MessageCode.INVOCATION) {
          return this.abort(ErrorUri.protocolViolation, `ERROR for message type ${String(message[1])}: only INVOCATION errors come from a client`);
        }
        const payload = this.answerPayload(payloadOf(message, 5), message[3] as Dict, 'ERROR');
        if (payload === undefined) return;
        return this.answerInvocation(message[2] as number, () =>
          session.realm.invocationError(session, message[2] as number, new RouterError(message[4] as string, undefined, payload)),
        );
      }
    }
    // A request, or GOODBYE: with an authorize hook, in line behind the session's undecided requests.
    if (state.gate === undefined) return this.perform(session, message);
    this.submitToGate(state.gate, session, message);
  }

  /** Carries out a request (or GOODBYE) of an established session. */
  private perform(session: Session, message: WampMessage): void {
    switch (message[0]) {
      case MessageCode.GOODBYE:
        return this.goodbye();
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
          const options = wire.registerOptions(message[2] as Dict);
          const registration = session.realm.register(session, message[3] as string, options);
          // In a cluster, REGISTERED waits for the cluster's registry (a conflict there is this request's ERROR).
          const confirmed = session.realm.confirmRegistration(session, registration, options);
          if (confirmed === undefined) return this.send([MessageCode.REGISTERED, message[1], registration.id]);
          confirmed.then(
            () => this.send([MessageCode.REGISTERED, message[1], registration.id]),
            (error: unknown) => this.sendError(MessageCode.REGISTER, message[1] as number, error instanceof RouterError ? error : new RouterError(ErrorUri.runtimeError, String(error))),
          );
        });
      case MessageCode.UNREGISTER:
        return this.request(MessageCode.UNREGISTER, message[1] as number, () => {
          session.realm.unregister(session, message[2] as number);
          this.send([MessageCode.UNREGISTERED, message[1]]);
        });
      case MessageCode.CALL:
        return this.call(session, message);
      case MessageCode.CANCEL:
        return this.cancel(session, message[1] as number, message[2] as Dict);
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
    // An unknown realm is refused before authentication; an auto-realm is only created for an admitted client.
    if (this.router.getRealm(realmName) === undefined && !this.router.autoRealms) {
      return this.abort(ErrorUri.noSuchRealm, `no realm named ${realmName}`, false);
    }
    this.calleeCancels = calleeFeature(roles as Dict, 'call_canceling');
    this.calleeStreams = this.calleeCancels && calleeFeature(roles as Dict, 'progressive_call_invocations');
    this.passthruRoles = rolesAnnouncing(roles as Dict, 'payload_passthru_mode');
    const offer = wireAuth.authOffer(details);
    if (typeof offer === 'string') return this.abort(ErrorUri.protocolViolation, offer);
    const auth = this.router.auth;
    const authenticator = auth.pick(offer.authmethods);
    if (authenticator === undefined) {
      const message = `none of the authentication methods ${offer.authmethods.join(', ')} is offered here (offered: ${auth.methods.join(', ')})`;
      return this.abort(ErrorUri.noMatchingAuthMethod, message, false);
    }
    const handshake: Handshake = {
      realm: realmName,
      method: authenticator.method,
      sessionId: randomId(),
      respond: undefined,
      timer: setTimeout(() => {
        this.authenticationFailed(handshake, new RouterError(ErrorUri.authenticationFailed, 'authentication timed out'));
      }, auth.timeoutMs),
    };
    handshake.timer.unref();
    this.state = { phase: 'authenticating', handshake };
    const connection = { protocol: 'wamp', transport: this.transport.kind, remoteAddress: this.transport.remoteAddress } as const;
    const hello = {
      realm: realmName,
      authmethod: authenticator.method,
      authid: offer.authid,
      authextra: offer.authextra,
      session: handshake.sessionId,
      connection,
    };
    this.authenticationStep(handshake, () => authenticator.begin(hello));
  }

  /** What the client may send while it authenticates: its AUTHENTICATE, or a way out. */
  private duringAuthentication(handshake: Handshake, message: WampMessage): void {
    switch (message[0]) {
      case MessageCode.AUTHENTICATE: {
        const respond = handshake.respond;
        if (respond === undefined) return this.abort(ErrorUri.protocolViolation, 'AUTHENTICATE without a pending CHALLENGE');
        handshake.respond = undefined;
        const response = { signature: message[1] as string, extra: message[2] as Dict };
        return this.authenticationStep(handshake, () => respond(response));
      }
      case MessageCode.ABORT:
        return this.closeTransport(false);
      case MessageCode.GOODBYE:
        // The client gives up before it has joined: the attempt is dropped and the transport can carry a new HELLO.
        this.release(this.state);
        this.state = { phase: 'awaiting-hello' };
        return this.send([MessageCode.GOODBYE, {}, ErrorUri.goodbyeAndOut]);
      default:
        return this.abort(ErrorUri.protocolViolation, `${messageName(message[0]) ?? message[0]} before the session is established`);
    }
  }

  /** Runs one authenticator step; synchronous steps continue at once, asynchronous ones when they settle. */
  private authenticationStep(handshake: Handshake, step: () => AuthStep | PromiseLike<AuthStep>): void {
    let next: AuthStep | PromiseLike<AuthStep>;
    try {
      next = step();
    } catch (error) {
      return this.authenticationFailed(handshake, error);
    }
    if (!isPromiseLike(next)) return this.authenticationAdvanced(handshake, next);
    next.then(
      (settled) => this.guarded(MessageCode.HELLO, () => this.authenticationAdvanced(handshake, settled)),
      (error: unknown) => this.authenticationFailed(handshake, error),
    );
  }

  private authenticationAdvanced(handshake: Handshake, step: AuthStep): void {
    if (!this.isCurrent(handshake)) return;
    if ('challenge' in step) {
      handshake.respond = step.respond;
      return this.send([MessageCode.CHALLENGE, handshake.method, step.challenge]);
    }
    this.welcome(handshake, step.identity);
  }

  /** The attempt is refused (or timed out): ABORT, unless the connection has moved on meanwhile. */
  private authenticationFailed(handshake: Handshake, error: unknown): void {
    if (!this.isCurrent(handshake)) {
      this.logger.debug('late authentication result ignored', { remote: this.transport.remoteAddress });
      return;
    }
    if (error instanceof RouterError) {
      if (error.uri === ErrorUri.authenticationFailed) {
        this.logger.warn('authentication failed', { message: error.message, remote: this.transport.remoteAddress });
      }
      return this.abort(error.uri, error.message);
    }
    // The hook's own error may carry internals: it goes to the log, the client gets the spec's reason only.
    this.logger.info('authentication denied', { error: String(error), remote: this.transport.remoteAddress });
    this.abort(ErrorUri.authenticationDenied, 'authentication denied', false);
  }

  private isCurrent(handshake: Handshake): boolean {
    return this.state.phase === 'authenticating' && this.state.handshake === handshake;
  }

  private welcome(handshake: Handshake, identity: Identity): void {
    clearTimeout(handshake.timer);
    const realm = this.router.resolveRealm(handshake.realm);
    if (realm === undefined) return this.abort(ErrorUri.noSuchRealm, `no realm named ${handshake.realm}`, false);
    // A cluster node cut off from its engine takes no sessions (they would see only this process).
    if (this.router.cluster?.healthy === false) return this.abort(ErrorUri.engineUnavailable, 'the cluster engine is unavailable', false);
    // Without an authid (anonymous), the session ID is the authid: unique and stable for the session's life.
    const session = realm.join(
      this,
      {
        protocol: 'wamp',
        authid: identity.authid,
        authrole: identity.authrole,
        authmethod: handshake.method,
        authprovider: identity.authprovider ?? 'static',
        authextra: identity.authextra,
        transport: this.transport.kind,
        serializer: this.transport.serializer.name,
        remoteAddress: this.transport.remoteAddress,
      },
      handshake.sessionId,
    );
    const auth = this.router.auth;
    const gate =
      auth.authorize === undefined
        ? undefined
        : new AuthorizationGate(auth.authorize, this.gateHandlers(), {
            timeoutMs: auth.timeoutMs,
            maxWaiting: MAX_WAITING_AUTHORIZATIONS,
            logger: this.logger,
          });
    this.state = { phase: 'established', session, gate };
    const info = session.info;
    this.send([
      MessageCode.WELCOME,
      session.id,
      {
        realm: realm.name,
        authid: info.authid,
        authrole: info.authrole,
        authmethod: info.authmethod,
        authprovider: info.authprovider,
        ...(info.authextra === undefined ? {} : { authextra: info.authextra }),
        agent: ROUTER_AGENT,
        roles: ROUTER_ROLES,
      },
    ]);
  }

  /** Puts a request in the session's line; bad options are answered at once (nothing was done). */
  private submitToGate(gate: AuthorizationGate<WampMessage>, session: Session, message: WampMessage): void {
    let request: AuthorizeRequest | undefined;
    try {
      request = wireAuth.authorizeRequest(session, message);
    } catch (error) {
      if (!(error instanceof RouterError)) throw error;
      return this.refuse(message, error);
    }
    gate.submit(message, request);
  }

  private gateHandlers(): GateHandlers<WampMessage> {
    return {
      perform: (message, permit) => {
        const state = this.state;
        if (permit.disclose) wireAuth.discloseRequester(message);
        if (state.phase === 'established') this.guarded(message[0], () => this.perform(state.session, message));
      },
      refuse: (message, error) => this.guarded(message[0], () => this.refuse(message, error)),
      overflow: () => {
        this.logger.warn('too many requests awaiting authorization', { limit: MAX_WAITING_AUTHORIZATIONS, remote: this.transport.remoteAddress });
        this.abort(ErrorUri.authorizationFailed, `more than ${MAX_WAITING_AUTHORIZATIONS} requests await authorization`, false);
      },
    };
  }

  /** A request the router will not carry out: ERROR, or for an unacknowledged PUBLISH only a debug log. */
  private refuse(message: WampMessage, error: RouterError): void {
    const type = message[0];
    if (type === MessageCode.PUBLISH && !wire.wantsAcknowledge(message[2] as Dict)) {
      this.logger.debug('unacknowledged publish refused', { topic: message[3], uri: error.uri, message: error.message });
      return;
    }
    this.sendError(type, message[1] as number, error);
  }

  private goodbye(): void {
    this.release(this.state);
    this.send([MessageCode.GOODBYE, {}, ErrorUri.goodbyeAndOut]);
    this.state = { phase: 'awaiting-hello' };
  }

  private publish(session: Session, message: WampMessage): void {
    const requestId = message[1] as number;
    const wireOptions = message[2] as Dict;
    const acknowledge = wire.wantsAcknowledge(wireOptions);
    if (this.passthruUnannounced('publisher', wireOptions, 'PUBLISH')) return;
    // `request` inlined: this runs for every publication, and its closure would be garbage on each.
    let published: number | Promise<number>;
    try {
      const options = wire.publishOptions(wireOptions);
      // An acknowledged publication counts as QoS 1 for MQTT subscribers (the bridge's QoS mapping).
      const payload = this.withCarriedProperties(payloadOf(message, 4), wireOptions, acknowledge ? ACKNOWLEDGED : undefined);
      // A plain publication is delivered within this call: its ID comes back at once, with no promise.
      published = session.realm.publishNow(session, message[3] as string, payload, options);
    } catch (error) {
      if (!(error instanceof RouterError)) throw error;
      if (acknowledge) this.sendError(MessageCode.PUBLISH, requestId, error);
      else this.logger.debug('unacknowledged request failed', { type: MessageCode.PUBLISH, uri: error.uri, message: error.message });
      return;
    }
    if (typeof published === 'number') {
      if (acknowledge) this.send([MessageCode.PUBLISHED, requestId, published]);
      return;
    }
    if (!acknowledge) {
      published.then(undefined, this.unacknowledgedPublishFailed);
      return;
    }
    published.then(
      (publicationId) => this.send([MessageCode.PUBLISHED, requestId, publicationId]),
      (error: unknown) => this.publishFailed(requestId, true, error),
    );
  }

  /** The rejection handler of every unacknowledged publication (one function, not a closure per publication). */
  private readonly unacknowledgedPublishFailed = (error: unknown): void => this.publishFailed(0, false, error);

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
    const open = this.openCalls.get(requestId);
    if (open?.options.progress === true) return this.continueCall(session, open, message);
    if (this.isEndedStream(requestId)) {
      this.logger.debug('continuation of a finished progressive call dropped', { session: session.id, requestId });
      return;
    }
    // The spec would abort a caller that sends `progress: true` without announcing progressive_call_invocations
    // in HELLO; wampy 8 never announces it but streams with it, so the router takes the option as it comes.
    let call: Call | undefined;
    const forget = () => {
      if (call === undefined || this.openCalls.get(requestId) !== call) return;
      this.openCalls.delete(requestId);
      if (call.options.progress === true) this.endStream(requestId);
    };
    const sink: CallSink = {
      result: (payload, progress) => {
        if (!progress) forget();
        this.send(threeFieldsAndPayload(MessageCode.RESULT, requestId, withForwardedDetails(progress ? { progress: true } : {}, payload.properties), payload));
      },
      error: (error) => {
        forget();
        this.sendError(MessageCode.CALL, requestId, error);
      },
    };
    const wireOptions = message[2] as Dict;
    if (this.passthruUnannounced('caller', wireOptions, 'CALL')) return;
    this.request(MessageCode.CALL, requestId, () => {
      const payload = this.withCarriedProperties(payloadOf(message, 4), wireOptions);
      call = session.realm.call(session, message[3] as string, payload, wire.callOptions(wireOptions), sink);
      if (call.state !== 'done') this.openCalls.set(requestId, call);
    });
  }

  /** A CALL repeating an open progressive call's request ID: its next chunk. Options other than `progress` are frozen. */
  private continueCall(session: Session, call: Call, message: WampMessage): void {
    const progress = (message[2] as Dict).progress === true;
    if (!session.realm.continueCall(call, payloadOf(message, 4), progress)) {
      this.logger.debug('chunk for a progressive call that takes no more dropped', { session: session.id, requestId: message[1] });
    }
  }

  private endStream(requestId: number): void {
    if (this.endedStreams.size >= MAX_ENDED_STREAMS) this.endedStreams.delete(this.endedStreams.keys().next().value!);
    this.endedStreams.set(requestId, Date.now() + ENDED_STREAM_GRACE_MS);
  }

  private isEndedStream(requestId: number): boolean {
    const until = this.endedStreams.get(requestId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.endedStreams.delete(requestId);
    return false;
  }

  /**
   * A CANCEL: for a call that is over (or never was) it changes nothing, since the answer may already be on
   * its way. A mode the spec does not define is a protocol violation: a CANCEL has no reply to refuse it with.
   */
  private cancel(session: Session, requestId: number, options: Dict): void {
    const mode = wire.cancelMode(options);
    if (mode !== 'skip' && mode !== 'kill' && mode !== 'killnowait') return this.abort(ErrorUri.protocolViolation, mode);
    const call = this.openCalls.get(requestId);
    if (call === undefined) {
      this.logger.debug('CANCEL for no open call ignored', { session: session.id, requestId });
      return;
    }
    session.realm.cancel(call, mode);
  }

  /**
   * A YIELD or ERROR: late answers (caller gone) are dropped; answers to invocations never sent abort. A YIELD
   * in Payload Passthru Mode that the caller cannot take gets the spec's ERROR (the call failed for the caller).
   */
  private answerInvocation(invocationId: number, answer: () => InvocationAnswer): void {
    const outcome = answer();
    if (outcome === 'unknown') {
      this.abort(ErrorUri.protocolViolation, `no INVOCATION ${invocationId} was sent to this session`);
    } else if (outcome === 'unsupported') {
      const message = 'the caller did not announce payload_passthru_mode; the call failed with the same error';
      this.send([MessageCode.ERROR, MessageCode.YIELD, invocationId, {}, ErrorUri.featureNotSupported, [message]]);
    }
  }

  /**
   * The payload of a PUBLISH, CALL, YIELD or ERROR with what its options carry beside it as message properties:
   * Payload Passthru Mode and the trace context (`base`: properties it has anyway). Throws `invalid_argument`
   * for `ppt_*` attributes or a payload that break the spec's rules.
   */
  private withCarriedProperties(payload: Payload, options: Dict, base?: MessageProperties): Payload {
    if (!wire.mayCarryProperties(options)) return base === undefined ? payload : withProperties(payload, base);
    const passthru = wire.passthruOptions(options);
    const trace = wire.traceOptions(options);
    if (passthru === undefined && trace === undefined) return base === undefined ? payload : withProperties(payload, base);
    if (passthru !== undefined) wire.checkPassthruPayload(payload);
    return withProperties(payload, { ...base, ...(passthru === undefined ? {} : { passthru }), ...(trace === undefined ? {} : { trace }) });
  }

  /**
   * A callee's YIELD or ERROR payload with its properties; undefined when it breaks the Payload Passthru rules,
   * which aborts the session: a YIELD or ERROR has no reply to refuse it with.
   */
  private answerPayload(payload: Payload, options: Dict, what: string): Payload | undefined {
    if (this.passthruUnannounced('callee', options, what)) return undefined;
    try {
      return this.withCarriedProperties(payload, options);
    } catch (error) {
      if (!(error instanceof RouterError)) throw error;
      this.abort(ErrorUri.protocolViolation, error.message);
      return undefined;
    }
  }

  /**
   * Spec (Payload Passthru Mode): a message in that mode (it has `ppt_scheme`) from a client that did not
   * announce the feature for its role is a protocol violation. Aborts the session and returns true then.
   */
  private passthruUnannounced(role: string, options: Dict, what: string): boolean {
    if (options.ppt_scheme === undefined || options.ppt_scheme === null || this.passthruRoles.has(role)) return false;
    this.abort(ErrorUri.protocolViolation, `${what} in Payload Passthru Mode, but HELLO did not announce ${role}.features.payload_passthru_mode`);
    return true;
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
    this.send(withPayload([MessageCode.ERROR, type, requestId, withForwardedDetails({}, error.properties), error.uri], error.payload));
  }

  private send(message: WampMessage): void {
    if (this.state.phase === 'closed') return;
    const frame = this.encode(message);
    this.transport.send(frame);
    if (this.metrics.enabled) this.meter('sent', message[0], frame);
  }

  /** One message as the transport takes it: JSON text converted to its bytes when the transport prefers them. */
  private encode(message: WampMessage): string | Buffer {
    const frame = this.transport.serializer.encode(message);
    return this.textAsBytes ? Buffer.from(frame as string, 'utf8') : frame;
  }

  /**
   * Counts one message and its wire size (`wireBytes` when the transport told it); called only with metrics on
   * (measuring a text frame reads all of it).
   */
  private meter(direction: 'received' | 'sent', code: number | undefined, frame: string | Buffer, wireBytes?: number): void {
    const type = (code === undefined ? undefined : messageName(code)) ?? 'unknown';
    const bytes = (wireBytes ?? frameBytes(frame)) + (this.transport.framingBytes ?? 0);
    if (direction === 'received') this.metrics.received('wamp', type, bytes);
    else this.metrics.sent('wamp', type, bytes);
  }

  /** The fields of every log line: the session once it is established, the peer before. */
  private logContext(): Record<string, unknown> {
    const session = this.session;
    if (session !== undefined) return sessionLogFields(session);
    const remoteAddress = this.transport.remoteAddress;
    return { protocol: 'wamp', transport: this.transport.kind, ...(remoteAddress === undefined ? {} : { remoteAddress }) };
  }

  /** Ends the session with ABORT and closes the transport. */
  private abort(reason: string, message: string, protocolError = reason === ErrorUri.protocolViolation): void {
    if (this.state.phase === 'closed') return;
    this.logger.info('aborting WAMP session', { reason, message, remote: this.transport.remoteAddress });
    this.send([MessageCode.ABORT, { message }, reason]);
    this.closeTransport(protocolError);
  }

  private closeTransport(protocolError: boolean): void {
    const state = this.state;
    this.state = { phase: 'closed' };
    this.release(state);
    this.transport.close(protocolError);
  }

  /**
   * Lets go of what a phase holds: the session (it leaves the realm; requests still awaiting authorization
   * are dropped) or a timer. Callers move `state` on first or right after, so late callbacks see they are stale.
   */
  private release(state: ConnectionState): void {
    switch (state.phase) {
      case 'established':
        this.openCalls.clear();
        this.endedStreams.clear();
        state.gate?.close();
        state.session.realm.leave(state.session);
        return;
      case 'authenticating':
        clearTimeout(state.handshake.timer);
        return;
      case 'closing':
        clearTimeout(state.timer);
        return;
    }
  }

  /**
   * Runs `work` from an asynchronous continuation (a hook that settled): an unexpected exception aborts this
   * session instead of escaping as an unhandled rejection.
   */
  private guarded(type: number, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.failedUnexpectedly(error, type);
    }
  }

  private failedUnexpectedly(error: unknown, type: number): void {
    this.logger.error('unexpected error while handling a WAMP message', { error: String(error), type });
    this.abort(ErrorUri.protocolViolation, 'the router failed to handle this message');
  }
}

const NO_ROLES: ReadonlySet<string> = new Set();

/** The roles of HELLO.Details.roles whose features announce `feature`. */
function rolesAnnouncing(roles: Dict, feature: string): ReadonlySet<string> {
  let announcing: Set<string> | undefined;
  for (const [role, details] of Object.entries(roles)) {
    const features = (details as { features?: Dict } | null)?.features;
    if (typeof features === 'object' && features !== null && features[feature] === true) (announcing ??= new Set()).add(role);
  }
  return announcing ?? NO_ROLES;
}

/** Whether HELLO.Details.roles.callee.features announces `feature`. */
function calleeFeature(roles: Dict, feature: string): boolean {
  const callee = roles.callee as { features?: Dict } | undefined;
  return typeof callee === 'object' && callee !== null && callee.features?.[feature] === true;
}

/** Payload from the optional trailing Arguments|list and ArgumentsKw|dict fields starting at `index`. */
function payloadOf(message: WampMessage, index: number): Payload {
  const args = message[index] as unknown[] | undefined;
  const kwargs = message[index + 1] as Dict | undefined;
  if (args === undefined) return {};
  return kwargs === undefined ? { args } : { args, kwargs };
}

/**
 * A payload of `payloadOf` with message properties. Written as literals rather than `{ ...payload, properties }`:
 * a spread copy gets an object layout of its own, which makes every later read of a payload field in the
 * router slower (it sees one more layout) for the sake of one allocation, and on Node 20 such copies survive
 * young-generation collections (docs/performance.md, rule 1).
 */
function withProperties(payload: Payload, properties: MessageProperties): Payload {
  const { args, kwargs } = payload;
  if (kwargs !== undefined) return { args, kwargs, properties };
  return args === undefined ? { properties } : { args, properties };
}

/** Appends a payload the way the spec wants it: omitted when empty, `[]` args when only kwargs are set. */
function withPayload(message: WampMessage, payload: Payload): WampMessage {
  if (hasKwargs(payload)) message.push(payload.args ?? [], payload.kwargs);
  else if (payload.args !== undefined && payload.args.length > 0) message.push(payload.args);
  return message;
}

/*
 * `withPayload` for the messages sent once per event or call, built at their final length: a push onto an
 * array literal copies it into a larger backing store first, garbage on every message.
 */

/** EVENT, INVOCATION: the code, three fields, then the payload. */
function fourFieldsAndPayload(code: number, a: unknown, b: unknown, c: unknown, payload: Payload): WampMessage {
  if (hasKwargs(payload)) return [code, a, b, c, payload.args ?? [], payload.kwargs];
  return payload.args !== undefined && payload.args.length > 0 ? [code, a, b, c, payload.args] : [code, a, b, c];
}

/** RESULT: the code, two fields, then the payload. */
function threeFieldsAndPayload(code: number, a: unknown, b: unknown, payload: Payload): WampMessage {
  if (hasKwargs(payload)) return [code, a, b, payload.args ?? [], payload.kwargs];
  return payload.args !== undefined && payload.args.length > 0 ? [code, a, b, payload.args] : [code, a, b];
}
