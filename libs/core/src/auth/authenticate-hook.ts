import type { SessionProtocol } from '../router/session.js';
import type { IdentityWithPubkeys } from './cryptosign-authenticator.js';
import type { IdentityWithScram } from './scram-authenticator.js';

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
  /** The method the router chose from the client's `authmethods`: `ticket`, `wampcra`, `cryptosign`, `wamp-scram` or `anonymous`. */
  readonly authmethod: string;
  /** Who the client says it is (HELLO.Details.authid); may be absent, e.g. for `anonymous` and `cryptosign`. */
  readonly authid?: string;
  /** HELLO.Details.authextra (`{}` when absent); for `cryptosign` it carries the client's `pubkey` (hex). */
  readonly authextra: Record<string, unknown>;
  /**
   * The secret the method carries: for `ticket` the ticket from AUTHENTICATE; absent for `anonymous`, and for
   * `wampcra`, `cryptosign` and `wamp-scram` (there the hook is asked before the CHALLENGE and returns the
   * secret, the public keys or the stored SCRAM keys; see `IdentityWithSecret`, `IdentityWithPubkeys`,
   * `IdentityWithScram`).
   */
  readonly secret?: string;
  /** The ID the session will have once admitted (WAMP-CRA's challenge names it; a hook may log it). */
  readonly session: number;
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
 * What the hook returns for a challenge-response method (`wampcra`): the identity the client joins as if it
 * proves it knows `secret`. The router sends the CHALLENGE and checks the signature itself.
 */
export interface IdentityWithSecret extends Identity {
  /** The shared secret; with `salt`, the key derived from the password (PBKDF2-SHA256, base64), not the password. */
  readonly secret: string;
  /** The PBKDF2 salt: sent to the client in CHALLENGE.Extra with `iterations` and `keylen`, so it derives the key. */
  readonly salt?: string;
  /** PBKDF2 iterations (default 1000, as in the clients' `derive_key`). */
  readonly iterations?: number;
  /** Length of the derived key in bytes (default 32). */
  readonly keylen?: number;
}

/**
 * The application's authentication. One hook serves every method, and `request.authmethod` tells them apart:
 * - `ticket` (and `anonymous`): the hook verifies what the client presented (`request.secret`) and returns
 *   the identity the client may join as;
 * - `wampcra`: the hook is asked at HELLO, with the authid and no secret, and looks the user up: it returns
 *   the identity together with the user's secret (`IdentityWithSecret`), and the router challenges the
 *   client and verifies its signature;
 * - `cryptosign`: the hook is asked at HELLO, with `authextra.pubkey` and maybe an authid, and returns the
 *   identity together with the principal's public keys (`IdentityWithPubkeys`); the router refuses a key
 *   not among them, challenges the client and verifies its Ed25519 signature;
 * - `wamp-scram`: the hook is asked at HELLO, with the authid, and returns the identity together with the
 *   user's stored SCRAM keys (`IdentityWithScram`); the router challenges the client and verifies its proof.
 * Throwing (rejecting) refuses the client. A thrown `RouterError` chooses the ABORT reason and message the
 * client sees; anything else is `wamp.error.authentication_denied` with a generic message (the error itself
 * is only logged).
 */
export type AuthenticateHook = (
  request: AuthRequest,
) => Identity | IdentityWithSecret | IdentityWithPubkeys | IdentityWithScram | Promise<Identity | IdentityWithSecret | IdentityWithPubkeys | IdentityWithScram>;
