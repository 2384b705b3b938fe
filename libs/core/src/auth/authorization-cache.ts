import type { AuthorizeAction, AuthorizeDecision, AuthorizeHook, AuthorizeRequest } from './authorize-hook.js';
import { isPromiseLike } from './promise-like.js';

export interface AuthorizationCacheOptions {
  /** How many decisions are kept; the oldest go first (default 10 000). */
  readonly maxEntries?: number;
  /** How long a decision is reused (ms, default 300 000 = 5 minutes). */
  readonly ttlMs?: number;
}

/** Which cached decisions to drop: every field given must match; `{}` drops them all. */
export interface AuthorizationFilter {
  readonly realm?: string;
  readonly authrole?: string;
  readonly authid?: string;
  readonly action?: AuthorizeAction;
  readonly uri?: string;
}

export const DEFAULT_AUTHORIZATION_CACHE: Required<AuthorizationCacheOptions> = { maxEntries: 10_000, ttlMs: 300_000 };

interface Entry {
  readonly realm: string;
  readonly authrole: string;
  readonly authid: string;
  readonly action: AuthorizeAction;
  readonly uri: string;
  readonly decision: AuthorizeDecision;
  readonly expires: number;
}

/**
 * The decisions of the application's authorize hook that it marked reusable (`{ allow, cache: true }`),
 * keyed by realm, authid, authrole, action, URI and match policy. A hit answers synchronously, without the
 * hook. `invalidate` drops decisions, e.g. after a role's rights changed; a decision that was still being
 * made when `invalidate` ran is used once but not stored, so a stale answer cannot outlive the invalidation.
 */
export class AuthorizationCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  /** Bumped by every invalidation: decisions begun before it are not stored. */
  private generation = 0;

  constructor(options: AuthorizationCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_AUTHORIZATION_CACHE.maxEntries;
    this.ttlMs = options.ttlMs ?? DEFAULT_AUTHORIZATION_CACHE.ttlMs;
    if (!(Number.isInteger(this.maxEntries) && this.maxEntries > 0)) throw new Error('auth.authorizationCache.maxEntries must be a positive integer');
    if (!(Number.isFinite(this.ttlMs) && this.ttlMs > 0)) throw new Error('auth.authorizationCache.ttlMs must be a positive number');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The hook with this cache in front of it. */
  wrap(hook: AuthorizeHook): AuthorizeHook {
    return (request) => {
      const key = keyOf(request);
      const cached = this.entries.get(key);
      if (cached !== undefined) {
        if (cached.expires > Date.now()) return cached.decision;
        this.entries.delete(key);
      }
      const generation = this.generation;
      const answer = hook(request);
      if (isPromiseLike(answer)) {
        return answer.then((value) => {
          this.remember(key, request, value, generation);
          return value;
        });
      }
      this.remember(key, request, answer, generation);
      return answer;
    };
  }

  /** Drops the cached decisions `filter` selects; returns how many. */
  invalidate(filter: AuthorizationFilter = {}): number {
    this.generation++;
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (
        (filter.realm === undefined || filter.realm === entry.realm) &&
        (filter.authrole === undefined || filter.authrole === entry.authrole) &&
        (filter.authid === undefined || filter.authid === entry.authid) &&
        (filter.action === undefined || filter.action === entry.action) &&
        (filter.uri === undefined || filter.uri === entry.uri)
      ) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  private remember(key: string, request: AuthorizeRequest, answer: unknown, generation: number): void {
    if (generation !== this.generation || !isCacheable(answer)) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const { realm, action, uri } = request;
    const { authrole, authid } = request.session.info;
    const decision: AuthorizeDecision = { allow: answer.allow, ...(answer.disclose === true ? { disclose: true } : {}) };
    this.entries.set(key, { realm, authrole, authid, action, uri, decision, expires: Date.now() + this.ttlMs });
  }
}

function isCacheable(answer: unknown): answer is AuthorizeDecision {
  return typeof answer === 'object' && answer !== null && (answer as AuthorizeDecision).cache === true && typeof (answer as AuthorizeDecision).allow === 'boolean';
}

/** What a cached decision may depend on. JSON, so that no crafted URI or authid can collide with another key. */
function keyOf(request: AuthorizeRequest): string {
  const match = request.action === 'subscribe' || request.action === 'register' ? (request.options.match ?? 'exact') : 'exact';
  const { authid, authrole } = request.session.info;
  return JSON.stringify([request.realm, authid, authrole, request.action, match, request.uri]);
}
