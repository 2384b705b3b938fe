import { createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { AuthenticateHook, AuthRequest, Identity } from './authenticate-hook.js';
import type { Authenticator, AuthHello, AuthResponse, AuthStep } from './authenticator.js';
import { checkedIdentity } from './hook-identity.js';
import { isPromiseLike } from './promise-like.js';

/** The PBKDF2 parameters the clients' `derive_key` assume when the challenge names none. */
export const CRA_DEFAULT_ITERATIONS = 1000;
export const CRA_DEFAULT_KEYLEN = 32;

/**
 * A WAMP-CRA signature: base64(HMAC-SHA256(key, challenge)), with the key and the challenge as UTF-8 bytes
 * (what autobahn's `auth_cra.sign`, autobahn-python's `compute_wcs` and wampy's `signManual` compute).
 */
export function craSign(key: string, challenge: string): string {
  return createHmac('sha256', key).update(challenge, 'utf8').digest('base64');
}

/**
 * A salted WAMP-CRA key: base64(PBKDF2-HMAC-SHA256(password, salt, iterations, keylen)), as the clients'
 * `derive_key` compute it. Store this (with the salt) instead of the password.
 */
export function craDeriveKey(password: string, salt: string, iterations = CRA_DEFAULT_ITERATIONS, keylen = CRA_DEFAULT_KEYLEN): string {
  return pbkdf2Sync(password, salt, iterations, keylen, 'sha256').toString('base64');
}

/** The user as the hook described it: who the client becomes, and the key its signature must use. */
interface CraUser {
  readonly identity: Identity;
  readonly secret: string;
  /** CHALLENGE.Extra's salt, iterations and keylen; absent for an unsalted secret. */
  readonly salting?: { readonly salt: string; readonly iterations: number; readonly keylen: number };
}

/**
 * `wampcra` (spec: Challenge Response Authentication). At HELLO the hook looks the authid up and returns
 * the identity with the user's secret; the router sends a CHALLENGE whose `challenge` string is the JSON of
 * authid, authrole, authmethod, authprovider, a random nonce, a timestamp and the ID the session will get,
 * and admits the client if its AUTHENTICATE carries base64(HMAC-SHA256(secret, challenge)). A fresh nonce
 * and session ID per attempt make a signature useless for any other attempt (replay); the handshake
 * timeout (`auth.timeoutMs`) is the spec's "in due time".
 */
export class WampCraAuthenticator implements Authenticator {
  readonly method = 'wampcra';

  constructor(private readonly hook: AuthenticateHook) {}

  begin(hello: AuthHello): AuthStep | PromiseLike<AuthStep> {
    if (hello.authid === undefined) {
      throw new RouterError(ErrorUri.authenticationDenied, 'wampcra needs an authid in HELLO');
    }
    const request: AuthRequest = hello;
    const answer = this.hook(request);
    if (isPromiseLike(answer)) return answer.then((value) => this.challenge(hello, craUser(value, request)));
    return this.challenge(hello, craUser(answer, request));
  }

  private challenge(hello: AuthHello, user: CraUser): AuthStep {
    const { identity } = user;
    const challenge = JSON.stringify({
      authid: identity.authid,
      authrole: identity.authrole,
      authmethod: this.method,
      authprovider: identity.authprovider,
      nonce: randomBytes(16).toString('base64'),
      timestamp: new Date().toISOString(),
      session: hello.session,
    });
    return {
      challenge: { challenge, ...user.salting },
      respond: (response: AuthResponse) => {
        if (!signatureMatches(response.signature, craSign(user.secret, challenge))) {
          throw new RouterError(ErrorUri.authenticationFailed, 'wampcra signature does not match');
        }
        return { identity };
      },
    };
  }
}

/** Compares in constant time (for equal lengths; the length of a base64 HMAC is no secret). */
function signatureMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The hook's answer checked: a missing or malformed secret is a misconfiguration, like a missing role. */
function craUser(value: unknown, request: AuthRequest): CraUser {
  const identity = checkedIdentity(value, request);
  const { secret, salt, iterations, keylen } = value as Record<string, unknown>;
  const invalid = (problem: string) =>
    new RouterError(ErrorUri.authenticationFailed, `the authenticate hook returned an invalid wampcra user: ${problem}`);
  if (typeof secret !== 'string' || secret === '') throw invalid('secret must be a non-empty string');
  if (salt === undefined) {
    if (iterations !== undefined || keylen !== undefined) throw invalid('iterations and keylen need a salt');
    return { identity, secret };
  }
  if (typeof salt !== 'string' || salt === '') throw invalid('salt must be a non-empty string');
  if (iterations !== undefined && !isPositiveInteger(iterations)) throw invalid('iterations must be a positive integer');
  if (keylen !== undefined && !isPositiveInteger(keylen)) throw invalid('keylen must be a positive integer');
  return {
    identity,
    secret,
    salting: { salt, iterations: (iterations as number | undefined) ?? CRA_DEFAULT_ITERATIONS, keylen: (keylen as number | undefined) ?? CRA_DEFAULT_KEYLEN },
  };
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
