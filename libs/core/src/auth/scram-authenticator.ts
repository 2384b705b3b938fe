import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { isPlainObject } from '../retained/retained-value.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { AuthenticateHook, AuthRequest, Identity } from './authenticate-hook.js';
import type { Authenticator, AuthHello, AuthResponse, AuthStep } from './authenticator.js';
import { checkedIdentity } from './hook-identity.js';
import { isPromiseLike } from './promise-like.js';

/** The spec's authmethod string for WAMP-SCRAM. */
export const SCRAM_METHOD = 'wamp-scram';

/**
 * The key derivation functions this router verifies. The spec also names `argon2id13`, which needs a library
 * node:crypto does not replace; a user stored with it is refused at startup.
 */
export const SCRAM_KDFS = ['pbkdf2'] as const;
export type ScramKdf = (typeof SCRAM_KDFS)[number];

/** PBKDF2 iterations for new credentials: well above RFC 7677's minimum of 4096, still quick for a client. */
export const SCRAM_DEFAULT_ITERATIONS = 100_000;

/** SHA-256 output: the length of SaltedPassword, StoredKey, ServerKey and of a ClientProof. */
const KEY_BYTES = 32;
const SERVER_NONCE_BYTES = 16;
const SALT_BYTES = 16;
/** A client nonce is echoed in the CHALLENGE: bounded so a client cannot make the router send megabytes. */
const MAX_CLIENT_NONCE_LENGTH = 1024;

/**
 * What the router stores for a WAMP-SCRAM user (the spec's "Data Stored on the Server"): never the password,
 * only the salt, the KDF and its cost, and two keys derived from the salted password. All byte strings are
 * base64.
 */
export interface ScramCredential {
  readonly kdf: ScramKdf;
  /** The per-user random salt, base64. */
  readonly salt: string;
  readonly iterations: number;
  /** base64(SHA-256(HMAC(SaltedPassword, "Client Key"))). */
  readonly storedKey: string;
  /** base64(HMAC(SaltedPassword, "Server Key")). */
  readonly serverKey: string;
}

/** What the hook returns for `wamp-scram`: the identity a client joins as if it proves it knows the password. */
export interface IdentityWithScram extends Identity {
  readonly scram: ScramCredential;
}

/**
 * Derives the stored credential from a password: SaltedPassword = PBKDF2-HMAC-SHA256(Normalize(password),
 * salt bytes, iterations, 32), then StoredKey and ServerKey as in RFC 5802. `salt`: base64; default 16
 * random bytes.
 */
export function scramCredential(password: string, options: { readonly salt?: string; readonly iterations?: number } = {}): ScramCredential {
  const salt = options.salt ?? randomBytes(SALT_BYTES).toString('base64');
  const iterations = options.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  if (!isCanonicalBase64(salt)) throw new TypeError('the salt must be canonical base64');
  if (!isPositiveInteger(iterations)) throw new TypeError('iterations must be a positive integer');
  const salted = pbkdf2Sync(normalizePassword(password), Buffer.from(salt, 'base64'), iterations, KEY_BYTES, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return {
    kdf: 'pbkdf2',
    salt,
    iterations,
    storedKey: sha256(clientKey).toString('base64'),
    serverKey: hmac(salted, 'Server Key').toString('base64'),
  };
}

/**
 * SASLprep (RFC 4013) as far as it changes a password: non-ASCII spaces become SPACE, characters "commonly
 * mapped to nothing" are dropped, then NFKC. The prohibited-character and bidi checks are not applied.
 * ASCII passwords pass unchanged.
 */
export function normalizePassword(password: string): string {
  return password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
}

/** RFC 3454 C.1.2: non-ASCII space characters. */
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
/** RFC 3454 B.1: commonly mapped to nothing. */
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;

/** What is wrong with a stored credential, or undefined (shared by the config check and the hook check). */
export function scramCredentialProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'scram must be an object with kdf, salt, iterations, storedKey and serverKey';
  const known = ['kdf', 'salt', 'iterations', 'storedKey', 'serverKey'];
  const unknownKey = Object.keys(value).find((key) => !known.includes(key));
  if (unknownKey !== undefined) return `scram has an unknown field "${unknownKey}" (known: ${known.join(', ')})`;
  const { kdf, salt, iterations, storedKey, serverKey } = value;
  if (!(SCRAM_KDFS as readonly unknown[]).includes(kdf)) return `scram.kdf must be ${SCRAM_KDFS.join(' or ')} (argon2id13 is not supported)`;
  if (typeof salt !== 'string' || !isCanonicalBase64(salt)) return 'scram.salt must be a non-empty base64 string';
  if (!isPositiveInteger(iterations)) return 'scram.iterations must be a positive integer';
  if (!isKey(storedKey)) return 'scram.storedKey must be 32 bytes in base64';
  if (!isKey(serverKey)) return 'scram.serverKey must be 32 bytes in base64';
  return undefined;
}

/**
 * `wamp-scram` (spec: WAMP-SCRAM, based on RFC 5802 / RFC 7677 with SHA-256). HELLO carries the authid and
 * `authextra.nonce` (the client nonce, base64); the hook is asked at HELLO and returns the identity with the
 * user's `ScramCredential`. The CHALLENGE carries `nonce` (client nonce + a fresh server nonce), `salt`,
 * `kdf`, `iterations` and `memory: null`. AUTHENTICATE carries the base64 ClientProof and echoes that nonce
 * (or leaves it out: the proof covers it anyway). The router recomputes StoredKey from the proof and, if it
 * matches, admits the client with WELCOME.Details.authextra.verifier = base64(ServerSignature), so that the
 * client can check the router too.
 *
 * The fresh server nonce makes a proof useless for any other attempt (replay). Channel binding is refused at
 * HELLO (the spec leaves its negotiation open); an unknown authid is refused there too (no mock challenge).
 */
export class ScramAuthenticator implements Authenticator {
  readonly method = SCRAM_METHOD;

  constructor(private readonly hook: AuthenticateHook) {}

  begin(hello: AuthHello): AuthStep | PromiseLike<AuthStep> {
    const { authid } = hello;
    const { nonce, channel_binding: channelBinding } = hello.authextra;
    if (authid === undefined || authid === '') throw new RouterError(ErrorUri.authenticationDenied, 'wamp-scram needs an authid in HELLO');
    if (typeof nonce !== 'string' || nonce.length > MAX_CLIENT_NONCE_LENGTH || !isCanonicalBase64(nonce)) {
      throw new RouterError(ErrorUri.authenticationDenied, 'wamp-scram needs authextra.nonce: random bytes in base64');
    }
    if (channelBinding !== undefined && channelBinding !== null) {
      throw new RouterError(ErrorUri.authenticationDenied, `wamp-scram channel binding (${JSON.stringify(channelBinding)}) is not supported`);
    }
    const request: AuthRequest = hello;
    const answer = this.hook(request);
    const proceed = (value: unknown) => challenge(scramUser(value, request), authid, nonce);
    return isPromiseLike(answer) ? answer.then(proceed) : proceed(answer);
  }
}

interface ScramUser {
  readonly identity: Identity;
  readonly credential: ScramCredential;
}

function challenge({ identity, credential }: ScramUser, authid: string, clientNonce: string): AuthStep {
  const nonce = clientNonce + randomBytes(SERVER_NONCE_BYTES).toString('base64');
  const { salt, kdf, iterations } = credential;
  // RFC 5802's AuthMessage, with the attributes exactly as they travel (the spec's "AuthMessage").
  const clientFirstBare = `n=${escapeUsername(authid)},r=${clientNonce}`;
  const serverFirst = `r=${nonce},s=${salt},i=${iterations}`;
  return {
    challenge: { nonce, salt, kdf, iterations, memory: null },
    respond: (response: AuthResponse) => {
      const { nonce: echoed, channel_binding: channelBinding, cbind_data: cbindData } = response.extra;
      // The proof is computed over this nonce anyway; a client that does not echo it (autobahn-python's
      // ApplicationSession sends AUTHENTICATE without Extra) is held to it all the same.
      if ((echoed ?? nonce) !== nonce) throw new RouterError(ErrorUri.authenticationFailed, 'wamp-scram nonce does not match the challenge');
      if ((channelBinding ?? null) !== null || (cbindData ?? null) !== null) {
        throw new RouterError(ErrorUri.authenticationFailed, 'wamp-scram channel binding was not negotiated');
      }
      // No channel binding: c = base64("n,,") = "biws".
      const authMessage = `${clientFirstBare},${serverFirst},c=biws,r=${nonce}`;
      if (!proofMatches(response.signature, credential, authMessage)) {
        throw new RouterError(ErrorUri.authenticationFailed, 'wamp-scram proof does not match');
      }
      const verifier = hmac(Buffer.from(credential.serverKey, 'base64'), authMessage).toString('base64');
      return { identity: { ...identity, authextra: { ...identity.authextra, verifier } } };
    },
  };
}

/** RecoveredStoredKey = SHA256(HMAC(StoredKey, AuthMessage) XOR ClientProof), compared in constant time. */
function proofMatches(signature: unknown, credential: ScramCredential, authMessage: string): boolean {
  if (!isKey(signature)) return false;
  const storedKey = Buffer.from(credential.storedKey, 'base64');
  const clientSignature = hmac(storedKey, authMessage);
  const proof = Buffer.from(signature, 'base64');
  const clientKey = Buffer.alloc(KEY_BYTES);
  for (let i = 0; i < KEY_BYTES; i++) clientKey[i] = clientSignature[i]! ^ proof[i]!;
  return timingSafeEqual(sha256(clientKey), storedKey);
}

/** The hook's answer checked: a missing or malformed credential is a misconfiguration. */
function scramUser(value: unknown, request: AuthRequest): ScramUser {
  const identity = checkedIdentity(value, request);
  const credential = (value as Record<string, unknown>).scram;
  const problem = scramCredentialProblem(credential);
  if (problem !== undefined) {
    throw new RouterError(ErrorUri.authenticationFailed, `the authenticate hook returned an invalid wamp-scram user: ${problem}`);
  }
  return { identity, credential: credential as ScramCredential };
}

/** RFC 5802 saslname: `,` and `=` escaped. */
function escapeUsername(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Non-empty base64 in canonical form (RFC 4648: padded, no whitespace): it decodes and encodes back to itself. */
function isCanonicalBase64(text: string): boolean {
  return text.length > 0 && Buffer.from(text, 'base64').toString('base64') === text;
}

function isKey(value: unknown): value is string {
  return typeof value === 'string' && isCanonicalBase64(value) && Buffer.from(value, 'base64').length === KEY_BYTES;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
