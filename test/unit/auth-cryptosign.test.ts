import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AUTH_METHODS,
  ErrorUri,
  MessageCode,
  Router,
  RouterAuth,
  checkStaticUsers,
  ed25519PublicKey,
  staticUsersAuth,
  type AuthOptions,
  type AuthRequest,
  type Identity,
  type IdentityWithPubkeys,
} from '@fox-wamp/core';
import { CryptosignTestKey } from '../support/cryptosign-key.js';
import { InMemoryWampPeer, type WireMessage } from '../support/in-memory-wamp-peer.js';

// WAMP-Cryptosign (Ed25519 client authentication) driven message by message through the in-memory
// transport: the CHALLENGE the router sends, the signatures it accepts and refuses, and the static users'
// pubkey setting. The same with real clients against the built server: test/e2e/auth-cryptosign.test.ts.

const M = MessageCode;

const routers: Router[] = [];

afterEach(async () => {
  await Promise.all(routers.splice(0).map((router) => router.close()));
});

function makeRouter(auth: AuthOptions): Router {
  const router = new Router({ realms: ['realm1'], auth });
  routers.push(router);
  return router;
}

const DEVICE = CryptosignTestKey.generate();
const SPARE = CryptosignTestKey.generate();
const STRANGER = CryptosignTestKey.generate();

/** One principal, `device-1`, with two registered keys; any other key is unknown. */
const hook = vi.fn((request: AuthRequest): IdentityWithPubkeys => {
  if (request.authid !== undefined && request.authid !== 'device-1') throw new Error(`no principal ${request.authid}`);
  return { authid: 'device-1', authrole: 'device', authprovider: 'keyring', pubkeys: [DEVICE.publicKeyHex, SPARE.publicKeyHex.toUpperCase()] };
});
afterEach(() => void hook.mockClear());

const CRYPTOSIGN: AuthOptions = { authenticate: hook, methods: ['cryptosign'] };

/** HELLO with cryptosign announcing `pubkey`; resolves with the router's first answer. */
async function helloWith(peer: InMemoryWampPeer, authextra: Record<string, unknown>, authid?: string): Promise<WireMessage> {
  peer.hello('realm1', { authmethods: ['cryptosign'], authextra, ...(authid === undefined ? {} : { authid }) });
  return peer.next();
}

/** HELLO announcing `key`; expects a CHALLENGE and resolves with its challenge (hex). */
async function challenged(peer: InMemoryWampPeer, key: CryptosignTestKey, authid?: string): Promise<string> {
  const [code, method, extra] = await helloWith(peer, { pubkey: key.publicKeyHex }, authid);
  expect([code, method]).toEqual([M.CHALLENGE, 'cryptosign']);
  return (extra as { challenge: string }).challenge;
}

/** Flips the lowest bit of the hex digit at `index`. */
function flipHexDigit(hex: string, index: number): string {
  const flipped = (parseInt(hex[index]!, 16) ^ 1).toString(16);
  return hex.slice(0, index) + flipped + hex.slice(index + 1);
}

describe('the signature format (the spec\'s test vectors, without channel binding)', () => {
  const VECTORS = [
    {
      privateKey: '4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510',
      challenge: 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
      signature:
        'b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0cae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad566a6b7b728e5d03ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    },
    {
      privateKey: 'd511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd',
      challenge: 'b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d',
      signature:
        'd4209ad10d5aff6bfbc009d7e924795de138a63515efc7afc6b01b7fe5201372190374886a70207b042294af5bd64ce725cd8dceb344e6d11c09d1aaaf4d660fb26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d',
    },
  ];

  it('node:crypto Ed25519 over the 32 challenge bytes, then the challenge, hex: exactly the spec\'s signatures', () => {
    for (const vector of VECTORS) {
      expect(CryptosignTestKey.fromSeed(vector.privateKey).signChallenge(vector.challenge)).toBe(vector.signature);
    }
  });

  it('ed25519PublicKey imports a raw hex key (SPKI prefix) and refuses anything that is not 64 hex digits', () => {
    expect(ed25519PublicKey(DEVICE.publicKeyHex).asymmetricKeyType).toBe('ed25519');
    expect(() => ed25519PublicKey(DEVICE.publicKeyHex.slice(2))).toThrow(/64 hex digits/);
    expect(() => ed25519PublicKey(`${DEVICE.publicKeyHex.slice(2)}zz`)).toThrow(/64 hex digits/);
  });
});

describe('cryptosign authentication', () => {
  it('is a known method that needs an authenticate hook', () => {
    expect(AUTH_METHODS).toContain('cryptosign');
    expect(() => new RouterAuth({ methods: ['cryptosign'] })).toThrow(/cryptosign, which needs an authenticate hook/);
    expect(new RouterAuth(CRYPTOSIGN).pick(['wampcra', 'cryptosign'])?.method).toBe('cryptosign');
  });

  it('asks the hook at HELLO with authextra.pubkey (authid optional, no secret), then sends the spec\'s CHALLENGE', async () => {
    const peer = new InMemoryWampPeer(makeRouter(CRYPTOSIGN));
    const [code, method, extra] = await helloWith(peer, { pubkey: DEVICE.publicKeyHex });
    expect([code, method]).toEqual([M.CHALLENGE, 'cryptosign']);
    expect(Object.keys(extra as object).sort()).toEqual(['challenge', 'channel_binding']);
    expect(extra).toMatchObject({ channel_binding: null });
    expect((extra as { challenge: string }).challenge).toMatch(/^[0-9a-f]{64}$/);
    expect(hook).toHaveBeenCalledTimes(1);
    const request = hook.mock.calls[0]![0];
    expect(request).toMatchObject({ authmethod: 'cryptosign', realm: 'realm1', authextra: { pubkey: DEVICE.publicKeyHex } });
    expect(request.authid).toBeUndefined();
    expect(request).not.toHaveProperty('secret');
  });

  it('a valid signature by the announced key is welcomed with the hook\'s identity', async () => {
    const router = makeRouter(CRYPTOSIGN);
    const peer = new InMemoryWampPeer(router);
    const challenge = await challenged(peer, DEVICE, 'device-1');
    peer.send([M.AUTHENTICATE, DEVICE.signChallenge(challenge), {}]);
    const [code, , details] = await peer.next();
    expect(code).toBe(M.WELCOME);
    expect(details).toMatchObject({ authid: 'device-1', authrole: 'device', authmethod: 'cryptosign', authprovider: 'keyring' });
    expect(router.sessionCount).toBe(1);
  });

  it('any of the principal\'s keys works, whatever the case of its hex digits', async () => {
    const peer = new InMemoryWampPeer(makeRouter(CRYPTOSIGN));
    const [, , extra] = await helloWith(peer, { pubkey: SPARE.publicKeyHex.toUpperCase() });
    peer.send([M.AUTHENTICATE, SPARE.signChallenge((extra as { challenge: string }).challenge), {}]);
    expect((await peer.next())[0]).toBe(M.WELCOME);
  });

  it('without an authid from the client or the hook, the session\'s authid is the public key', async () => {
    const anonymousKey = vi.fn((request: AuthRequest): IdentityWithPubkeys => ({ authrole: 'guest', pubkeys: [String(request.authextra.pubkey)] }));
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: anonymousKey, methods: ['cryptosign'] }));
    const challenge = await challenged(peer, DEVICE);
    peer.send([M.AUTHENTICATE, DEVICE.signChallenge(challenge), {}]);
    const [code, , details] = await peer.next();
    expect(code).toBe(M.WELCOME);
    expect(details).toMatchObject({ authid: DEVICE.publicKeyHex, authrole: 'guest', authmethod: 'cryptosign', authprovider: 'dynamic' });
  });

  it('a public key the hook does not list is refused at HELLO, without a CHALLENGE', async () => {
    const peer = new InMemoryWampPeer(makeRouter(CRYPTOSIGN));
    const [code, details, reason] = await helloWith(peer, { pubkey: STRANGER.publicKeyHex });
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationDenied]);
    expect(details).toEqual({ message: 'this public key is not registered for the principal' });
  });

  it('a signature by another key than the announced one: ABORT wamp.error.authentication_failed, and no session', async () => {
    const router = makeRouter(CRYPTOSIGN);
    const peer = new InMemoryWampPeer(router);
    const challenge = await challenged(peer, DEVICE);
    peer.send([M.AUTHENTICATE, STRANGER.signChallenge(challenge), {}]);
    const [code, details, reason] = await peer.next();
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationFailed]);
    expect(details).toEqual({ message: 'cryptosign signature does not match' });
    expect(await peer.closed()).toEqual({ protocolError: false });
    expect(router.sessionCount).toBe(0);
  });

  it('a tampered signature is refused: a flipped bit in the signature, or in the challenge it carries', async () => {
    const router = makeRouter(CRYPTOSIGN);
    for (const index of [0, 127, 128, 191]) {
      const peer = new InMemoryWampPeer(router);
      const challenge = await challenged(peer, DEVICE);
      peer.send([M.AUTHENTICATE, flipHexDigit(DEVICE.signChallenge(challenge), index), {}]);
      expect((await peer.next())[2]).toBe(ErrorUri.authenticationFailed);
    }
    expect(router.sessionCount).toBe(0);
  });

  it('a valid signature of some other message than the challenge is refused', async () => {
    const peer = new InMemoryWampPeer(makeRouter(CRYPTOSIGN));
    await challenged(peer, DEVICE);
    peer.send([M.AUTHENTICATE, DEVICE.signChallenge('00'.repeat(32)), {}]);
    expect((await peer.next())[2]).toBe(ErrorUri.authenticationFailed);
  });

  it('a signature that is not 96 bytes of hex (just the 64-byte signature, or garbage) is refused', async () => {
    for (const mangle of [(signature: string) => signature.slice(0, 128), () => 'not hex at all', (signature: string) => `${signature}00`]) {
      const peer = new InMemoryWampPeer(makeRouter(CRYPTOSIGN));
      const challenge = await challenged(peer, DEVICE);
      peer.send([M.AUTHENTICATE, mangle(DEVICE.signChallenge(challenge)), {}]);
      expect((await peer.next())[2]).toBe(ErrorUri.authenticationFailed);
    }
  });

  it('every attempt gets a fresh challenge, so a signature replayed on another connection is refused', async () => {
    const router = makeRouter(CRYPTOSIGN);
    const first = new InMemoryWampPeer(router);
    const firstChallenge = await challenged(first, DEVICE);
    const signature = DEVICE.signChallenge(firstChallenge);
    first.send([M.AUTHENTICATE, signature, {}]);
    expect((await first.next())[0]).toBe(M.WELCOME);
    // An eavesdropper announces the same public key and sends the recorded AUTHENTICATE.
    const replay = new InMemoryWampPeer(router);
    const replayChallenge = await challenged(replay, DEVICE);
    expect(replayChallenge).not.toBe(firstChallenge);
    replay.send([M.AUTHENTICATE, signature, {}]);
    expect((await replay.next())[2]).toBe(ErrorUri.authenticationFailed);
    expect(router.sessionCount).toBe(1);
  });

  it('an asynchronous hook works the same', async () => {
    const asyncHook = async (request: AuthRequest) => hook(request);
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: asyncHook, methods: ['cryptosign'] }));
    const challenge = await challenged(peer, DEVICE);
    peer.send([M.AUTHENTICATE, DEVICE.signChallenge(challenge), {}]);
    expect((await peer.next())[2]).toMatchObject({ authid: 'device-1', authmethod: 'cryptosign' });
  });

  it('HELLO without a well-formed pubkey is refused without asking the hook', async () => {
    for (const authextra of [{}, { pubkey: DEVICE.publicKeyHex.slice(1) }, { pubkey: 42 }]) {
      const peer = new InMemoryWampPeer(makeRouter(CRYPTOSIGN));
      const [code, details, reason] = await helloWith(peer, authextra);
      expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationDenied]);
      expect((details as { message: string }).message).toMatch(/cryptosign needs authextra.pubkey/);
    }
    expect(hook).not.toHaveBeenCalled();
  });

  it('TLS channel binding and router authentication are not supported: asking for them is refused at HELLO', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ channel_binding: 'tls-unique' }, /channel binding \("tls-unique"\) is not supported/],
      [{ challenge: 'ab'.repeat(32) }, /router authentication .* is not supported/],
    ];
    for (const [asked, message] of cases) {
      const peer = new InMemoryWampPeer(makeRouter(CRYPTOSIGN));
      const [code, details, reason] = await helloWith(peer, { pubkey: DEVICE.publicKeyHex, ...asked });
      expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationDenied]);
      expect((details as { message: string }).message).toMatch(message);
    }
    expect(hook).not.toHaveBeenCalled();
  });

  it('channel_binding: null (no binding, as some clients send it) is accepted', async () => {
    const peer = new InMemoryWampPeer(makeRouter(CRYPTOSIGN));
    const [code, , extra] = await helloWith(peer, { pubkey: DEVICE.publicKeyHex, channel_binding: null });
    expect(code).toBe(M.CHALLENGE);
    peer.send([M.AUTHENTICATE, DEVICE.signChallenge((extra as { challenge: string }).challenge), {}]);
    expect((await peer.next())[0]).toBe(M.WELCOME);
  });

  it('a hook that returns no public keys, or malformed ones, is a misconfiguration: ABORT wamp.error.authentication_failed', async () => {
    const answers: unknown[] = [{ authrole: 'user' }, { authrole: 'user', pubkeys: [] }, { authrole: 'user', pubkeys: ['abc'] }, { authrole: 'user', pubkeys: DEVICE.publicKeyHex }];
    for (const answer of answers) {
      const peer = new InMemoryWampPeer(makeRouter({ authenticate: async () => answer as Identity, methods: ['cryptosign'] }));
      const [code, details, reason] = await helloWith(peer, { pubkey: DEVICE.publicKeyHex });
      expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationFailed]);
      expect((details as { message: string }).message).toContain('invalid cryptosign user');
    }
  });
});

describe('cryptosign static users (pubkey / pubkeys in the users setting)', () => {
  const ERIN = CryptosignTestKey.generate();
  const FRANK = CryptosignTestKey.generate();
  const FRANK_LAPTOP = CryptosignTestKey.generate();
  const users = checkStaticUsers([
    { authid: 'alice', ticket: 's3cret', role: 'user' },
    { authid: 'erin', pubkey: ERIN.publicKeyHex, role: 'sensor' },
    { authid: 'frank', pubkeys: [FRANK.publicKeyHex, FRANK_LAPTOP.publicKeyHex.toUpperCase()], role: 'admin' },
  ]);

  /** A full cryptosign login with `key` (and `authid` if given); resolves with the router's final answer. */
  async function login(router: Router, key: CryptosignTestKey, authid?: string): Promise<WireMessage> {
    const peer = new InMemoryWampPeer(router);
    const first = await helloWith(peer, { pubkey: key.publicKeyHex }, authid);
    if (first[0] !== M.CHALLENGE) return first;
    peer.send([M.AUTHENTICATE, key.signChallenge((first[2] as { challenge: string }).challenge), {}]);
    return peer.next();
  }

  it('offers cryptosign as soon as a user has a public key', () => {
    expect(staticUsersAuth(users).methods).toEqual(['cryptosign', 'ticket']);
    expect(staticUsersAuth([users[0]!]).methods).toEqual(['ticket']);
  });

  it('users join with their key, with or without their authid, as provider static', async () => {
    const router = makeRouter(staticUsersAuth(users));
    expect((await login(router, ERIN, 'erin'))[2]).toMatchObject({ authid: 'erin', authrole: 'sensor', authmethod: 'cryptosign', authprovider: 'static' });
    // No authid: the key names the user.
    expect((await login(router, FRANK_LAPTOP))[2]).toMatchObject({ authid: 'frank', authrole: 'admin', authmethod: 'cryptosign' });
    expect((await login(router, FRANK, 'frank'))[2]).toMatchObject({ authid: 'frank' });
  });

  it('another user\'s key, an unknown key, and a ticket user are refused with wamp.error.authentication_denied', async () => {
    const router = makeRouter(staticUsersAuth(users));
    expect((await login(router, ERIN, 'frank'))[2]).toBe(ErrorUri.authenticationDenied);
    expect((await login(router, CryptosignTestKey.generate()))[2]).toBe(ErrorUri.authenticationDenied);
    expect((await login(router, ERIN, 'alice'))[2]).toBe(ErrorUri.authenticationDenied);
  });

  it('refuses malformed pubkey users with a message naming the user and the problem', () => {
    const key = ERIN.publicKeyHex;
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', pubkey: key, ticket: 't' }])).toThrow('users[0] (a): give either ticket');
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', pubkey: key, pubkeys: [key] }])).toThrow('users[0] (a): give pubkey (one key) or pubkeys');
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', pubkey: 'abc' }])).toThrow('users[0] (a): pubkey must be an Ed25519 public key');
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', pubkeys: [] }])).toThrow('pubkeys must be a non-empty list');
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', pubkeys: [key, 'xyz'] }])).toThrow('pubkeys must list Ed25519 public keys');
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', pubkey: key, salt: 's' }])).toThrow('not pubkey');
    // One key, two users: a client without an authid could not be told apart.
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', pubkey: key }, { authid: 'b', role: 'r', pubkeys: [key.toUpperCase()] }])).toThrow(
      `users[1] (b): public key ${key} is listed twice`,
    );
  });
});
