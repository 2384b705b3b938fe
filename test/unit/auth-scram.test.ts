import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AUTH_METHODS,
  ErrorUri,
  MessageCode,
  Router,
  RouterAuth,
  checkStaticUsers,
  normalizePassword,
  scramCredential,
  staticUsersAuth,
  type AuthOptions,
  type AuthRequest,
  type IdentityWithScram,
} from '@fox-wamp/core';
import { InMemoryWampPeer, type WireMessage } from '../support/in-memory-wamp-peer.js';
import { clientNonce, scramAnswer, type ScramChallenge } from '../support/scram-client.js';

// WAMP-SCRAM driven message by message through the in-memory transport: the CHALLENGE, the proofs the
// router accepts and refuses, and the static users' `scram` setting. With real clients against the built
// server: test/e2e/auth-scram.test.ts.

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

const PASSWORD = 'pencil';
/** Few iterations: these tests are about the exchange, not the cost. */
const CAROL = { authid: 'carol', role: 'auditor', scram: scramCredential(PASSWORD, { iterations: 64 }) };
const SCRAM = staticUsersAuth([CAROL, { authid: 'alice', role: 'user', ticket: 'alice-ticket' }]);

/** HELLO with wamp-scram (`authid` null: none); resolves with the router's first answer. */
async function helloWith(peer: InMemoryWampPeer, authextra: Record<string, unknown>, authid: string | null = 'carol'): Promise<WireMessage> {
  peer.hello('realm1', { authmethods: ['wamp-scram'], authextra, ...(authid === null ? {} : { authid }) });
  return peer.next();
}

/** HELLO with a fresh nonce; expects a CHALLENGE and resolves with it and the nonce. */
async function challenged(peer: InMemoryWampPeer, authid = 'carol'): Promise<{ nonce: string; challenge: ScramChallenge }> {
  const nonce = clientNonce();
  const [code, method, extra] = await helloWith(peer, { nonce, channel_binding: null }, authid);
  expect([code, method]).toEqual([M.CHALLENGE, 'wamp-scram']);
  return { nonce, challenge: extra as ScramChallenge };
}

describe('the SCRAM computation (RFC 7677\'s SCRAM-SHA-256 test vector, which the spec\'s examples use)', () => {
  it('the tests\' client reproduces the RFC\'s ClientProof and ServerSignature', () => {
    const challenge = { nonce: 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0', salt: 'W22ZaJ0SNY7soEsUEjb6gQ==', iterations: 4096 };
    expect(scramAnswer('user', 'pencil', 'rOprNGfwEbeRWgbNEkqO', challenge)).toEqual({
      proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
      verifier: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    });
  });

  it('scramCredential stores salt, PBKDF2 cost and 32-byte keys, never the password; a fresh salt each time', () => {
    const credential = scramCredential('pencil', { iterations: 4096 });
    expect(Object.keys(credential).sort()).toEqual(['iterations', 'kdf', 'salt', 'serverKey', 'storedKey']);
    expect(credential).toMatchObject({ kdf: 'pbkdf2', iterations: 4096 });
    expect(Buffer.from(credential.storedKey, 'base64')).toHaveLength(32);
    expect(Buffer.from(credential.serverKey, 'base64')).toHaveLength(32);
    expect(JSON.stringify(credential)).not.toContain('pencil');
    expect(scramCredential('pencil', { iterations: 4096 }).salt).not.toBe(credential.salt);
    // The same salt and cost give the same keys.
    expect(scramCredential('pencil', { salt: credential.salt, iterations: 4096 })).toEqual(credential);
  });

  it('passwords are normalized as SASLprep maps them: a no-break space is a space, a soft hyphen nothing, then NFKC', () => {
    expect(normalizePassword('pass\u00A0word')).toBe('pass word');
    expect(normalizePassword('pass\u00ADword')).toBe('password');
    expect(normalizePassword('\uFB01x')).toBe('fix');
    const salt = scramCredential('x').salt;
    expect(scramCredential('pass\u00A0word', { salt, iterations: 8 })).toEqual(scramCredential('pass word', { salt, iterations: 8 }));
  });
});

describe('wamp-scram authentication', () => {
  it('is a known method that needs an authenticate hook, offered by static users with scram keys', () => {
    expect(AUTH_METHODS).toContain('wamp-scram');
    expect(() => new RouterAuth({ methods: ['wamp-scram'] })).toThrow(/wamp-scram, which needs an authenticate hook/);
    expect(SCRAM.methods).toEqual(['wamp-scram', 'ticket']);
  });

  it('sends the spec\'s CHALLENGE: the client nonce plus 16 fresh bytes, the user\'s salt, pbkdf2, iterations, memory null', async () => {
    const peer = new InMemoryWampPeer(makeRouter(SCRAM));
    const { nonce, challenge } = await challenged(peer);
    expect(Object.keys(challenge).sort()).toEqual(['iterations', 'kdf', 'memory', 'nonce', 'salt']);
    expect(challenge).toMatchObject({ salt: CAROL.scram.salt, kdf: 'pbkdf2', iterations: 64, memory: null });
    expect(challenge.nonce.startsWith(nonce)).toBe(true);
    expect(Buffer.from(challenge.nonce.slice(nonce.length), 'base64')).toHaveLength(16);
  });

  it('a correct proof is welcomed as wamp-scram, with the ServerSignature as authextra.verifier', async () => {
    const router = makeRouter(SCRAM);
    const peer = new InMemoryWampPeer(router);
    const { nonce, challenge } = await challenged(peer);
    const { proof, verifier } = scramAnswer('carol', PASSWORD, nonce, challenge);
    peer.send([M.AUTHENTICATE, proof, { nonce: challenge.nonce, channel_binding: null, cbind_data: null }]);
    const [code, , details] = await peer.next();
    expect(code).toBe(M.WELCOME);
    expect(details).toMatchObject({ authid: 'carol', authrole: 'auditor', authmethod: 'wamp-scram', authprovider: 'static', authextra: { verifier } });
    // The stored keys stay on the router.
    expect(JSON.stringify(details)).not.toContain(CAROL.scram.storedKey);
    expect(router.sessionCount).toBe(1);
  });

  it('an AUTHENTICATE without Extra.nonce (as autobahn-python sends it) is checked against the challenge\'s nonce', async () => {
    const peer = new InMemoryWampPeer(makeRouter(SCRAM));
    const { nonce, challenge } = await challenged(peer);
    peer.send([M.AUTHENTICATE, scramAnswer('carol', PASSWORD, nonce, challenge).proof, {}]);
    expect((await peer.next())[0]).toBe(M.WELCOME);
  });

  it('a wrong password: ABORT wamp.error.authentication_failed, the transport closed, no session', async () => {
    const router = makeRouter(SCRAM);
    const peer = new InMemoryWampPeer(router);
    const { nonce, challenge } = await challenged(peer);
    peer.send([M.AUTHENTICATE, scramAnswer('carol', 'pencil!', nonce, challenge).proof, { nonce: challenge.nonce }]);
    expect(await peer.next()).toEqual([M.ABORT, { message: 'wamp-scram proof does not match' }, ErrorUri.authenticationFailed]);
    expect(await peer.closed()).toEqual({ protocolError: false });
    expect(router.sessionCount).toBe(0);
  });

  it('a recorded HELLO and AUTHENTICATE replayed on another connection are refused: the server nonce is new', async () => {
    const router = makeRouter(SCRAM);
    const first = new InMemoryWampPeer(router);
    const { nonce, challenge } = await challenged(first);
    const recorded = [M.AUTHENTICATE, scramAnswer('carol', PASSWORD, nonce, challenge).proof, { nonce: challenge.nonce }];
    first.send(recorded);
    expect((await first.next())[0]).toBe(M.WELCOME);

    // The eavesdropper replays the same client nonce, then the recorded AUTHENTICATE: the nonce it echoes is stale.
    const replay = new InMemoryWampPeer(router);
    const [, , extra] = await helloWith(replay, { nonce });
    expect((extra as ScramChallenge).nonce).not.toBe(challenge.nonce);
    replay.send(recorded);
    expect(await replay.next()).toEqual([M.ABORT, { message: 'wamp-scram nonce does not match the challenge' }, ErrorUri.authenticationFailed]);

    // Without the stale nonce, the proof itself was made for the old AuthMessage.
    const bare = new InMemoryWampPeer(router);
    await helloWith(bare, { nonce });
    bare.send([M.AUTHENTICATE, recorded[1], {}]);
    expect((await bare.next())[2]).toBe(ErrorUri.authenticationFailed);
    expect(router.sessionCount).toBe(1);
  });

  it('a malformed proof (not base64, not 32 bytes) or channel binding data nobody negotiated: authentication_failed', async () => {
    const router = makeRouter(SCRAM);
    const cases: Array<(proof: string, nonce: string) => WireMessage> = [
      (_proof, nonce) => [M.AUTHENTICATE, 'not base64 at all!', { nonce }],
      (proof, nonce) => [M.AUTHENTICATE, proof.slice(0, 20), { nonce }],
      (proof, nonce) => [M.AUTHENTICATE, Buffer.concat([Buffer.from(proof, 'base64'), Buffer.alloc(1)]).toString('base64'), { nonce }],
      (proof, nonce) => [M.AUTHENTICATE, proof, { nonce, channel_binding: 'tls-unique', cbind_data: 'AAAA' }],
    ];
    for (const make of cases) {
      const peer = new InMemoryWampPeer(router);
      const { nonce, challenge } = await challenged(peer);
      peer.send(make(scramAnswer('carol', PASSWORD, nonce, challenge).proof, challenge.nonce));
      const reply = await peer.next();
      expect([reply[0], reply[2]], JSON.stringify(reply)).toEqual([M.ABORT, ErrorUri.authenticationFailed]);
    }
    expect(router.sessionCount).toBe(0);
  });

  it('an AUTHENTICATE whose signature is not a string is a protocol violation', async () => {
    const peer = new InMemoryWampPeer(makeRouter(SCRAM));
    await challenged(peer);
    peer.send([M.AUTHENTICATE, 42, {}]);
    const [code, , reason] = await peer.next();
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.protocolViolation]);
    expect(await peer.closed()).toEqual({ protocolError: true });
  });

  it('HELLO without an authid or a base64 nonce, or asking for channel binding, is refused before any CHALLENGE', async () => {
    const router = makeRouter(SCRAM);
    const refusals: Array<[Record<string, unknown>, string | null, string]> = [
      [{ nonce: clientNonce() }, null, 'wamp-scram needs an authid in HELLO'],
      [{}, 'carol', 'wamp-scram needs authextra.nonce: random bytes in base64'],
      [{ nonce: 'not base64!' }, 'carol', 'wamp-scram needs authextra.nonce: random bytes in base64'],
      [{ nonce: clientNonce(), channel_binding: 'tls-unique' }, 'carol', 'wamp-scram channel binding ("tls-unique") is not supported'],
    ];
    for (const [authextra, authid, message] of refusals) {
      const peer = new InMemoryWampPeer(router);
      expect(await helloWith(peer, authextra, authid)).toEqual([M.ABORT, { message }, ErrorUri.authenticationDenied]);
    }
  });

  it('an unknown authid, or a user without scram keys, is refused at HELLO with authentication_denied', async () => {
    const router = makeRouter(SCRAM);
    for (const authid of ['mallory', 'alice']) {
      const peer = new InMemoryWampPeer(router);
      const [code, , reason] = await helloWith(peer, { nonce: clientNonce() }, authid);
      expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationDenied]);
    }
  });

  it('a hook\'s malformed scram keys are a misconfiguration: authentication_failed, and the hook saw no secret', async () => {
    const hook = vi.fn((_request: AuthRequest): IdentityWithScram => ({ authrole: 'user', scram: { ...CAROL.scram, storedKey: 'c2hvcnQ=' } }));
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: hook, methods: ['wamp-scram'] }));
    const [code, details, reason] = await helloWith(peer, { nonce: clientNonce() });
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationFailed]);
    expect((details as { message: string }).message).toContain('scram.storedKey must be 32 bytes in base64');
    expect(hook.mock.calls[0]![0]).toMatchObject({ authmethod: 'wamp-scram', authid: 'carol' });
    expect(hook.mock.calls[0]![0]).not.toHaveProperty('secret');
  });
});

describe('static users with scram keys', () => {
  it('checkStaticUsers accepts scram users and names what is wrong with a bad one', () => {
    expect(checkStaticUsers([CAROL])).toEqual([CAROL]);
    const bad = (scram: unknown, extra: Record<string, unknown> = {}) => () => checkStaticUsers([{ authid: 'dan', role: 'user', scram, ...extra }]);
    expect(bad({ ...CAROL.scram, kdf: 'argon2id13' })).toThrow('users[0] (dan): scram.kdf must be pbkdf2 (argon2id13 is not supported)');
    expect(bad({ ...CAROL.scram, iterations: 0 })).toThrow('scram.iterations must be a positive integer');
    expect(bad({ ...CAROL.scram, serverKey: 'AAAA' })).toThrow('scram.serverKey must be 32 bytes in base64');
    expect(bad({ ...CAROL.scram, memory: 512 })).toThrow('scram has an unknown field "memory"');
    expect(bad(CAROL.scram, { salt: 'x' })).toThrow('a scram user keeps them in scram');
    expect(bad(CAROL.scram, { ticket: 't' })).toThrow('exactly one');
  });
});
