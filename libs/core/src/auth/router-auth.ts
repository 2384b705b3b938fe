import { AnonymousAuthenticator } from './anonymous-authenticator.js';
import type { AuthenticateHook } from './authenticate-hook.js';
import type { Authenticator } from './authenticator.js';
import type { AuthorizeHook } from './authorize-hook.js';
import { CryptosignAuthenticator } from './cryptosign-authenticator.js';
import { TicketAuthenticator } from './ticket-authenticator.js';
import { WampCraAuthenticator } from './wampcra-authenticator.js';

/** The router's `auth` option: how clients authenticate and what they may do. */
export interface AuthOptions {
  /**
   * Checks credentials (`ticket`), looks up users' secrets (`wampcra`) or public keys (`cryptosign`), and admits or refuses clients (also
   * `anonymous` ones, when offered). See `AuthenticateHook` for the contract of each method.
   */
  readonly authenticate?: AuthenticateHook;
  /**
   * The methods the router offers. The client's `authmethods` order decides among them (absent:
   * `['anonymous']`). Default: `['ticket']` with an `authenticate` hook, so that a hook written for
   * tickets never sees anonymous clients unless listed; `['anonymous']` without one.
   */
  readonly methods?: readonly string[];
  /** Decides each publish, subscribe, register and call of a remote session. Absent: everything is allowed. */
  readonly authorize?: AuthorizeHook;
  /**
   * How long a hook may take (ms, default 10 000). For authentication it bounds the whole handshake, from
   * HELLO to WELCOME, including the client's answer to a CHALLENGE.
   */
  readonly timeoutMs?: number;
}

export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;

/** How many requests of one session may wait behind pending authorization decisions. */
export const MAX_WAITING_AUTHORIZATIONS = 10_000;

/** The method names this router implements. */
export const AUTH_METHODS = ['anonymous', 'ticket', 'wampcra', 'cryptosign'] as const;

/** The router's authentication and authorization settings, checked once at construction. */
export class RouterAuth {
  /** The offered methods, without duplicates. */
  readonly methods: readonly string[];
  readonly authorize: AuthorizeHook | undefined;
  readonly timeoutMs: number;
  private readonly authenticators = new Map<string, Authenticator>();

  constructor(options: AuthOptions = {}) {
    const hook = options.authenticate;
    if (hook !== undefined && typeof hook !== 'function') throw new Error('auth.authenticate must be a function');
    if (options.authorize !== undefined && typeof options.authorize !== 'function') throw new Error('auth.authorize must be a function');
    const methods = options.methods ?? (hook === undefined ? ['anonymous'] : ['ticket']);
    if (!Array.isArray(methods) || methods.length === 0) throw new Error('auth.methods must list at least one method');
    for (const method of methods) this.authenticators.set(method, authenticatorFor(method, hook));
    this.methods = [...this.authenticators.keys()];
    this.authorize = options.authorize;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
    if (!(Number.isFinite(this.timeoutMs) && this.timeoutMs > 0)) throw new Error('auth.timeoutMs must be a positive number');
  }

  /** The authenticator for the first of the client's methods that the router offers. */
  pick(clientMethods: readonly string[]): Authenticator | undefined {
    for (const method of clientMethods) {
      const authenticator = this.authenticators.get(method);
      if (authenticator !== undefined) return authenticator;
    }
    return undefined;
  }
}

function authenticatorFor(method: unknown, hook: AuthenticateHook | undefined): Authenticator {
  switch (method) {
    case 'anonymous':
      return new AnonymousAuthenticator(hook);
    case 'ticket':
      if (hook === undefined) throw new Error('auth.methods offers ticket, which needs an authenticate hook');
      return new TicketAuthenticator(hook);
    case 'wampcra':
      if (hook === undefined) throw new Error('auth.methods offers wampcra, which needs an authenticate hook');
      return new WampCraAuthenticator(hook);
    case 'cryptosign':
      if (hook === undefined) throw new Error('auth.methods offers cryptosign, which needs an authenticate hook');
      return new CryptosignAuthenticator(hook);
    default:
      throw new Error(`auth.methods: unknown authentication method ${JSON.stringify(method)} (known: ${AUTH_METHODS.join(', ')})`);
  }
}
