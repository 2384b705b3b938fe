import { AnonymousAuthenticator } from './anonymous-authenticator.js';
import type { AuthenticateHook } from './authenticate-hook.js';
import type { Authenticator } from './authenticator.js';
import { AuthorizationCache, type AuthorizationCacheOptions, type AuthorizationFilter } from './authorization-cache.js';
import type { AuthorizeHook } from './authorize-hook.js';
import { CryptosignAuthenticator } from './cryptosign-authenticator.js';
import { RolePermissions, type RealmRoles } from './role-permissions.js';
import { SCRAM_METHOD, ScramAuthenticator } from './scram-authenticator.js';
import { TicketAuthenticator } from './ticket-authenticator.js';
import { WampCraAuthenticator } from './wampcra-authenticator.js';

/** The router's `auth` option: how clients authenticate and what they may do. */
export interface AuthOptions {
  /**
   * Checks credentials (`ticket`), looks up users' secrets (`wampcra`), public keys (`cryptosign`) or SCRAM
   * keys (`wamp-scram`), and admits or refuses clients (also `anonymous` ones, when offered). See
   * `AuthenticateHook` for the contract of each method.
   */
  readonly authenticate?: AuthenticateHook;
  /**
   * The methods the router offers. The client's `authmethods` order decides among them (absent:
   * `['anonymous']`). Default: `['ticket']` with an `authenticate` hook, so that a hook written for
   * tickets never sees anonymous clients unless listed; `['anonymous']` without one.
   */
  readonly methods?: readonly string[];
  /**
   * Static permissions per realm and role (`RealmRoles`). A request of a role listed for its realm is decided
   * by them alone; one of a role not listed goes to `authorize` if given, and is denied otherwise, since a
   * realm with roles is closed to the roles it does not name. Realms not listed are left to `authorize`.
   */
  readonly roles?: RealmRoles;
  /**
   * Decides each publish, subscribe, register and call of a remote session that `roles` do not decide.
   * Absent: such requests are allowed (except for unlisted roles of a realm with `roles`).
   */
  readonly authorize?: AuthorizeHook;
  /** Size and lifetime of the cache of `authorize` decisions returned with `cache: true`. */
  readonly authorizationCache?: AuthorizationCacheOptions;
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
export const AUTH_METHODS = ['anonymous', 'ticket', 'wampcra', 'cryptosign', SCRAM_METHOD] as const;

/** The router's authentication and authorization settings, checked once at construction. */
export class RouterAuth {
  /** The offered methods, without duplicates. */
  readonly methods: readonly string[];
  /** Static roles, then the application's hook behind its decision cache; undefined: nothing to decide. */
  readonly authorize: AuthorizeHook | undefined;
  readonly timeoutMs: number;
  private readonly authenticators = new Map<string, Authenticator>();
  private readonly decisions: AuthorizationCache | undefined;

  constructor(options: AuthOptions = {}) {
    const hook = options.authenticate;
    if (hook !== undefined && typeof hook !== 'function') throw new Error('auth.authenticate must be a function');
    if (options.authorize !== undefined && typeof options.authorize !== 'function') throw new Error('auth.authorize must be a function');
    const methods = options.methods ?? (hook === undefined ? ['anonymous'] : ['ticket']);
    if (!Array.isArray(methods) || methods.length === 0) throw new Error('auth.methods must list at least one method');
    for (const method of methods) this.authenticators.set(method, authenticatorFor(method, hook));
    this.methods = [...this.authenticators.keys()];
    const roles = options.roles === undefined ? undefined : new RolePermissions(options.roles);
    let cachedHook: AuthorizeHook | undefined;
    if (options.authorize !== undefined) {
      this.decisions = new AuthorizationCache(options.authorizationCache);
      cachedHook = this.decisions.wrap(options.authorize);
    }
    this.authorize = combinedAuthorization(roles, cachedHook);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
    if (!(Number.isFinite(this.timeoutMs) && this.timeoutMs > 0)) throw new Error('auth.timeoutMs must be a positive number');
  }

  /**
   * Drops cached decisions of the `authorize` hook (all of them, or those `filter` selects), so that the
   * hook is asked again: call it when rights change. Returns how many were dropped. Static `roles` are not
   * cached (they are decided on the spot).
   */
  invalidateAuthorizations(filter: AuthorizationFilter = {}): number {
    return this.decisions?.invalidate(filter) ?? 0;
  }

  /** How many `authorize` decisions are cached now. */
  get cachedAuthorizations(): number {
    return this.decisions?.size ?? 0;
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
    case SCRAM_METHOD:
      if (hook === undefined) throw new Error(`auth.methods offers ${SCRAM_METHOD}, which needs an authenticate hook`);
      return new ScramAuthenticator(hook);
    default:
      throw new Error(`auth.methods: unknown authentication method ${JSON.stringify(method)} (known: ${AUTH_METHODS.join(', ')})`);
  }
}

/** Static roles decide what they cover; the rest goes to the hook, or is allowed unless its realm has roles. */
function combinedAuthorization(roles: RolePermissions | undefined, hook: AuthorizeHook | undefined): AuthorizeHook | undefined {
  if (roles === undefined) return hook;
  return (request) => roles.decide(request) ?? (hook === undefined ? !roles.governs(request.realm) : hook(request));
}
