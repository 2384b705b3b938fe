import type { AuthorizeRequest } from '../auth/authorize-hook.js';
import { isPlainObject } from '../retained/retained-value.js';
import type { Session } from '../router/session.js';
import { MessageCode, type WampMessage } from './message-codes.js';
import { callOptions, publishOptions, registerOptions, subscribeOptions } from './wire-options.js';

// Translation of the WAMP wire's authentication and authorization fields into the router's auth model:
// what HELLO offers, and what the authorize hook is asked about a request.

type Dict = Record<string, unknown>;

/** What HELLO.Details offers for authentication. */
export interface AuthOffer {
  /** The client's methods in its order of preference; `['anonymous']` when it named none. */
  readonly authmethods: readonly string[];
  readonly authid?: string;
  readonly authextra: Dict;
}

/** HELLO.Details' authentication fields, or what is wrong with them. */
export function authOffer(details: Dict): AuthOffer | string {
  const { authmethods, authid, authextra } = details;
  if (authmethods !== undefined && authmethods !== null) {
    if (!Array.isArray(authmethods) || !authmethods.every((method) => typeof method === 'string')) {
      return 'HELLO.Details.authmethods must be a list of strings';
    }
  }
  if (authid !== undefined && authid !== null && typeof authid !== 'string') return 'HELLO.Details.authid must be a string';
  if (authextra !== undefined && authextra !== null && !isPlainObject(authextra)) return 'HELLO.Details.authextra must be a dictionary';
  // No list (or an empty one) means the spec's default: anonymous.
  const methods = (authmethods ?? []) as string[];
  return {
    authmethods: methods.length === 0 ? ['anonymous'] : methods,
    authid: (authid ?? undefined) as string | undefined,
    authextra: (authextra ?? {}) as Dict,
  };
}

/** What the authorize hook is asked about a request; undefined for those it does not cover (UNSUBSCRIBE, ...). */
export function authorizeRequest(session: Session, message: WampMessage): AuthorizeRequest | undefined {
  // One literal per request, not a spread of a shared base: see docs/performance.md, rule 1 (this runs per message).
  const realm = session.realm.name;
  const uri = message[3] as string;
  const options = message[2] as Dict;
  switch (message[0]) {
    case MessageCode.PUBLISH: {
      // `acknowledge` is about the reply, not the publication.
      const { acknowledge: _acknowledge, ...routerOptions } = publishOptions(options);
      return { session, realm, uri, action: 'publish', options: routerOptions };
    }
    case MessageCode.SUBSCRIBE:
      return { session, realm, uri, action: 'subscribe', options: subscribeOptions(options) };
    case MessageCode.REGISTER:
      return { session, realm, uri, action: 'register', options: registerOptions(options) };
    case MessageCode.CALL:
      return { session, realm, uri, action: 'call', options: callOptions(options) };
    default:
      return undefined;
  }
}

/**
 * A role's permission discloses its caller or publisher: the CALL or PUBLISH goes on as if it had set
 * `disclose_me` (the callee or the subscribers learn its session, authid and authrole).
 */
export function discloseRequester(message: WampMessage): void {
  if (message[0] === MessageCode.CALL || message[0] === MessageCode.PUBLISH) (message[2] as Dict).disclose_me = true;
}
