import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { AuthenticateHook, AuthRequest, Identity } from './authenticate-hook.js';
import type { Authenticator, AuthHello, AuthResponse, AuthStep } from './authenticator.js';
import { checkedIdentity } from './hook-identity.js';
import { isPromiseLike } from './promise-like.js';
import { hmac, isCanonicalBase64, isKey, KEY_BYTES, scramCredentialProblem, sha256, type ScramCredential } from './scram-credential.js';

/** The spec's authmethod string for WAMP-SCRAM. */
export const SCRAM_METHOD = 'wamp-scram';

const SERVER_NONCE_BYTES = 16;
/** A client nonce is echoed in the CHALLENGE: bounded so a client cannot make the router send megabytes. */
const MAX_CLIENT_NONCE_LENGTH = 1024;

/** What the hook returns for `wamp-scram`: the identity a client joins as if it proves it knows the password. */
export interface IdentityWithScram extends Identity {
  readonly scram: ScramCredential;
}

/**
 * `wamp-scram` (spec: WAMP-SCRAM, based on RFC 5802 / RFC 7677 with SHA-256). HELLO carries the authid and
 * `authextra.nonce` (the client nonce, base64); the hook is asked at HELLO and returns the identity with the
 * user's `ScramCredential`. The CHALLENGE carries `nonce` (client nonce + a fresh server nonce), `salt`,
 * `kdf` (`pbkdf2` or `argon2id13`), `iterations` and `memory` (KiB for argon2id13, null for pbkdf2): what the
 * client needs to derive the SaltedPassword. AUTHENTICATE carries the base64 ClientProof and echoes that
 * nonce (or leaves it out: the proof covers it anyway). The router recomputes StoredKey from the proof and,
 * if it matches, admits the client with WELCOME.Details.authextra.verifier = base64(ServerSignature), so that
 * the client can check the router too.
 *
 * Only the client runs the (slow, for argon2id13 asynchronous) KDF; checking a proof takes two HMACs and a
 * SHA-256 over the stored keys, the same for either KDF, so every step here is synchronous unless the hook
 * is not.
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
    challenge: { nonce, salt, kdf, iterations, memory: credential.kdf === 'argon2id13' ? credential.memory : null },
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
