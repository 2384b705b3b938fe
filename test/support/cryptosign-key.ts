import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** The DER header of an Ed25519 PKCS#8 private key (RFC 8410); followed by the 32-byte seed it is a key. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * A WAMP-Cryptosign client key made with `node:crypto` only: its public key as HELLO's authextra.pubkey
 * wants it, and the AUTHENTICATE signature for a challenge as the spec defines it.
 */
export class CryptosignTestKey {
  private constructor(private readonly privateKey: KeyObject) {}

  /** A fresh random key pair. */
  static generate(): CryptosignTestKey {
    return new CryptosignTestKey(generateKeyPairSync('ed25519').privateKey);
  }

  /** The key with this 32-byte seed (hex): the spec's test vectors give private keys so. */
  static fromSeed(seedHex: string): CryptosignTestKey {
    const der = Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.from(seedHex, 'hex')]);
    return new CryptosignTestKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  }

  /** The 32-byte private seed as 64 hex digits (the last 32 bytes of its PKCS#8 DER), e.g. for another client. */
  get seedHex(): string {
    const der = this.privateKey.export({ format: 'der', type: 'pkcs8' });
    return der.subarray(der.length - 32).toString('hex');
  }

  /** The raw 32-byte public key as 64 hex digits (the last 32 bytes of its SPKI DER). */
  get publicKeyHex(): string {
    const der = createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' });
    return der.subarray(der.length - 32).toString('hex');
  }

  /** hex(Ed25519 signature of the challenge's 32 bytes || those 32 bytes): AUTHENTICATE's signature. */
  signChallenge(challengeHex: string): string {
    const challenge = Buffer.from(challengeHex, 'hex');
    return Buffer.concat([sign(null, challenge, this.privateKey), challenge]).toString('hex');
  }
}
