import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AUTH_METHODS,
  ErrorUri,
  MessageCode,
  Router,
  RouterAuth,
  SCRAM_ARGON2_DEFAULT_ITERATIONS,
  SCRAM_ARGON2_DEFAULT_MEMORY,
  checkStaticUsers,
  deriveScramCredential,
  normalizePassword,
  scramCredential,
  staticUsersAuth,
  type AuthOptions,
  type AuthRequest,
  type IdentityWithScram,
  type StaticUser,
} from '@fox-wamp/core';
import { InMemoryWampPeer, type WireMessage } from '../support/in-memory-wamp-peer.js';
import { clientNonce, scramAnswer, scramAnswerFor, type ScramChallenge } from '../support/scram-client.js';

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
/** Low costs: these tests are about the exchange, not the cost. */
const CAROL = { authid: 'carol', role: 'auditor', scram: scramCredential(PASSWORD, { iterations: 64 }) } satisfies StaticUser;
const DORA = {
  authid: 'dora',
  role: 'auditor',
  scram: await deriveScramCredential(PASSWORD, { kdf: 'argon2id13', iterations: 2, memory: 64 }),
} satisfies StaticUser;
const SCRAM = staticUsersAuth([CAROL, DORA, { authid: 'alice', role: 'user', ticket: 'alice-ticket' }]);

/** The exchange is the same for both KDFs; only the CHALLENGE's cost fields and the client's KDF differ. */
const USERS_BY_KDF = [
  { kdf: 'pbkdf2', user: CAROL, memory: null },
  { kdf: 'argon2id13', user: DORA, memory: 64 },
] as const;

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

  it('passwords are normalized as SASLprep maps them: a no-break space is a space, a soft hyphen nothing, then NFKC', async () => {
    expect(normalizePassword('pass\u00A0word')).toBe('pass word');
    expect(normalizePassword('pass\u00ADword')).toBe('password');
    expect(normalizePassword('\uFB01x')).toBe('fix');
    const salt = scramCredential('x').salt;
    expect(scramCredential('pass\u00A0word', { salt, iterations: 8 })).toEqual(scramCredential('pass word', { salt, iterations: 8 }));
    const argon2 = { kdf: 'argon2id13', salt, iterations: 1, memory: 8 } as const;
    expect(await deriveScramCredential('pass\u00ADword', argon2)).toEqual(await deriveScramCredential('password', argon2));
  });
});

/** StoredKey and ServerKey (base64) from a SaltedPassword, computed here with node:crypto from RFC 5802. */
function keysOf(saltedPassword: Buffer): { storedKey: string; serverKey: string } {
  const hmac = (text: string) => createHmac('sha256', saltedPassword).update(text).digest();
  return {
    storedKey: createHash('sha256').update(hmac('Client Key')).digest('base64'),
    serverKey: hmac('Server Key').toString('base64'),
  };
}

describe('argon2id13 credentials (deriveScramCredential)', () => {
  it('matches the Argon2 reference implementation\'s Argon2id v1.3 test vector (phc-winner-argon2 src/test.c, t=2, m=256 KiB, p=1)', async () => {
    // hashtest(..., 2, 8, 1, "password", "somesalt", "9dfeb910…", ..., Argon2_id): the raw 32-byte tag. The
    // salt "somesalt" is Argon2's minimum of 8 bytes. (RFC 9106's own vector needs a secret and associated
    // data, which WAMP-SCRAM does not use.)
    const tag = Buffer.from('9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe', 'hex');
    const salt = Buffer.from('somesalt').toString('base64');
    const credential = await deriveScramCredential('password', { kdf: 'argon2id13', salt, iterations: 2, memory: 256 });
    expect(credential).toEqual({ kdf: 'argon2id13', salt, iterations: 2, memory: 256, ...keysOf(tag) });
  });

  it('matches python3-argon2 (argon2-cffi) + hashlib, as test/python/py_scram_credential.py derives the keys', async () => {
    // `py_scram_credential.py pencil W22ZaJ0SNY7soEsUEjb6gQ== 3 64` and `... 'correct horse battery staple' ... 1 1024`.
    const salt = 'W22ZaJ0SNY7soEsUEjb6gQ==';
    expect(await deriveScramCredential('pencil', { kdf: 'argon2id13', salt, iterations: 3, memory: 64 })).toEqual({
      kdf: 'argon2id13',
      salt,
      iterations: 3,
      memory: 64,
      storedKey: '0H86S/+MtPrEp5yCrDRJTDEKO/xHXjdFWfrujJQVwqc=',
      serverKey: 'BKEqOCNL46YEmcs6vaEhEEg82UXDkV0FN9PBAPHnHo8=',
    });
    expect(await deriveScramCredential('correct horse battery staple', { kdf: 'argon2id13', salt, iterations: 1, memory: 1024 })).toMatchObject({
      storedKey: 'cNuswATq8KmpYWi9vMf6s1A/M1vC+2ny7N70yjazWxI=',
      serverKey: 'xVOs9GeISiYSJ/qCDlwUH/rpFj8V+RXQIDnsdvR6W24=',
    });
  });

  it('stores kdf, salt, both costs and 32-byte keys, never the password; a fresh 16-byte salt each time', async () => {
    const credential = await deriveScramCredential(PASSWORD, { kdf: 'argon2id13', iterations: 1, memory: 8 });
    expect(Object.keys(credential).sort()).toEqual(['iterations', 'kdf', 'memory', 'salt', 'serverKey', 'storedKey']);
    expect(Buffer.from(credential.salt, 'base64')).toHaveLength(16);
    expect(JSON.stringify(credential)).not.toContain(PASSWORD);
    expect((await deriveScramCredential(PASSWORD, { kdf: 'argon2id13', iterations: 1, memory: 8 })).salt).not.toBe(credential.salt);
    // The costs count: another memory or iterations gives other keys for the same salt.
    const same = { kdf: 'argon2id13', salt: credential.salt } as const;
    expect((await deriveScramCredential(PASSWORD, { ...same, iterations: 1, memory: 16 })).storedKey).not.toBe(credential.storedKey);
    expect((await deriveScramCredential(PASSWORD, { ...same, iterations: 2, memory: 8 })).storedKey).not.toBe(credential.storedKey);
    // With kdf pbkdf2 it is scramCredential.
    expect(await deriveScramCredential(PASSWORD, { kdf: 'pbkdf2', salt: credential.salt, iterations: 8 })).toEqual(
      scramCredential(PASSWORD, { salt: credential.salt, iterations: 8 }),
    );
  });

  it('the default cost is autobahn-python\'s and Crossbar.io\'s: 4096 passes over 512 KiB', () => {
    expect([SCRAM_ARGON2_DEFAULT_ITERATIONS, SCRAM_ARGON2_DEFAULT_MEMORY]).toEqual([4096, 512]);
  });

  it('rejects options outside Argon2\'s range, a short salt, memory for pbkdf2 or an unknown KDF, naming the option', async () => {
    const derive = (options: Record<string, unknown>) => deriveScramCredential(PASSWORD, { kdf: 'argon2id13', iterations: 1, memory: 8, ...options } as never);
    await expect(derive({ memory: 7 })).rejects.toThrow('memory must be a whole number of KiB from 8 to 4294967295 for argon2id13');
    await expect(derive({ memory: 8.5 })).rejects.toThrow('memory must be a whole number of KiB');
    await expect(derive({ iterations: 0 })).rejects.toThrow('iterations must be a whole number from 1 to 4294967295 for argon2id13');
    await expect(derive({ salt: Buffer.from('short').toString('base64') })).rejects.toThrow('salt must be at least 8 bytes for argon2id13');
    await expect(derive({ salt: 'not base64!' })).rejects.toThrow('salt must be canonical base64');
    await expect(derive({ kdf: 'pbkdf2', memory: 512 })).rejects.toThrow('memory goes only with the argon2id13 KDF');
    await expect(derive({ kdf: 'argon2id-13' })).rejects.toThrow('the KDF must be pbkdf2 or argon2id13');
  });
});

describe('wamp-scram authentication', () => {
  it('is a known method that needs an authenticate hook, offered by static users with scram keys', () => {
    expect(AUTH_METHODS).toContain('wamp-scram');
    expect(() => new RouterAuth({ methods: ['wamp-scram'] })).toThrow(/wamp-scram, which needs an authenticate hook/);
    expect(SCRAM.methods).toEqual(['wamp-scram', 'ticket']);
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

  it('a hook\'s argon2id13 keys without a memory cost are a misconfiguration too', async () => {
    const { memory: _memory, ...withoutMemory } = DORA.scram as typeof DORA.scram & { memory: number };
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: () => ({ authrole: 'user', scram: withoutMemory }) as IdentityWithScram, methods: ['wamp-scram'] }));
    const [code, details, reason] = await helloWith(peer, { nonce: clientNonce() }, 'dora');
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationFailed]);
    expect((details as { message: string }).message).toContain('scram.memory must be a whole number of KiB from 8 to 4294967295 for argon2id13');
  });
});

describe.each(USERS_BY_KDF)('wamp-scram with kdf $kdf', ({ kdf, user, memory }) => {
  const { authid } = user;

  it(`sends the spec's CHALLENGE: the client nonce plus 16 fresh bytes, the user's salt, ${kdf}, iterations, memory ${memory}`, async () => {
    const peer = new InMemoryWampPeer(makeRouter(SCRAM));
    const { nonce, challenge } = await challenged(peer, authid);
    expect(Object.keys(challenge).sort()).toEqual(['iterations', 'kdf', 'memory', 'nonce', 'salt']);
    expect(challenge).toEqual({ nonce: challenge.nonce, salt: user.scram.salt, kdf, iterations: user.scram.iterations, memory });
    expect(challenge.nonce.startsWith(nonce)).toBe(true);
    expect(Buffer.from(challenge.nonce.slice(nonce.length), 'base64')).toHaveLength(16);
  });

  it('a correct proof is welcomed as wamp-scram, with the ServerSignature as authextra.verifier', async () => {
    const router = makeRouter(SCRAM);
    const peer = new InMemoryWampPeer(router);
    const { nonce, challenge } = await challenged(peer, authid);
    const { proof, verifier } = await scramAnswerFor(authid, PASSWORD, nonce, challenge);
    peer.send([M.AUTHENTICATE, proof, { nonce: challenge.nonce, channel_binding: null, cbind_data: null }]);
    const [code, , details] = await peer.next();
    expect(code).toBe(M.WELCOME);
    expect(details).toMatchObject({ authid, authrole: 'auditor', authmethod: 'wamp-scram', authprovider: 'static', authextra: { verifier } });
    // The stored keys stay on the router.
    expect(JSON.stringify(details)).not.toContain(user.scram.storedKey);
    expect(router.sessionCount).toBe(1);
  });

  it('an AUTHENTICATE without Extra.nonce (as autobahn-python sends it) is checked against the challenge\'s nonce', async () => {
    const peer = new InMemoryWampPeer(makeRouter(SCRAM));
    const { nonce, challenge } = await challenged(peer, authid);
    peer.send([M.AUTHENTICATE, (await scramAnswerFor(authid, PASSWORD, nonce, challenge)).proof, {}]);
    expect((await peer.next())[0]).toBe(M.WELCOME);
  });

  it('a wrong password: ABORT wamp.error.authentication_failed, the transport closed, no session', async () => {
    const router = makeRouter(SCRAM);
    const peer = new InMemoryWampPeer(router);
    const { nonce, challenge } = await challenged(peer, authid);
    peer.send([M.AUTHENTICATE, (await scramAnswerFor(authid, 'pencil!', nonce, challenge)).proof, { nonce: challenge.nonce }]);
    expect(await peer.next()).toEqual([M.ABORT, { message: 'wamp-scram proof does not match' }, ErrorUri.authenticationFailed]);
    expect(await peer.closed()).toEqual({ protocolError: false });
    expect(router.sessionCount).toBe(0);
  });

  it('a proof derived with the right password but the other KDF is refused', async () => {
    const peer = new InMemoryWampPeer(makeRouter(SCRAM));
    const { nonce, challenge } = await challenged(peer, authid);
    const otherKdf = kdf === 'pbkdf2' ? { kdf: 'argon2id13', memory: 8 } : { kdf: 'pbkdf2', memory: null };
    peer.send([M.AUTHENTICATE, (await scramAnswerFor(authid, PASSWORD, nonce, { ...challenge, ...otherKdf })).proof, { nonce: challenge.nonce }]);
    const [code, details, reason] = await peer.next();
    expect([code, details, reason]).toEqual([M.ABORT, { message: 'wamp-scram proof does not match' }, ErrorUri.authenticationFailed]);
  });

  it('a recorded HELLO and AUTHENTICATE replayed on another connection are refused: the server nonce is new', async () => {
    const router = makeRouter(SCRAM);
    const first = new InMemoryWampPeer(router);
    const { nonce, challenge } = await challenged(first, authid);
    const recorded = [M.AUTHENTICATE, (await scramAnswerFor(authid, PASSWORD, nonce, challenge)).proof, { nonce: challenge.nonce }];
    first.send(recorded);
    expect((await first.next())[0]).toBe(M.WELCOME);

    // The eavesdropper replays the same client nonce, then the recorded AUTHENTICATE: the nonce it echoes is stale.
    const replay = new InMemoryWampPeer(router);
    const [, , extra] = await helloWith(replay, { nonce }, authid);
    expect((extra as ScramChallenge).nonce).not.toBe(challenge.nonce);
    replay.send(recorded);
    expect(await replay.next()).toEqual([M.ABORT, { message: 'wamp-scram nonce does not match the challenge' }, ErrorUri.authenticationFailed]);

    // Without the stale nonce, the proof itself was made for the old AuthMessage.
    const bare = new InMemoryWampPeer(router);
    await helloWith(bare, { nonce }, authid);
    bare.send([M.AUTHENTICATE, recorded[1], {}]);
    expect(await bare.next()).toEqual([M.ABORT, { message: 'wamp-scram proof does not match' }, ErrorUri.authenticationFailed]);
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
      const { nonce, challenge } = await challenged(peer, authid);
      peer.send(make((await scramAnswerFor(authid, PASSWORD, nonce, challenge)).proof, challenge.nonce));
      const reply = await peer.next();
      expect([reply[0], reply[2]], JSON.stringify(reply)).toEqual([M.ABORT, ErrorUri.authenticationFailed]);
    }
    expect(router.sessionCount).toBe(0);
  });
});

describe('static users with scram keys', () => {
  it('checkStaticUsers accepts pbkdf2 and argon2id13 users and names what is wrong with a bad one', () => {
    expect(checkStaticUsers([CAROL, DORA])).toEqual([CAROL, DORA]);
    // The spec's CHALLENGE for pbkdf2 says `memory: null`; a stored null is accepted.
    expect(() => checkStaticUsers([{ ...CAROL, scram: { ...CAROL.scram, memory: null } as never }])).not.toThrow();
    const bad = (scram: unknown, extra: Record<string, unknown> = {}) => () => checkStaticUsers([{ authid: 'dan', role: 'user', scram, ...extra }]);
    expect(bad({ ...DORA.scram, kdf: 'argon2id-13' })).toThrow('users[0] (dan): scram.kdf must be pbkdf2 or argon2id13');
    expect(bad({ ...CAROL.scram, iterations: 0 })).toThrow('users[0] (dan): scram.iterations must be a positive integer');
    expect(bad({ ...CAROL.scram, serverKey: 'AAAA' })).toThrow('users[0] (dan): scram.serverKey must be 32 bytes in base64');
    expect(bad({ ...CAROL.scram, memory: 512 })).toThrow('users[0] (dan): scram.memory goes only with kdf argon2id13');
    expect(bad({ ...DORA.scram, memory: undefined })).toThrow('users[0] (dan): scram.memory must be a whole number of KiB from 8 to 4294967295 for argon2id13');
    expect(bad({ ...DORA.scram, memory: 4 })).toThrow('scram.memory must be a whole number of KiB from 8 to 4294967295 for argon2id13');
    expect(bad({ ...DORA.scram, iterations: 2 ** 32 })).toThrow('scram.iterations must be a whole number from 1 to 4294967295 for argon2id13');
    expect(bad({ ...DORA.scram, salt: 'c2FsdA==' })).toThrow('scram.salt must be at least 8 bytes for argon2id13');
    expect(bad({ ...DORA.scram, parallelism: 1 })).toThrow('scram has an unknown field "parallelism"');
    expect(bad(CAROL.scram, { salt: 'x' })).toThrow('a scram user keeps them in scram');
    expect(bad(CAROL.scram, { ticket: 't' })).toThrow('exactly one');
  });
});
