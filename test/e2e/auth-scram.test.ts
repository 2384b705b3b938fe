import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Errors } from 'wampy';
import { ErrorUri, type ScramCredential, type StaticUser } from '@fox-wamp/core';
import { PythonScript, SYSTEM_PYTHON, pythonAutobahnProblem } from '../support/python-process.js';
import { WampCode } from '../support/raw-wamp-client.js';
import { AUTHENTICATE, clientNonce, scramAnswerFor, ScramLogin, type ScramChallenge } from '../support/scram-client.js';
import { REPO_ROOT, runServerToExit, startServer, type RunningServer } from '../support/server-process.js';
import { WampyClients } from '../support/wampy-client.js';

// WAMP-SCRAM end to end, with both of the spec's KDFs: the built server started with a config file whose
// users were made by the documented `scram-user` script (carol: pbkdf2, dora: argon2id13), and clients that
// compute the proof the spec's way: a hand-driven raw WebSocket client (for the replayed and malformed
// AUTHENTICATEs no library sends), wampy (its manual onChallenge) and autobahn-python (its session, the proof
// from hashlib and python3-argon2, the reference Argon2 C library). npm autobahn has no WAMP-SCRAM.

const SCRAM_USER_SCRIPT = `${REPO_ROOT}dist/src/config/scram-user.js`;
const PASSWORD = 'correct horse battery staple';
const WRONG_PASSWORD = 'correct horse battery stable';
const ITERATIONS = 4096;
/** A small Argon2id cost: these tests are about the exchange, not the cost. */
const ARGON2_COST = { iterations: 2, memory: 1024 };

/** Runs the scram-user script with `password` on stdin; resolves with its exit code and output. */
async function scramUser(args: readonly string[], password: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SCRAM_USER_SCRIPT, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.end(password);
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

/** A user printed by the scram-user script; fails the setup with the script's stderr otherwise. */
async function madeUser(args: readonly string[]): Promise<StaticUser & { scram: ScramCredential }> {
  const made = await scramUser(args, `${PASSWORD}\n`);
  if (made.code !== 0) throw new Error(`scram-user ${args.join(' ')} failed (${made.code}): ${made.stderr}`);
  return JSON.parse(made.stdout) as StaticUser & { scram: ScramCredential };
}

/** Why the argon2id13 checks against python3-argon2 cannot run here, or undefined when they can. */
function pythonArgon2Problem(): string | undefined {
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import argon2.low_level'], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  return `${SYSTEM_PYTHON} lacks argon2 (Debian: python3-argon2; scripts/ensure-test-packages.sh installs it): ${probe.stderr || probe.error?.message}`;
}

let dir: string;
let server: RunningServer;
let carol: StaticUser & { scram: ScramCredential };
let dora: StaticUser & { scram: ScramCredential };
const logins: ScramLogin[] = [];

/** A hand-driven login, closed after the test. */
async function hello(authid: string, authextra?: Record<string, unknown>): Promise<ScramLogin> {
  const login = await ScramLogin.hello(server.wampUrl, authid, authextra);
  logins.push(login);
  return login;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fox-wamp-scram-'));
  carol = await madeUser(['carol', 'auditor', '--iterations', String(ITERATIONS)]);
  dora = await madeUser(['dora', 'auditor', '--kdf', 'argon2id13', '--iterations', String(ARGON2_COST.iterations), '--memory', String(ARGON2_COST.memory)]);
  const config = join(dir, 'scram.json');
  writeFileSync(config, JSON.stringify({ users: [carol, dora, { authid: 'alice', ticket: 'alice-ticket', role: 'user' }] }));
  server = await startServer(['--config', config]);
});

afterEach(() => {
  for (const login of logins.splice(0)) login.close();
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The two users by KDF, with what their CHALLENGE must say about the cost. */
const KDF_USERS = [
  { kdf: 'pbkdf2', user: () => carol, cost: { iterations: ITERATIONS, memory: null } },
  { kdf: 'argon2id13', user: () => dora, cost: ARGON2_COST },
] as const;

describe('the scram-user script', () => {
  it('prints a pbkdf2 user by default: the salt, the cost and the two keys, never the password', () => {
    expect(carol).toMatchObject({ authid: 'carol', role: 'auditor', scram: { kdf: 'pbkdf2', iterations: ITERATIONS } });
    expect(Object.keys(carol.scram).sort()).toEqual(['iterations', 'kdf', 'salt', 'serverKey', 'storedKey']);
    expect(Buffer.from(carol.scram.salt, 'base64')).toHaveLength(16);
    expect(JSON.stringify(carol)).not.toContain('horse');
  });

  it('with --kdf argon2id13 prints the Argon2id costs and keys that python3-argon2 derives the same way from the password', async () => {
    expect(dora).toMatchObject({ authid: 'dora', role: 'auditor', scram: { kdf: 'argon2id13', ...ARGON2_COST } });
    expect(Object.keys(dora.scram).sort()).toEqual(['iterations', 'kdf', 'memory', 'salt', 'serverKey', 'storedKey']);
    expect(Buffer.from(dora.scram.salt, 'base64')).toHaveLength(16);
    expect(JSON.stringify(dora)).not.toContain('horse');

    // A known-answer check against an independent Argon2id (the reference C library), on the salt the script chose.
    const problem = pythonArgon2Problem();
    if (problem !== undefined) throw new Error(problem);
    const script = new PythonScript('py_scram_credential.py', [PASSWORD, dora.scram.salt, String(ARGON2_COST.iterations), String(ARGON2_COST.memory)]);
    try {
      const { credential } = await script.waitForLine('credential');
      expect(credential).toEqual(dora.scram);
      expect(await script.exit()).toBe(0);
    } finally {
      await script.stop();
    }
  });

  it('--kdf argon2id13 without costs uses autobahn-python\'s and Crossbar.io\'s: 4096 passes over 512 KiB', async () => {
    const { code, stdout, stderr } = await scramUser(['erin', 'user', '--kdf', 'argon2id13'], 'pencil\n');
    expect([code, stderr]).toEqual([0, '']);
    expect((JSON.parse(stdout) as StaticUser).scram).toMatchObject({ kdf: 'argon2id13', iterations: 4096, memory: 512 });
  }, 20_000);

  it('refuses --memory without argon2id13, an Argon2id memory below 8 KiB and an unknown KDF, each in one line', async () => {
    const cases: Array<[string[], number, string]> = [
      [['--memory', '512'], 1, 'error: --memory goes only with --kdf argon2id13\n'],
      [['--kdf', 'argon2id13', '--memory', '4'], 2, 'scram-user: memory must be a whole number of KiB from 8 to 4294967295 for argon2id13\n'],
      [['--kdf', 'scrypt'], 1, "error: option '--kdf <kdf>' argument 'scrypt' is invalid. Allowed choices are pbkdf2, argon2id13.\n"],
    ];
    for (const [args, exitCode, message] of cases) {
      const { code, stdout, stderr } = await scramUser(['dan', 'user', ...args], 'pencil\n');
      expect({ args, code, stdout, stderr }).toEqual({ args, code: exitCode, stdout: '', stderr: message });
    }
  });

  it('refuses to run without a password on stdin (exit 2)', async () => {
    const { code, stdout, stderr } = await scramUser(['dan', 'user'], '');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('scram-user: no password on stdin\n');
  });
});

describe.each(KDF_USERS)('WAMP-SCRAM ($kdf) with a hand-driven client over a raw WebSocket', ({ kdf, user, cost }) => {
  it('the correct password is challenged the spec\'s way and welcomed with a verifier the client can check', async () => {
    const { authid, scram } = user();
    const login = await hello(authid);
    const challenge: ScramChallenge = login.challenge;
    expect(challenge).toEqual({ nonce: challenge.nonce, salt: scram.salt, kdf, ...cost });
    expect(challenge.nonce.startsWith(login.nonce)).toBe(true);
    const { authenticate, verifier } = await login.answer(PASSWORD);
    const [code, sessionId, details] = await login.send(authenticate);
    expect(code).toBe(WampCode.WELCOME);
    expect(typeof sessionId).toBe('number');
    expect(details).toMatchObject({ authid, authrole: 'auditor', authmethod: 'wamp-scram', authprovider: 'static', authextra: { verifier } });
  });

  it('a wrong password: ABORT wamp.error.authentication_failed and the connection closes', async () => {
    const login = await hello(user().authid);
    const [code, details, reason] = await login.send((await login.answer(WRONG_PASSWORD)).authenticate);
    expect([code, reason]).toEqual([WampCode.ABORT, ErrorUri.authenticationFailed]);
    expect(details).toEqual({ message: 'wamp-scram proof does not match' });
    expect((await login.client.closedWithin()).code).toBe(1000);
  });

  it('a recorded exchange replayed on a new connection (same client nonce, same AUTHENTICATE) is refused', async () => {
    const { authid } = user();
    const original = await hello(authid);
    const { authenticate } = await original.answer(PASSWORD);
    expect((await original.send(authenticate))[0]).toBe(WampCode.WELCOME);

    const replay = await hello(authid, { nonce: original.nonce, channel_binding: null });
    expect(replay.challenge.nonce).not.toBe(original.challenge.nonce);
    const [code, details, reason] = await replay.send(authenticate);
    expect([code, details, reason]).toEqual([WampCode.ABORT, { message: 'wamp-scram nonce does not match the challenge' }, ErrorUri.authenticationFailed]);

    // Echoing the new nonce does not help: the recorded proof covers the old one.
    const echoing = await hello(authid, { nonce: original.nonce });
    const [codeToo, detailsToo, reasonToo] = await echoing.send([AUTHENTICATE, authenticate[1], { nonce: echoing.challenge.nonce }]);
    expect([codeToo, detailsToo, reasonToo]).toEqual([WampCode.ABORT, { message: 'wamp-scram proof does not match' }, ErrorUri.authenticationFailed]);
  });

  it('a malformed AUTHENTICATE: a proof that is not base64 or not 32 bytes fails authentication, a non-string one is a protocol violation', async () => {
    const { authid } = user();
    const notBase64 = await hello(authid);
    const [code, , reason] = await notBase64.send([AUTHENTICATE, '%%% not a proof %%%', { nonce: notBase64.challenge.nonce }]);
    expect([code, reason]).toEqual([WampCode.ABORT, ErrorUri.authenticationFailed]);

    const truncated = await hello(authid);
    const { authenticate } = await truncated.answer(PASSWORD);
    const short = Buffer.from(authenticate[1] as string, 'base64').subarray(0, 31).toString('base64');
    const [codeShort, , reasonShort] = await truncated.send([AUTHENTICATE, short, { nonce: truncated.challenge.nonce }]);
    expect([codeShort, reasonShort]).toEqual([WampCode.ABORT, ErrorUri.authenticationFailed]);

    const notString = await hello(authid);
    const [codeToo, , reasonToo] = await notString.send([AUTHENTICATE, { proof: true }, {}]);
    expect([codeToo, reasonToo]).toEqual([WampCode.ABORT, ErrorUri.protocolViolation]);
    expect((await notString.client.closedWithin()).code).toBe(1002);
  });
});

describe('WAMP-SCRAM HELLO checks', () => {
  it('HELLO is refused with authentication_denied for an unknown authid, without a nonce, or asking for channel binding', async () => {
    for (const [authid, authextra] of [
      ['mallory', { nonce: clientNonce() }],
      ['carol', {}],
      ['dora', { nonce: clientNonce(), channel_binding: 'tls-server-end-point' }],
    ] as const) {
      const login = await hello(authid, authextra);
      expect([login.reply[0], login.reply[2]], JSON.stringify(login.reply)).toEqual([WampCode.ABORT, ErrorUri.authenticationDenied]);
    }
  });
});

describe('WAMP-SCRAM with wampy', () => {
  it.each(KDF_USERS)('$kdf: wampy\'s manual onChallenge answers with the proof and is welcomed; a wrong password rejects connect()', async ({ kdf, user }) => {
    const { authid } = user();
    const wampy = new WampyClients(server.wampUrl, 'json');
    try {
      const nonce = clientNonce();
      let expectedVerifier = '';
      const { welcome } = await wampy.connect({
        authid,
        authmethods: ['wamp-scram'],
        authextra: { nonce },
        // wampy awaits what onChallenge returns: Argon2id runs asynchronously.
        onChallenge: async (method: string, extra: Record<string, unknown>) => {
          expect([method, extra.kdf]).toEqual(['wamp-scram', kdf]);
          const answer = await scramAnswerFor(authid, PASSWORD, nonce, extra as unknown as ScramChallenge);
          expectedVerifier = answer.verifier;
          return answer.proof;
        },
      });
      expect(welcome).toMatchObject({ authid, authrole: 'auditor' });
      expect((welcome as unknown as { authextra: { verifier: string } }).authextra.verifier).toBe(expectedVerifier);

      const failure: unknown = await wampy
        .connect({
          authid,
          authmethods: ['wamp-scram'],
          authextra: { nonce },
          onChallenge: async (_method: string, extra: Record<string, unknown>) =>
            (await scramAnswerFor(authid, 'guess', nonce, extra as unknown as ScramChallenge)).proof,
        })
        .then(
          () => expect.fail('wampy was welcomed with a wrong password'),
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(Errors.AbortError);
      expect((failure as InstanceType<typeof Errors.AbortError>).errorUri).toBe(ErrorUri.authenticationFailed);
    } finally {
      await wampy.closeAll();
    }
  });
});

describe('WAMP-SCRAM with autobahn-python', () => {
  beforeAll(() => {
    const problem = pythonAutobahnProblem() ?? pythonArgon2Problem();
    if (problem !== undefined) throw new Error(`cannot run the autobahn-python tests: ${problem}`);
  });

  it.each([
    { kdf: 'pbkdf2', user: () => carol, serializer: 'cbor' },
    { kdf: 'argon2id13', user: () => dora, serializer: 'json' },
  ] as const)('$kdf: an autobahn-python session with the proof computed in Python is welcomed with the verifier it expects ($serializer)', async ({ kdf, user, serializer }) => {
    const { authid, scram } = user();
    const script = new PythonScript('py_scram_client.py', [server.wampUrl, 'realm1', serializer, authid, PASSWORD]);
    try {
      const { challenge } = (await script.waitForLine('challenge')) as { challenge: { method: string; extra: Record<string, unknown> } };
      expect(challenge).toMatchObject({ method: 'wamp-scram', extra: { kdf, iterations: scram.iterations, salt: scram.salt } });
      const { expected } = (await script.waitForLine('expected')) as { expected: { verifier: string } };
      const { welcome } = (await script.waitForLine('welcome')) as { welcome: Record<string, unknown> };
      expect(welcome).toMatchObject({ authid, authrole: 'auditor', authmethod: 'wamp-scram', authextra: { verifier: expected.verifier } });
      expect(await script.exit()).toBe(0);
    } finally {
      await script.stop();
    }
  });

  it.each([
    { kdf: 'pbkdf2', user: () => carol, serializer: 'msgpack' },
    { kdf: 'argon2id13', user: () => dora, serializer: 'cbor' },
  ] as const)('$kdf: a wrong password is refused with wamp.error.authentication_failed ($serializer)', async ({ user, serializer }) => {
    const script = new PythonScript('py_scram_client.py', [server.wampUrl, 'realm1', serializer, user().authid, 'not the password']);
    try {
      const { aborted } = (await script.waitForLine('aborted')) as { aborted: { reason: string } };
      expect(aborted.reason).toBe(ErrorUri.authenticationFailed);
      expect(await script.exit()).toBe(0);
    } finally {
      await script.stop();
    }
  });
});

describe('scram users in the config file are checked at startup', () => {
  it.each([
    ['an argon2id13 user without a memory cost', () => ({ kdf: 'argon2id13', salt: dora.scram.salt, iterations: 2, storedKey: dora.scram.storedKey, serverKey: dora.scram.serverKey }),
      'scram.memory must be a whole number of KiB from 8 to 4294967295 for argon2id13'],
    ['an argon2id13 user with a 4-byte salt', () => ({ ...dora.scram, salt: 'c2FsdA==' }), 'scram.salt must be at least 8 bytes for argon2id13'],
    ['a pbkdf2 user with a memory cost', () => ({ ...carol.scram, memory: 512 }), 'scram.memory goes only with kdf argon2id13'],
    ['autobahn-python\'s kdf name', () => ({ ...dora.scram, kdf: 'argon2id-13' }), 'scram.kdf must be pbkdf2 or argon2id13'],
  ])('%s stops the server with one line naming the user, and exit status 2', async (_case, scram, problem) => {
    const bad = join(dir, 'bad-scram.json');
    writeFileSync(bad, JSON.stringify({ users: [{ authid: 'erin', role: 'user', scram: scram() }] }));
    const { code, stderr } = await runServerToExit(['--port', '0', '--config', bad]);
    expect(code).toBe(2);
    expect(stderr).toBe(`fox-wamp: setting users: users[0] (erin): ${problem}\n`);
  });
});
