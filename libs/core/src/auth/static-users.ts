import { createHash, timingSafeEqual } from 'node:crypto';
import { isPlainObject } from '../retained/retained-value.js';
import type { AuthenticateHook, AuthRequest, Identity, IdentityWithSecret } from './authenticate-hook.js';
import type { IdentityWithPubkeys } from './cryptosign-authenticator.js';
import type { AuthOptions } from './router-auth.js';
import { SCRAM_METHOD, type IdentityWithScram } from './scram-authenticator.js';
import { scramCredentialProblem, type ScramCredential } from './scram-credential.js';

/**
 * A user known from configuration. `ticket`: the user joins with ticket authentication; `secret`: with
 * WAMP-CRA; `pubkey` (one Ed25519 public key, 64 hex digits) or `pubkeys` (several): with WAMP-Cryptosign;
 * `scram` (the stored keys, never the password; see `scramCredential`): with WAMP-SCRAM.
 * With `salt` (and optionally `iterations`, `keylen`), `secret` is the salted key, i.e.
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
  readonly pubkey?: string;
  readonly pubkeys?: readonly string[];
  readonly scram?: ScramCredential;
}

export interface StaticUsersOptions {
  /** Whether clients may also join anonymously (role `anonymous`, the session ID as authid). Default false. */
  readonly anonymous?: boolean;
}

/** Every provider field of WELCOME for a configured user. */
const PROVIDER = 'static';

const USER_KEYS = ['authid', 'role', 'ticket', 'secret', 'salt', 'iterations', 'keylen', 'pubkey', 'pubkeys', 'scram'];

/** An Ed25519 public key: 32 bytes as 64 hex digits. */
const PUBKEY = /^[0-9a-fA-F]{64}$/;

/** A cryptosign user's public keys, lower-case (hex compares case-insensitively); empty for other users. */
function pubkeysOf(user: StaticUser): string[] {
  return [...(user.pubkey === undefined ? [] : [user.pubkey]), ...(user.pubkeys ?? [])].map((key) => key.toLowerCase());
}

/**
 * Checks a list of users from configuration and returns it typed, or throws an `Error` with a one-line
 * message naming the user and what is wrong.
 */
export function checkStaticUsers(value: unknown): StaticUser[] {
  if (!Array.isArray(value)) throw new Error('users must be a list of users');
  const seen = new Set<string>();
  const keys = new Set<string>();
  value.forEach((user: unknown, index) => {
    const problem = userProblem(user);
    const authid = isPlainObject(user) && typeof user.authid === 'string' ? ` (${user.authid})` : '';
    if (problem !== undefined) throw new Error(`users[${index}]${authid}: ${problem}`);
    const id = (user as StaticUser).authid;
    if (seen.has(id)) throw new Error(`users[${index}]${authid}: authid "${id}" is listed twice`);
    seen.add(id);
    // A cryptosign client may omit its authid: its key alone must name one user.
    for (const key of pubkeysOf(user as StaticUser)) {
      if (keys.has(key)) throw new Error(`users[${index}]${authid}: public key ${key} is listed twice`);
      keys.add(key);
    }
  });
  return value as StaticUser[];
}

function userProblem(user: unknown): string | undefined {
  if (!isPlainObject(user)) return 'must be an object with authid, role, and ticket, secret, pubkey or scram';
  const unknownKey = Object.keys(user).find((key) => !USER_KEYS.includes(key));
  if (unknownKey !== undefined) return `unknown field "${unknownKey}" (known: ${USER_KEYS.join(', ')})`;
  const { authid, role, ticket, secret, salt, iterations, keylen, pubkey, pubkeys, scram } = user;
  if (!isNonEmptyString(authid)) return 'authid must be a non-empty string';
  if (!isNonEmptyString(role)) return 'role must be a non-empty string';
  const cryptosign = pubkey !== undefined || pubkeys !== undefined;
  if ([ticket !== undefined, secret !== undefined, cryptosign, scram !== undefined].filter(Boolean).length !== 1) {
    return 'give either ticket (ticket authentication), secret (wampcra), pubkey/pubkeys (cryptosign) or scram (wamp-scram): exactly one';
  }
  if (cryptosign) return pubkeysProblem(pubkey, pubkeys, salt ?? iterations ?? keylen);
  if (scram !== undefined) {
    // The salt and iterations of a SCRAM user live inside `scram`, with the keys derived from them.
    if ((salt ?? iterations ?? keylen) !== undefined) return 'salt, iterations and keylen go with secret (wampcra); a scram user keeps them in scram';
    return scramCredentialProblem(scram);
  }
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

function pubkeysProblem(pubkey: unknown, pubkeys: unknown, salting: unknown): string | undefined {
  if (salting !== undefined) return 'salt, iterations and keylen go with secret (wampcra), not pubkey';
  if (pubkey !== undefined && pubkeys !== undefined) return 'give pubkey (one key) or pubkeys (a list), not both';
  if (pubkey !== undefined && !(typeof pubkey === 'string' && PUBKEY.test(pubkey))) return 'pubkey must be an Ed25519 public key: 64 hex digits';
  if (pubkeys !== undefined) {
    if (!Array.isArray(pubkeys) || pubkeys.length === 0) return 'pubkeys must be a non-empty list of public keys';
    if (!pubkeys.every((key) => typeof key === 'string' && PUBKEY.test(key))) return 'pubkeys must list Ed25519 public keys: 64 hex digits each';
  }
  return undefined;
}

/**
 * An authenticate hook over a fixed list of users: `ticket` users present their ticket, `wampcra` users
 * prove their secret, `cryptosign` users the private key of one of their public keys, `wamp-scram` users
 * their password (the router verifies the signatures and proofs; a cryptosign client without an authid is
 * found by its key), and `anonymous` clients (if
 * the router offers that method) join as role `anonymous` with the session ID as authid, whatever authid
 * they claim.
 * Unknown users and wrong tickets are refused (`wamp.error.authentication_denied`).
 */
export function staticUsersHook(users: readonly StaticUser[]): AuthenticateHook {
  const checked = checkStaticUsers(users);
  const byAuthid = new Map(checked.map((user) => [user.authid, user]));
  const byPubkey = new Map(checked.flatMap((user) => pubkeysOf(user).map((key) => [key, user] as const)));
  return (request: AuthRequest): Identity | IdentityWithSecret | IdentityWithPubkeys | IdentityWithScram => {
    if (request.authmethod === 'anonymous') return { authid: String(request.session), authrole: 'anonymous', authprovider: PROVIDER };
    const { pubkey } = request.authextra;
    const user =
      request.authid !== undefined ? byAuthid.get(request.authid)
      : request.authmethod === 'cryptosign' && typeof pubkey === 'string' ? byPubkey.get(pubkey.toLowerCase())
      : undefined;
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
    const pubkeys = pubkeysOf(user);
    if (request.authmethod === 'cryptosign' && pubkeys.length > 0) return { ...identity, pubkeys };
    if (request.authmethod === SCRAM_METHOD && user.scram !== undefined) return { ...identity, scram: user.scram };
    throw new Error(`user ${user.authid} cannot use ${request.authmethod}`);
  };
}

/**
 * The router's `auth` option for a fixed list of users: the hook above, offering `cryptosign`, `wamp-scram`,
 * `wampcra` and `ticket` as far as some user has a public key, SCRAM keys, a secret or a ticket, and
 * `anonymous` if `options.anonymous`.
 */
export function staticUsersAuth(users: readonly StaticUser[], options: StaticUsersOptions = {}): AuthOptions {
  const methods = [
    ...(users.some((user) => pubkeysOf(user).length > 0) ? ['cryptosign'] : []),
    ...(users.some((user) => user.scram !== undefined) ? [SCRAM_METHOD] : []),
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
