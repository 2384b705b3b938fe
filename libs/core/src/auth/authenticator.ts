import type { AuthRequest, Identity } from './authenticate-hook.js';

/** A client's HELLO as an authenticator sees it: the request minus the secret, which comes later if at all. */
export type AuthHello = Omit<AuthRequest, 'secret'>;

/** The client's AUTHENTICATE: `[AUTHENTICATE, Signature|string, Extra|dict]`. */
export interface AuthResponse {
  readonly signature: string;
  readonly extra: Record<string, unknown>;
}

/**
 * Where one authentication step leads: admit the client with an identity, or send it a CHALLENGE (with
 * `challenge` as CHALLENGE.Extra) and continue with its AUTHENTICATE in `respond`. A step may lead to
 * another challenge (the spec's two-factor rounds).
 */
export type AuthStep =
  | { readonly identity: Identity }
  | {
      readonly challenge: Record<string, unknown>;
      respond(response: AuthResponse): AuthStep | PromiseLike<AuthStep>;
    };

/**
 * One authentication method the router offers (`anonymous`, `ticket`; `wampcra`, `cryptosign` and `scram`
 * fit the same shape). An attempt's state lives in the closures of the steps it returns, so one
 * authenticator serves every connection. Throwing or rejecting refuses the client (see `AuthenticateHook`).
 */
export interface Authenticator {
  /** The method's name in HELLO.Details.authmethods and WELCOME.Details.authmethod. */
  readonly method: string;
  begin(hello: AuthHello): AuthStep | PromiseLike<AuthStep>;
}
