import type { MessageProperties, Payload } from './payload.js';

/** Error and close URIs the router sends; the spec's names unless prefixed `fox.`. */
export const ErrorUri = {
  // Session close / abort reasons
  closeNormal: 'wamp.close.normal',
  systemShutdown: 'wamp.close.system_shutdown',
  closeRealm: 'wamp.close.close_realm',
  goodbyeAndOut: 'wamp.close.goodbye_and_out',
  protocolViolation: 'wamp.error.protocol_violation',
  noSuchRealm: 'wamp.error.no_such_realm',
  noSuchRole: 'wamp.error.no_such_role',
  // Authentication (advanced profile): ABORT reasons
  /** None of the client's `authmethods` is one the router offers. */
  noMatchingAuthMethod: 'wamp.error.no_matching_auth_method',
  /** The credentials were refused (e.g. a wrong ticket). */
  authenticationDenied: 'wamp.error.authentication_denied',
  /** Authentication could not be completed: a technical failure or a timeout ("fail secure"). */
  authenticationFailed: 'wamp.error.authentication_failed',
  // Interaction errors
  invalidUri: 'wamp.error.invalid_uri',
  invalidArgument: 'wamp.error.invalid_argument',
  noSuchProcedure: 'wamp.error.no_such_procedure',
  procedureAlreadyExists: 'wamp.error.procedure_already_exists',
  noSuchRegistration: 'wamp.error.no_such_registration',
  noSuchSubscription: 'wamp.error.no_such_subscription',
  noSuchSession: 'wamp.error.no_such_session',
  notAuthorized: 'wamp.error.not_authorized',
  /** The authorization check itself failed (the hook threw or timed out): the request is refused. */
  authorizationFailed: 'wamp.error.authorization_failed',
  canceled: 'wamp.error.canceled',
  /** A feature the request needs is not supported by the peer that would have to serve it. */
  featureNotSupported: 'wamp.error.feature_not_supported',
  /** The call's `timeout` expired before the callee answered (spec: Call Timeouts). */
  timeout: 'wamp.error.timeout',
  runtimeError: 'wamp.error.runtime_error',
  /** All callees of a procedure are busy and its call queue is full. */
  callQueueFull: 'fox.error.call_queue_full',
  /** A conditional publish (`when`) whose condition does not hold, published without `watch`. */
  conditionNotMet: 'fox.error.condition_not_met',
  /** The cluster engine (Redis) could not take the request: it is unreachable, or this node lost its lease. */
  engineUnavailable: 'fox.error.engine_unavailable',
} as const;

/** An error the router answers with: a URI plus optional args/kwargs, carried to WAMP ERROR messages as is. */
export class RouterError extends Error {
  override readonly name = 'RouterError';
  readonly args?: unknown[];
  readonly kwargs?: Record<string, unknown>;
  /** What a callee's ERROR carries beside its payload (Payload Passthru Mode, trace context), passed on with it. */
  readonly properties?: MessageProperties;

  constructor(
    readonly uri: string,
    message?: string,
    payload: Payload = message === undefined ? {} : { args: [message] },
  ) {
    super(message ?? uri);
    this.args = payload.args;
    this.kwargs = payload.kwargs;
    if (payload.properties !== undefined) this.properties = payload.properties;
  }

  get payload(): Payload {
    return this.properties === undefined ? { args: this.args, kwargs: this.kwargs } : { args: this.args, kwargs: this.kwargs, properties: this.properties };
  }
}
