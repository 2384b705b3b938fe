import type { CallOptions, PublishOptions, RegisterOptions, SubscribeOptions } from '../router/options.js';
import type { Session } from '../router/session.js';

/** The actions the spec's authorization covers. */
export type AuthorizeAction = 'publish' | 'subscribe' | 'register' | 'call';

interface AuthorizeBase {
  /** Who asks: `session.info` has authid, authrole, authmethod, transport, remote address. */
  readonly session: Session;
  readonly realm: string;
  /** The topic or procedure as the client sent it: a pattern for `subscribe`/`register` with `options.match`. */
  readonly uri: string;
}

/** One request of a remote session, as the application's `authorize` hook sees it. */
export type AuthorizeRequest =
  | (AuthorizeBase & { readonly action: 'publish'; readonly options: PublishOptions })
  | (AuthorizeBase & { readonly action: 'subscribe'; readonly options: SubscribeOptions })
  | (AuthorizeBase & { readonly action: 'register'; readonly options: RegisterOptions })
  | (AuthorizeBase & { readonly action: 'call'; readonly options: CallOptions });

/**
 * A decision with more to say than a boolean (the shape Crossbar's dynamic authorizers return).
 */
export interface AuthorizeDecision {
  readonly allow: boolean;
  /**
   * An allowed `call` or `publish` discloses the caller or publisher (session, authid, authrole) to the
   * callee or subscribers, as if the client had set `disclose_me`. Ignored for other actions.
   */
  readonly disclose?: boolean;
  /**
   * The decision may be reused, without asking the hook, for the same realm, authid, authrole, action, URI
   * and match policy until it expires or is invalidated (`AuthOptions.authorizationCache`,
   * `RouterAuth.invalidateAuthorizations`). Only say so when nothing else (other options, time) matters.
   */
  readonly cache?: boolean;
}

/**
 * The application's authorization: `true` (or `{ allow: true }`) lets the request through, `false` (or
 * `{ allow: false }`) answers it with `wamp.error.not_authorized`. A thrown `RouterError` is the answer as
 * is; any other error (or a promise that does not settle in time) refuses the request with
 * `wamp.error.authorization_failed`. Anything but a boolean or an `AuthorizeDecision` with a boolean `allow`
 * counts as such an error.
 */
export type AuthorizeHook = (request: AuthorizeRequest) => boolean | AuthorizeDecision | Promise<boolean | AuthorizeDecision>;
