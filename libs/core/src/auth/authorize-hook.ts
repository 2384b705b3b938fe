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
 * The application's authorization: `true` lets the request through, `false` answers it with
 * `wamp.error.not_authorized`. A thrown `RouterError` is the answer as is; any other error (or a promise
 * that does not settle in time) refuses the request with `wamp.error.authorization_failed`. Anything but a
 * boolean counts as such an error: only `true` allows.
 */
export type AuthorizeHook = (request: AuthorizeRequest) => boolean | Promise<boolean>;
