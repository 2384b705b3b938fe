import { createHash, timingSafeEqual } from 'node:crypto';
import { isPlainObject } from '../retained/retained-value.js';
import type { AuthenticateHook, AuthRequest, Identity, IdentityWithSecret } from './authenticate-hook.js';
import type { AuthOptions } from './router-auth.js';

/**
 * A user known from configuration. `ticket`: the user joins with ticket authentication; `secret`: with
 * WAMP-CRA. With `salt` (and optionally `iterations`, `keylen`), `secret` is the salted key, i.e.
 * base64(PBKDF2-HMAC-SHA256(password, salt, iterations, keylen)) (`craDeriveKey`), not the password.
 */
export interface StaticUser {
  readonly authid: string;
  readonly role: string;
  readonly ticket?: string;
  readonly secret?: string;
  readonly salt?: string;
  readonly iterations?: number;
  readonly keylen?: number;
}

export interface StaticUsersOptions {
  /** Whether clients may also join anonymously (role `anonymous`, the session ID as authid). Default false. */
  readonly anonymous?: boolean;
}

/** Every provider field of WELCOME for a configured user. */
const PROVIDER = 'static';

const USER_KEYS = ['authid', 'role', 'ticket', 'secret', 'salt', 'iterations', 'keylen'];

/**
 * Checks a list of users from configuration and returns it typed, or throws an `Error` with a one-line
 * message naming the user and what is wrong.
 */
export function checkStaticUsers(value: unknown): StaticUser[] {
  if (!Array.isArray(value)) throw new Error('users must be a list of users');
  const seen = new Set<string>();
  value.forEach((user: unknown, index) => {
    const problem = userProblem(user);
    const authid = isPlainObject(user) && typeof user.authid === 'string' ? ` (${user.authid})` : '';
    if (problem !== undefined) throw new Error(`users[${index}]${authid}: ${problem}`);
    const id = (user as StaticUser).authid;
    if (seen.has(id)) throw new Error(`users[${index}]${authid}: authid "${id}" is listed twice`);
    seen.add(id);
  });
  return value as StaticUser[];
}

function userProblem(user: unknown): string | undefined {
  if (!isPlainObject(user)) return 'must be an object with authid, role, and ticket or secret';
  const unknownKey = Object.keys(user).find((key) => !USER_KEYS.includes(key));
  if (unknownKey !== undefined) return `unknown field "${unknownKey}" (known: ${USER_KEYS.join(', ')})`;
  const { authid, role, ticket, secret, salt, iterations, keylen } = user;
  if (!isNonEmptyString(authid)) return 'authid must be a non-empty string';
  if (!isNonEmptyString(role)) return 'role must be a non-empty string';
  if ((ticket === undefined) === (secret === undefined)) return 'give either ticket (ticket authentication) or secret (wampcra), not both or neither';
  if (ticket !== undefined && !isNonEmptyString(ticket)) return 'ticket must be a non-empty string';
  if (secret !== undefined && !isNonEmptyString(secret)) return 'secret must be a non-empty string';
  if (salt === undefined) {
    if (iterations !== undefined || keylen !== undefined) return 'iterations and keylen need a salt';
    return undefined;
  }
  if (secret === undefined) return 'salt, iterations and keylen go with secret (wampcra), not ticket';
  if (!isNonEmptyString(salt)) return 'salt must be a non-empty string';
  if (iterations !== undefined && !isPositiveInteger(iterations)) return 'iterations must be a positive integer';
  if (keylen !== undefined && !isPositiveInteger(keylen)) return 'keylen must be a positive integer';
  return undefined;
}

/**
 * An authenticate hook over a fixed list of users: `ticket` users present their ticket, `wampcra` users
 * prove their secret (the router verifies the signature), and `anonymous` clients (if the router offers
 * that method) join as role `anonymous` with the session ID as authid, whatever authid they claim.
 * Unknown users and wrong tickets are refused (`wamp.error.authentication_denied`).
 */
export function staticUsersHook(users: readonly StaticUser[]): AuthenticateHook {
  const byAuthid = new Map(checkStaticUsers(users).map((user) => [user.authid, user]));
  return (request: AuthRequest): Identity | IdentityWithSecret => {
    if (request.authmethod === 'anonymous') return { authid: String(request.session), authrole: 'anonymous', authprovider: PROVIDER };
    const user = request.authid === undefined ? undefined : byAuthid.get(request.authid);
    if (user === undefined) throw new Error(`unknown authid ${JSON.stringify(request.authid)} (${request.authmethod})`);
    const identity = { authid: user.authid, authrole: user.role, authprovider: PROVIDER };
    if (request.authmethod === 'ticket' && user.ticket !== undefined) {
      if (request.secret === undefined || !sameSecret(request.secret, user.ticket)) throw new Error(`wrong ticket for ${user.authid}`);
      return identity;
    }
    if (request.authmethod === 'wampcra' && user.secret !== undefined) {
      const { secret, salt, iterations, keylen } = user;
      return { ...identity, secret, ...(salt === undefined ? {} : { salt, iterations, keylen }) };
    }
    throw new Error(`user ${user.authid} cannot use ${request.authmethod}`);
  };
}

/**
 * The router's `auth` option for a fixed list of users: the hook above, offering `wampcra` and `ticket` as
 * far as some user has a secret or a ticket, and `anonymous` if `options.anonymous`.
 */
export function staticUsersAuth(users: readonly StaticUser[], options: StaticUsersOptions = {}): AuthOptions {
  const methods = [
    ...(users.some((user) => user.secret !== undefined) ? ['wampcra'] : []),
    ...(users.some((user) => user.ticket !== undefined) ? ['ticket'] : []),
    ...(options.anonymous === true ? ['anonymous'] : []),
  ];
  return { authenticate: staticUsersHook(users), methods };
}

/** Compares two secrets in constant time, their lengths included (digests of equal size). */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
