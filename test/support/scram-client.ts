import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { argon2id } from 'hash-wasm';
import { RawWampClient, WampCode, type WireMessage } from './raw-wamp-client.js';

/**
 * The client side of WAMP-SCRAM, written from the spec's "SCRAM Algorithms" for the tests, apart from the
 * router's code: a proof the router accepts was computed the spec's way, not the router's. Both KDFs:
 * PBKDF2-HMAC-SHA256 (node:crypto) and Argon2id 1.3 with parallelism 1 (hash-wasm; the router only ever
 * checks proofs, it runs no KDF at login). Passwords are used as UTF-8 as they are (SASLprep changes nothing
 * for the ASCII passwords of the tests).
 */

export const CHALLENGE = 4;
export const AUTHENTICATE = 5;

/** CHALLENGE.Extra of `wamp-scram`. */
export interface ScramChallenge {
  readonly nonce: string;
  readonly salt: string;
  readonly kdf: string;
  readonly iterations: number;
  /** KiB for argon2id13, null for pbkdf2. */
  readonly memory?: number | null;
}

export interface ScramAnswer {
  /** base64(ClientProof): AUTHENTICATE.Signature. */
  readonly proof: string;
  /** base64(ServerSignature): what WELCOME.Details.authextra.verifier must be. */
  readonly verifier: string;
}

/** A fresh client nonce: 16 random bytes in base64, as the spec recommends. */
export function clientNonce(): string {
  return randomBytes(16).toString('base64');
}

/** SaltedPassword with the KDF the challenge names. */
export async function saltedPassword(password: string, challenge: Pick<ScramChallenge, 'salt' | 'kdf' | 'iterations' | 'memory'>): Promise<Buffer> {
  if (challenge.kdf === 'pbkdf2') return pbkdf2SaltedPassword(password, challenge);
  if (challenge.kdf !== 'argon2id13') throw new Error(`the test client knows no WAMP-SCRAM kdf ${JSON.stringify(challenge.kdf)}`);
  if (typeof challenge.memory !== 'number') throw new Error(`an argon2id13 challenge needs memory, got ${JSON.stringify(challenge.memory)}`);
  const salted = await argon2id({
    password: Buffer.from(password, 'utf8'),
    salt: Buffer.from(challenge.salt, 'base64'),
    iterations: challenge.iterations,
    memorySize: challenge.memory,
    parallelism: 1,
    hashLength: 32,
    outputType: 'binary',
  });
  return Buffer.from(salted);
}

function pbkdf2SaltedPassword(password: string, challenge: Pick<ScramChallenge, 'salt' | 'iterations'>): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(challenge.salt, 'base64'), challenge.iterations, 32, 'sha256');
}

/** The client's answer to a challenge with either KDF (Argon2id runs asynchronously). */
export async function scramAnswerFor(authid: string, password: string, nonce: string, challenge: ScramChallenge): Promise<ScramAnswer> {
  return scramProof(authid, await saltedPassword(password, challenge), nonce, challenge);
}

/**
 * The client's answer to a PBKDF2 challenge, synchronously. `clientNonce` and the challenge's nonce go into
 * the AuthMessage as they are, so RFC 7677's test vector (whose nonces are not base64) can be checked with it
 * too.
 */
export function scramAnswer(authid: string, password: string, nonce: string, challenge: Pick<ScramChallenge, 'nonce' | 'salt' | 'iterations'>): ScramAnswer {
  return scramProof(authid, pbkdf2SaltedPassword(password, challenge), nonce, challenge);
}

/** ClientProof and ServerSignature from the SaltedPassword, whichever KDF made it. */
function scramProof(authid: string, salted: Buffer, nonce: string, challenge: Pick<ScramChallenge, 'nonce' | 'salt' | 'iterations'>): ScramAnswer {
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash('sha256').update(clientKey).digest();
  const username = authid.replace(/=/g, '=3D').replace(/,/g, '=2C');
  const authMessage =
    `n=${username},r=${nonce},` +
    `r=${challenge.nonce},s=${challenge.salt},i=${challenge.iterations},` +
    `c=${Buffer.from('n,,').toString('base64')},r=${challenge.nonce}`;
  const clientSignature = hmac(storedKey, authMessage);
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ clientSignature[i]!));
  const serverKey = hmac(salted, 'Server Key');
  return { proof: proof.toString('base64'), verifier: hmac(serverKey, authMessage).toString('base64') };
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** The roles a SCRAM test client announces. */
const ROLES = { caller: {}, subscriber: {} };

/**
 * One WAMP-SCRAM login driven by hand over a raw WebSocket: HELLO with `authmethods: ["wamp-scram"]`, then
 * whatever AUTHENTICATE the test wants to send. `reply` is the router's answer to HELLO (CHALLENGE or ABORT).
 */
export class ScramLogin {
  private constructor(
    readonly client: RawWampClient,
    readonly authid: string,
    readonly nonce: string,
    readonly reply: WireMessage,
  ) {}

  /**
   * Connects and says HELLO; `authextra` replaces the default `{nonce, channel_binding: null}` (its nonce,
   * if a string, is the one the answer is computed with: a replayed HELLO).
   */
  static async hello(url: string, authid: string, authextra?: Record<string, unknown>, realm = 'realm1'): Promise<ScramLogin> {
    const nonce = typeof authextra?.nonce === 'string' ? authextra.nonce : clientNonce();
    const client = await RawWampClient.connect(url);
    client.send([WampCode.HELLO, realm, { roles: ROLES, authmethods: ['wamp-scram'], authid, authextra: authextra ?? { nonce, channel_binding: null } }]);
    return new ScramLogin(client, authid, nonce, await client.nextMessage());
  }

  /** The CHALLENGE's extra; fails the test if the router answered otherwise. */
  get challenge(): ScramChallenge {
    if (this.reply[0] !== CHALLENGE || this.reply[1] !== 'wamp-scram') throw new Error(`expected a wamp-scram CHALLENGE, got ${JSON.stringify(this.reply)}`);
    return this.reply[2] as ScramChallenge;
  }

  /** The AUTHENTICATE a spec-following client sends for `password`, and the verifier it then expects. */
  async answer(password: string): Promise<{ authenticate: WireMessage; verifier: string }> {
    const { proof, verifier } = await scramAnswerFor(this.authid, password, this.nonce, this.challenge);
    return { authenticate: [AUTHENTICATE, proof, { nonce: this.challenge.nonce, channel_binding: null, cbind_data: null }], verifier };
  }

  /** Sends a message and resolves with the router's next one (WELCOME or ABORT). */
  async send(message: WireMessage): Promise<WireMessage> {
    this.client.send(message);
    return this.client.nextMessage();
  }

  close(): void {
    this.client.terminate();
  }
}
