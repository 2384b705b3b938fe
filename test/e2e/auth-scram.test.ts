import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Errors } from 'wampy';
import { ErrorUri, type StaticUser } from '@fox-wamp/core';
import { PythonScript, pythonAutobahnProblem } from '../support/python-process.js';
import { WampCode } from '../support/raw-wamp-client.js';
import { AUTHENTICATE, clientNonce, scramAnswer, ScramLogin, type ScramChallenge } from '../support/scram-client.js';
import { REPO_ROOT, runServerToExit, startServer, type RunningServer } from '../support/server-process.js';
import { WampyClients } from '../support/wampy-client.js';

// WAMP-SCRAM end to end: the built server started with a config file whose user was made by the documented
// `scram-user` script, and clients that compute the proof the spec's way: a hand-driven raw WebSocket client
// (for the replayed and malformed AUTHENTICATEs no library sends), wampy (its manual onChallenge) and
// autobahn-python (its session, the proof from hashlib). npm autobahn has no WAMP-SCRAM.

const SCRAM_USER_SCRIPT = `${REPO_ROOT}dist/src/config/scram-user.js`;
const PASSWORD = 'correct horse battery staple';
const ITERATIONS = 4096;

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

let dir: string;
let server: RunningServer;
let carol: StaticUser;
const logins: ScramLogin[] = [];

/** A hand-driven login, closed after the test. */
async function hello(authid: string, authextra?: Record<string, unknown>): Promise<ScramLogin> {
  const login = await ScramLogin.hello(server.wampUrl, authid, authextra);
  logins.push(login);
  return login;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fox-wamp-scram-'));
  const made = await scramUser(['carol', 'auditor', '--iterations', String(ITERATIONS)], `${PASSWORD}\n`);
  if (made.code !== 0) throw new Error(`scram-user failed (${made.code}): ${made.stderr}`);
  carol = JSON.parse(made.stdout) as StaticUser;
  const config = join(dir, 'scram.json');
  writeFileSync(config, JSON.stringify({ users: [carol, { authid: 'alice', ticket: 'alice-ticket', role: 'user' }] }));
  server = await startServer(['--config', config]);
});

afterEach(() => {
  for (const login of logins.splice(0)) login.close();
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the scram-user script', () => {
  it('prints a user with the salt, the cost and the two keys, never the password', () => {
    expect(carol).toMatchObject({ authid: 'carol', role: 'auditor', scram: { kdf: 'pbkdf2', iterations: ITERATIONS } });
    expect(Object.keys(carol.scram!).sort()).toEqual(['iterations', 'kdf', 'salt', 'serverKey', 'storedKey']);
    expect(Buffer.from(carol.scram!.salt, 'base64')).toHaveLength(16);
    expect(JSON.stringify(carol)).not.toContain('horse');
  });

  it('refuses to run without a password on stdin (exit 2)', async () => {
    const { code, stdout, stderr } = await scramUser(['dan', 'user'], '');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('scram-user: no password on stdin\n');
  });
});

describe('WAMP-SCRAM with a hand-driven client over a raw WebSocket', () => {
  it('the correct password is challenged the spec\'s way and welcomed with a verifier the client can check', async () => {
    const login = await hello('carol');
    const challenge: ScramChallenge = login.challenge;
    expect(challenge).toMatchObject({ salt: carol.scram!.salt, kdf: 'pbkdf2', iterations: ITERATIONS, memory: null });
    expect(challenge.nonce.startsWith(login.nonce)).toBe(true);
    const { authenticate, verifier } = login.answer(PASSWORD);
    const [code, sessionId, details] = await login.send(authenticate);
    expect(code).toBe(WampCode.WELCOME);
    expect(typeof sessionId).toBe('number');
    expect(details).toMatchObject({ authid: 'carol', authrole: 'auditor', authmethod: 'wamp-scram', authprovider: 'static', authextra: { verifier } });
  });

  it('a wrong password: ABORT wamp.error.authentication_failed and the connection closes', async () => {
    const login = await hello('carol');
    const [code, details, reason] = await login.send(login.answer('correct horse battery stable').authenticate);
    expect([code, reason]).toEqual([WampCode.ABORT, ErrorUri.authenticationFailed]);
    expect(details).toEqual({ message: 'wamp-scram proof does not match' });
    expect((await login.client.closedWithin()).code).toBe(1000);
  });

  it('a recorded exchange replayed on a new connection (same client nonce, same AUTHENTICATE) is refused', async () => {
    const original = await hello('carol');
    const { authenticate } = original.answer(PASSWORD);
    expect((await original.send(authenticate))[0]).toBe(WampCode.WELCOME);

    const replay = await hello('carol', { nonce: original.nonce, channel_binding: null });
    expect(replay.challenge.nonce).not.toBe(original.challenge.nonce);
    const [code, , reason] = await replay.send(authenticate);
    expect([code, reason]).toEqual([WampCode.ABORT, ErrorUri.authenticationFailed]);

    // Echoing the new nonce does not help: the recorded proof covers the old one.
    const echoing = await hello('carol', { nonce: original.nonce });
    const [codeToo, , reasonToo] = await echoing.send([AUTHENTICATE, authenticate[1], { nonce: echoing.challenge.nonce }]);
    expect([codeToo, reasonToo]).toEqual([WampCode.ABORT, ErrorUri.authenticationFailed]);
  });

  it('a malformed AUTHENTICATE: a proof that is not base64 fails authentication, a non-string one is a protocol violation', async () => {
    const notBase64 = await hello('carol');
    const [code, , reason] = await notBase64.send([AUTHENTICATE, '%%% not a proof %%%', { nonce: notBase64.challenge.nonce }]);
    expect([code, reason]).toEqual([WampCode.ABORT, ErrorUri.authenticationFailed]);

    const notString = await hello('carol');
    const [codeToo, , reasonToo] = await notString.send([AUTHENTICATE, { proof: true }, {}]);
    expect([codeToo, reasonToo]).toEqual([WampCode.ABORT, ErrorUri.protocolViolation]);
    expect((await notString.client.closedWithin()).code).toBe(1002);
  });

  it('HELLO is refused with authentication_denied for an unknown authid, without a nonce, or asking for channel binding', async () => {
    for (const [authid, authextra] of [
      ['mallory', { nonce: clientNonce() }],
      ['carol', {}],
      ['carol', { nonce: clientNonce(), channel_binding: 'tls-server-end-point' }],
    ] as const) {
      const login = await hello(authid, authextra);
      expect([login.reply[0], login.reply[2]], JSON.stringify(login.reply)).toEqual([WampCode.ABORT, ErrorUri.authenticationDenied]);
    }
  });
});

describe('WAMP-SCRAM with wampy', () => {
  it('wampy\'s manual onChallenge answers with the proof and is welcomed; a wrong password rejects connect()', async () => {
    const wampy = new WampyClients(server.wampUrl, 'json');
    try {
      const nonce = clientNonce();
      let expectedVerifier = '';
      const { welcome } = await wampy.connect({
        authid: 'carol',
        authmethods: ['wamp-scram'],
        authextra: { nonce },
        onChallenge: (method: string, extra: Record<string, unknown>) => {
          expect(method).toBe('wamp-scram');
          const answer = scramAnswer('carol', PASSWORD, nonce, extra as unknown as ScramChallenge);
          expectedVerifier = answer.verifier;
          return answer.proof;
        },
      });
      expect(welcome).toMatchObject({ authid: 'carol', authrole: 'auditor' });
      expect((welcome as unknown as { authextra: { verifier: string } }).authextra.verifier).toBe(expectedVerifier);

      const failure: unknown = await wampy
        .connect({
          authid: 'carol',
          authmethods: ['wamp-scram'],
          authextra: { nonce },
          onChallenge: (_method: string, extra: Record<string, unknown>) => scramAnswer('carol', 'guess', nonce, extra as unknown as ScramChallenge).proof,
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
    const problem = pythonAutobahnProblem();
    if (problem !== undefined) throw new Error(`cannot run the autobahn-python tests: ${problem}`);
  });

  it('an autobahn-python session with the proof from hashlib is welcomed with the verifier it expects (cbor)', async () => {
    const script = new PythonScript('py_scram_client.py', [server.wampUrl, 'realm1', 'cbor', 'carol', PASSWORD]);
    try {
      const { challenge } = (await script.waitForLine('challenge')) as { challenge: { method: string; extra: Record<string, unknown> } };
      expect(challenge).toMatchObject({ method: 'wamp-scram', extra: { kdf: 'pbkdf2', iterations: ITERATIONS, salt: carol.scram!.salt } });
      const { expected } = (await script.waitForLine('expected')) as { expected: { verifier: string } };
      const { welcome } = (await script.waitForLine('welcome')) as { welcome: Record<string, unknown> };
      expect(welcome).toMatchObject({ authid: 'carol', authrole: 'auditor', authmethod: 'wamp-scram', authextra: { verifier: expected.verifier } });
      expect(await script.exit()).toBe(0);
    } finally {
      await script.stop();
    }
  });

  it('a wrong password is refused with wamp.error.authentication_failed (msgpack)', async () => {
    const script = new PythonScript('py_scram_client.py', [server.wampUrl, 'realm1', 'msgpack', 'carol', 'not the password']);
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
  it('an argon2id13 user stops the server with one line naming the user, and exit status 2', async () => {
    const bad = join(dir, 'argon.json');
    writeFileSync(bad, JSON.stringify({ users: [{ ...carol, authid: 'erin', scram: { ...carol.scram, kdf: 'argon2id13' } }] }));
    const { code, stderr } = await runServerToExit(['--port', '0', '--config', bad]);
    expect(code).toBe(2);
    expect(stderr).toBe('fox-wamp: setting users: users[0] (erin): scram.kdf must be pbkdf2 (argon2id13 is not supported)\n');
  });
});
