import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { AuthenticateHook, AuthRequest, Identity } from './authenticate-hook.js';
import type { Authenticator, AuthHello, AuthResponse, AuthStep } from './authenticator.js';
import { checkedIdentity } from './hook-identity.js';
import { isPromiseLike } from './promise-like.js';

/** An Ed25519 public key, a challenge: 32 bytes, as 64 hex digits. */
const HEX32 = /^[0-9a-fA-F]{64}$/;
/** AUTHENTICATE's signature: the 64-byte Ed25519 signature, then the 32 bytes signed, as 192 hex digits. */
const HEX96 = /^[0-9a-fA-F]{192}$/;
const SIGNATURE_BYTES = 64;
const CHALLENGE_BYTES = 32;

/**
 * The DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 },
 * BIT STRING (33 bytes: no unused bits, then the key) }. Followed by the raw 32-byte key it is a key
 * `node:crypto` imports.
 */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The public key `hex` (32 bytes) as a key `crypto.verify` takes; throws if it is no Ed25519 key. */
export function ed25519PublicKey(hex: string): KeyObject {
  if (!HEX32.test(hex)) throw new TypeError('an Ed25519 public key is 32 bytes as 64 hex digits');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
}

/**
 * What the hook returns for `cryptosign`: the identity a client joins as if it proves it holds the private
 * key of one of `pubkeys` (and announced that key in HELLO). Without an authid (in the identity or HELLO),
 * the session's authid is the client's public key, as the spec suggests.
 */
export interface IdentityWithPubkeys extends Identity {
  /** The principal's Ed25519 public keys, each 32 bytes as 64 hex digits (case does not matter). */
  readonly pubkeys: readonly string[];
}

/**
 * `cryptosign` (spec: WAMP-Cryptosign, client authentication with Ed25519). The client announces its
 * public key in HELLO.Details.authextra.pubkey (authid optional); the hook is asked at HELLO and returns
 * the identity with the principal's allowed keys (`IdentityWithPubkeys`). A key not among them is refused
 * before any CHALLENGE. Otherwise the router sends `{challenge: <32 random bytes, hex>, channel_binding:
 * null}` and admits the client if AUTHENTICATE carries hex(signature(64) || challenge(32)) with a valid
 * Ed25519 signature of the challenge by the announced key. A fresh challenge per attempt makes a signature
 * useless for any other (replay).
 *
 * Not supported, and refused at HELLO rather than silently skipped: TLS channel binding
 * (`authextra.channel_binding`) and router authentication (`authextra.challenge`, which the router would
 * have to sign with a key of its own). Trustroots and certificates are not evaluated: only the hook's keys
 * count (it sees `authextra` and may use them itself).
 */
export class CryptosignAuthenticator implements Authenticator {
  readonly method = 'cryptosign';

  constructor(private readonly hook: AuthenticateHook) {}

  begin(hello: AuthHello): AuthStep | PromiseLike<AuthStep> {
    const { pubkey, channel_binding: channelBinding, challenge: routerChallenge } = hello.authextra;
    if (typeof pubkey !== 'string' || !HEX32.test(pubkey)) {
      throw new RouterError(ErrorUri.authenticationDenied, 'cryptosign needs authextra.pubkey: the Ed25519 public key, 32 bytes as 64 hex digits');
    }
    if (channelBinding !== undefined && channelBinding !== null) {
      throw new RouterError(ErrorUri.authenticationDenied, `cryptosign channel binding (${JSON.stringify(channelBinding)}) is not supported`);
    }
    if (routerChallenge !== undefined && routerChallenge !== null) {
      throw new RouterError(ErrorUri.authenticationDenied, 'cryptosign router authentication (authextra.challenge) is not supported');
    }
    let key: KeyObject;
    try {
      key = ed25519PublicKey(pubkey);
    } catch {
      throw new RouterError(ErrorUri.authenticationDenied, 'authextra.pubkey is not an Ed25519 public key');
    }
    const request: AuthRequest = hello;
    const answer = this.hook(request);
    const proceed = (value: unknown) => challenge(allowedIdentity(value, request, pubkey.toLowerCase()), key);
    return isPromiseLike(answer) ? answer.then(proceed) : proceed(answer);
  }
}

/** The CHALLENGE and the check of the client's answer. */
function challenge(identity: Identity, key: KeyObject): AuthStep {
  const nonce = randomBytes(CHALLENGE_BYTES);
  return {
    challenge: { challenge: nonce.toString('hex'), channel_binding: null },
    respond: (response: AuthResponse) => {
      if (!validSignature(response.signature, nonce, key)) {
        throw new RouterError(ErrorUri.authenticationFailed, 'cryptosign signature does not match');
      }
      return { identity };
    },
  };
}

/** hex(signature || message): the message must be this attempt's challenge, the signature the key's over it. */
function validSignature(given: unknown, nonce: Buffer, key: KeyObject): boolean {
  if (typeof given !== 'string' || !HEX96.test(given)) return false;
  const bytes = Buffer.from(given, 'hex');
  const message = bytes.subarray(SIGNATURE_BYTES);
  return message.length === CHALLENGE_BYTES && message.equals(nonce) && verify(null, nonce, key, bytes.subarray(0, SIGNATURE_BYTES));
}

/**
 * The hook's answer checked (malformed keys are a misconfiguration: authentication_failed), and the client's
 * key among the allowed ones (else authentication_denied). The authid defaults to the public key.
 */
function allowedIdentity(value: unknown, request: AuthRequest, pubkey: string): Identity {
  const identity = checkedIdentity(value, request);
  const { pubkeys } = value as Record<string, unknown>;
  if (!Array.isArray(pubkeys) || pubkeys.length === 0 || !pubkeys.every((key) => typeof key === 'string' && HEX32.test(key))) {
    throw new RouterError(
      ErrorUri.authenticationFailed,
      'the authenticate hook returned an invalid cryptosign user: pubkeys must be a non-empty list of 64-hex-digit keys',
    );
  }
  if (!pubkeys.some((key: string) => key.toLowerCase() === pubkey)) {
    throw new RouterError(ErrorUri.authenticationDenied, 'this public key is not registered for the principal');
  }
  return { ...identity, authid: identity.authid ?? pubkey };
}
