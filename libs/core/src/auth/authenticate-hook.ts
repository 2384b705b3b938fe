import type { SessionProtocol } from '../router/session.js';

/** How a client is connected: for hooks that decide by address or transport. */
export interface ConnectionInfo {
  /** The protocol the client speaks (`wamp`; MQTT later). */
  readonly protocol: SessionProtocol;
  /** `websocket`, `rawsocket`, ... */
  readonly transport: string;
  readonly remoteAddress?: string;
}

/** A client asking to join a realm, as the application's `authenticate` hook sees it. */
export interface AuthRequest {
  readonly realm: string;
  /** The method the router chose from the client's `authmethods`: `ticket` or `anonymous`. */
  readonly authmethod: string;
  /** Who the client says it is (HELLO.Details.authid); may be absent, e.g. for `anonymous`. */
  readonly authid?: string;
  /** HELLO.Details.authextra (`{}` when absent). */
  readonly authextra: Record<string, unknown>;
  /** The secret the method carries: for `ticket` the ticket from AUTHENTICATE; absent for `anonymous`. */
  readonly secret?: string;
  readonly connection: ConnectionInfo;
}

/** Who a session is, as authentication established it. */
export interface Identity {
  /**
   * The authid the session gets. Omitted: the authid the client gave in HELLO (which the hook accepted), or
   * the session ID when it gave none.
   */
  readonly authid?: string;
  /** The role the session acts in (what `authorize` hooks usually decide by). */
  readonly authrole: string;
  /** Who vouched for the identity (WELCOME.Details.authprovider); default `dynamic` for a hook's identity. */
  readonly authprovider?: string;
  /** Sent to the client in WELCOME.Details.authextra. */
  readonly authextra?: Record<string, unknown>;
}

/**
 * The application's authentication: returns the identity the client may join as, or throws (rejects) to
 * refuse it. A thrown `RouterError` chooses the ABORT reason and message the client sees; anything else is
 * `wamp.error.authentication_denied` with a generic message (the error itself is only logged).
 */
export type AuthenticateHook = (request: AuthRequest) => Identity | Promise<Identity>;
