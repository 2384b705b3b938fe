import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { argon2id } from 'hash-wasm';
import { isPlainObject } from '../retained/retained-value.js';

/**
 * The key derivation functions of WAMP-SCRAM (the spec's "Key Derivation Functions"): `argon2id13` is
 * Argon2id version 1.3 (RFC 9106) with parallelism 1, `pbkdf2` is PBKDF2-HMAC-SHA256. Both give the
 * 32-byte SaltedPassword.
 */
export const SCRAM_KDFS = ['pbkdf2', 'argon2id13'] as const;
export type ScramKdf = (typeof SCRAM_KDFS)[number];

/** PBKDF2 iterations for new credentials: well above RFC 7677's minimum of 4096, still quick for a client. */
export const SCRAM_DEFAULT_ITERATIONS = 100_000;
/**
 * Argon2id cost for new credentials: 4096 passes over 512 KiB, what autobahn-python and Crossbar.io derive
 * their WAMP-SCRAM credentials with (the spec leaves the numbers to the application). About a second for a
 * native client, a few for WebAssembly: raise `memory` rather than `iterations` if clients can afford it.
 */
export const SCRAM_ARGON2_DEFAULT_ITERATIONS = 4096;
/** Argon2id memory cost for new credentials, in KiB (see `SCRAM_ARGON2_DEFAULT_ITERATIONS`). */
export const SCRAM_ARGON2_DEFAULT_MEMORY = 512;

/** Argon2's bounds (RFC 9106, section 3.1), with parallelism fixed to 1 by WAMP-SCRAM. */
const ARGON2_MIN_MEMORY = 8;
const ARGON2_MIN_SALT_BYTES = 8;
const ARGON2_MAX = 2 ** 32 - 1;

/** SHA-256 output: the length of SaltedPassword, StoredKey, ServerKey and of a ClientProof. */
export const KEY_BYTES = 32;
const SALT_BYTES = 16;

interface StoredScramKeys {
  /** The per-user random salt, base64. */
  readonly salt: string;
  /** The KDF's time cost: PBKDF2 iterations, or Argon2id passes. */
  readonly iterations: number;
  /** base64(SHA-256(HMAC(SaltedPassword, "Client Key"))). */
  readonly storedKey: string;
  /** base64(HMAC(SaltedPassword, "Server Key")). */
  readonly serverKey: string;
}

/** A WAMP-SCRAM user whose SaltedPassword is PBKDF2-HMAC-SHA256. */
export interface Pbkdf2ScramCredential extends StoredScramKeys {
  readonly kdf: 'pbkdf2';
}

/** A WAMP-SCRAM user whose SaltedPassword is Argon2id 1.3 with parallelism 1. */
export interface Argon2ScramCredential extends StoredScramKeys {
  readonly kdf: 'argon2id13';
  /** Argon2id's memory cost in KiB (the CHALLENGE's `memory`). */
  readonly memory: number;
}

/**
 * What the router stores for a WAMP-SCRAM user (the spec's "Data Stored on the Server"): never the password,
 * only the salt, the KDF and its cost, and two keys derived from the salted password. All byte strings are
 * base64. The router never runs the KDF: checking a proof needs StoredKey only.
 */
export type ScramCredential = Pbkdf2ScramCredential | Argon2ScramCredential;

/** How to derive a credential: `salt` (base64) defaults to 16 random bytes, the costs to the defaults above. */
export interface ScramCredentialOptions {
  readonly kdf: ScramKdf;
  readonly salt?: string;
  readonly iterations?: number;
  /** Argon2id only: KiB. */
  readonly memory?: number;
}

/**
 * Derives a PBKDF2 credential from a password: SaltedPassword = PBKDF2-HMAC-SHA256(Normalize(password),
 * salt bytes, iterations, 32), then StoredKey and ServerKey as in RFC 5802. `salt`: base64; default 16
 * random bytes. Synchronous; `deriveScramCredential` does either KDF.
 */
export function scramCredential(password: string, options: { readonly salt?: string; readonly iterations?: number } = {}): Pbkdf2ScramCredential {
  const salt = options.salt ?? randomSalt();
  const iterations = options.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  if (!isCanonicalBase64(salt)) throw new TypeError('the salt must be canonical base64');
  if (!isPositiveInteger(iterations)) throw new TypeError('iterations must be a positive integer');
  const salted = pbkdf2Sync(normalizePassword(password), Buffer.from(salt, 'base64'), iterations, KEY_BYTES, 'sha256');
  return { kdf: 'pbkdf2', salt, iterations, ...storedKeys(salted) };
}

/**
 * Derives a credential with either KDF. For `argon2id13`: SaltedPassword = Argon2id v1.3(password =
 * UTF-8 of Normalize(password), salt bytes, t = iterations, m = memory KiB, p = 1, 32 bytes), computed by
 * hash-wasm (WebAssembly, hence a promise). Rejects with a TypeError naming a bad option.
 */
export async function deriveScramCredential(password: string, options: ScramCredentialOptions): Promise<ScramCredential> {
  if (options.kdf === 'pbkdf2') {
    if (options.memory !== undefined) throw new TypeError('memory goes only with the argon2id13 KDF');
    return scramCredential(password, options);
  }
  if (options.kdf !== 'argon2id13') throw new TypeError(`the KDF must be ${SCRAM_KDFS.join(' or ')}`);
  const credential = {
    kdf: options.kdf,
    salt: options.salt ?? randomSalt(),
    iterations: options.iterations ?? SCRAM_ARGON2_DEFAULT_ITERATIONS,
    memory: options.memory ?? SCRAM_ARGON2_DEFAULT_MEMORY,
  };
  const problem = argon2CostProblem(credential);
  if (problem !== undefined) throw new TypeError(problem);
  const salted = await argon2id({
    password: Buffer.from(normalizePassword(password), 'utf8'),
    salt: Buffer.from(credential.salt, 'base64'),
    iterations: credential.iterations,
    memorySize: credential.memory,
    parallelism: 1,
    hashLength: KEY_BYTES,
    outputType: 'binary',
  });
  return { ...credential, ...storedKeys(Buffer.from(salted)) };
}

/** StoredKey and ServerKey from the SaltedPassword (RFC 5802), base64. */
function storedKeys(salted: Buffer): Pick<StoredScramKeys, 'storedKey' | 'serverKey'> {
  return {
    storedKey: sha256(hmac(salted, 'Client Key')).toString('base64'),
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

const CREDENTIAL_KEYS = ['kdf', 'salt', 'iterations', 'memory', 'storedKey', 'serverKey'];

/** What is wrong with a stored credential, or undefined (shared by the config check and the hook check). */
export function scramCredentialProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'scram must be an object with kdf, salt, iterations, storedKey and serverKey (and memory for argon2id13)';
  const unknownKey = Object.keys(value).find((key) => !CREDENTIAL_KEYS.includes(key));
  if (unknownKey !== undefined) return `scram has an unknown field "${unknownKey}" (known: ${CREDENTIAL_KEYS.join(', ')})`;
  const { kdf, salt, iterations, memory, storedKey, serverKey } = value;
  if (!(SCRAM_KDFS as readonly unknown[]).includes(kdf)) return `scram.kdf must be ${SCRAM_KDFS.join(' or ')}`;
  if (typeof salt !== 'string' || !isCanonicalBase64(salt)) return 'scram.salt must be a non-empty base64 string';
  if (!isPositiveInteger(iterations)) return 'scram.iterations must be a positive integer';
  if (kdf === 'argon2id13') {
    const problem = argon2CostProblem({ salt, iterations, memory });
    if (problem !== undefined) return `scram.${problem}`;
  } else if (memory !== undefined && memory !== null) {
    // The spec's CHALLENGE for pbkdf2 carries `memory: null`; a stored null is harmless, a number a mistake.
    return 'scram.memory goes only with kdf argon2id13';
  }
  if (!isKey(storedKey)) return 'scram.storedKey must be 32 bytes in base64';
  if (!isKey(serverKey)) return 'scram.serverKey must be 32 bytes in base64';
  return undefined;
}

/**
 * Argon2id's own limits on the salt and the costs, which the router does not need (it never runs the KDF)
 * but every client does: a credential outside them could never be proven.
 */
function argon2CostProblem({ salt, iterations, memory }: { salt: string; iterations: unknown; memory: unknown }): string | undefined {
  if (!isCanonicalBase64(salt)) return 'salt must be canonical base64';
  if (Buffer.from(salt, 'base64').length < ARGON2_MIN_SALT_BYTES) return `salt must be at least ${ARGON2_MIN_SALT_BYTES} bytes for argon2id13`;
  if (!isPositiveInteger(iterations) || iterations > ARGON2_MAX) return `iterations must be a whole number from 1 to ${ARGON2_MAX} for argon2id13`;
  if (!isPositiveInteger(memory) || memory < ARGON2_MIN_MEMORY || memory > ARGON2_MAX) {
    return `memory must be a whole number of KiB from ${ARGON2_MIN_MEMORY} to ${ARGON2_MAX} for argon2id13`;
  }
  return undefined;
}

function randomSalt(): string {
  return randomBytes(SALT_BYTES).toString('base64');
}

export function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

export function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Non-empty base64 in canonical form (RFC 4648: padded, no whitespace): it decodes and encodes back to itself. */
export function isCanonicalBase64(text: string): boolean {
  return text.length > 0 && Buffer.from(text, 'base64').toString('base64') === text;
}

/** A 32-byte key (StoredKey, ServerKey, ClientProof) in canonical base64. */
export function isKey(value: unknown): value is string {
  return typeof value === 'string' && isCanonicalBase64(value) && Buffer.from(value, 'base64').length === KEY_BYTES;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
