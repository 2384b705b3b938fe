import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorUri } from '@fox-wamp/core';
import { autobahn, AutobahnClients, type Dict, refusalReasonOf } from '../support/autobahn-client.js';
import { CryptosignTestKey } from '../support/cryptosign-key.js';
import { PythonScript, pythonAutobahnProblem, SYSTEM_PYTHON } from '../support/python-process.js';
import { startServer, type RunningServer } from '../support/server-process.js';

// WAMP-Cryptosign end to end: the built server started with users that have Ed25519 public keys in its
// config file, and real clients signing the challenge with their own Ed25519 code: npm autobahn
// (auth_cryptosign over tweetnacl) and autobahn-python (CryptosignKey over PyNaCl).

/** npm autobahn's cryptosign helpers and the tweetnacl it bundles (not in autobahn-client.ts's typing). */
interface NaclKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}
const cryptosign = autobahn as unknown as {
  readonly auth_cryptosign: {
    sign_challenge(keyPair: NaclKeyPair, extra: Dict): string;
    public_key(keyPair: NaclKeyPair): string;
  };
  readonly nacl: { readonly sign: { keyPair(): NaclKeyPair } };
};

/** gina's key is made by tweetnacl (autobahn's), hal's by node:crypto (its seed drives the Python client). */
const GINA = cryptosign.nacl.sign.keyPair();
const HAL = CryptosignTestKey.generate();
const STRANGER = cryptosign.nacl.sign.keyPair();

const CONFIG = {
  users: [
    { authid: 'gina', pubkey: cryptosign.auth_cryptosign.public_key(GINA), role: 'device' },
    { authid: 'hal', pubkeys: [CryptosignTestKey.generate().publicKeyHex, HAL.publicKeyHex], role: 'operator' },
  ],
};

let dir: string;
let server: RunningServer;
const clients = new AutobahnClients(() => server.wampUrl);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fox-wamp-cryptosign-'));
  const path = join(dir, 'users.json');
  writeFileSync(path, JSON.stringify(CONFIG));
  server = await startServer(['--config', path]);
});

afterEach(() => clients.closeAll());

afterAll(async () => {
  await server?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** What an autobahn client's onchallenge saw. */
interface SeenChallenge {
  method?: string;
  extra?: Dict;
}

/** autobahn login options for cryptosign: announces `announced`'s public key, signs with `signer`. */
function cryptosignLogin(announced: NaclKeyPair, options: { authid?: string; signer?: NaclKeyPair; seen?: SeenChallenge } = {}): Dict {
  return {
    authmethods: ['cryptosign'],
    ...(options.authid === undefined ? {} : { authid: options.authid }),
    authextra: { pubkey: cryptosign.auth_cryptosign.public_key(announced) },
    onchallenge: (_session: unknown, method: string, extra: Dict) => {
      if (options.seen !== undefined) Object.assign(options.seen, { method, extra });
      return cryptosign.auth_cryptosign.sign_challenge(options.signer ?? announced, extra);
    },
  };
}

/** The ABORT an autobahn client got instead of WELCOME: its reason URI. */
function refusalReason(extra: Dict): Promise<string | null> {
  return refusalReasonOf(server.wampUrl, extra);
}

describe('cryptosign users from the config file, with npm autobahn (tweetnacl)', () => {
  it('gina is challenged with 32 random bytes (hex) and no channel binding, and welcomed as cryptosign / device / static', async () => {
    const seen: SeenChallenge = {};
    const gina = await clients.connect('json', 'realm1', cryptosignLogin(GINA, { authid: 'gina', seen }));
    expect(seen.method).toBe('cryptosign');
    expect(seen.extra).toEqual({ challenge: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, channel_binding: null });
    expect(gina.welcome).toMatchObject({ authid: 'gina', authrole: 'device', authmethod: 'cryptosign', authprovider: 'static' });
  });

  it('without an authid, the public key names the user (msgpack and cbor too)', async () => {
    for (const serializer of ['msgpack', 'cbor'] as const) {
      const gina = await clients.connect(serializer, 'realm1', cryptosignLogin(GINA));
      expect(gina.welcome).toMatchObject({ authid: 'gina', authrole: 'device', authmethod: 'cryptosign' });
    }
  });

  it('a signature by another key than the announced one is refused with ABORT wamp.error.authentication_failed', async () => {
    expect(await refusalReason(cryptosignLogin(GINA, { authid: 'gina', signer: STRANGER }))).toBe(ErrorUri.authenticationFailed);
  });

  it('an unknown key, or gina\'s key claimed for hal, is refused with ABORT wamp.error.authentication_denied', async () => {
    expect(await refusalReason(cryptosignLogin(STRANGER))).toBe(ErrorUri.authenticationDenied);
    expect(await refusalReason(cryptosignLogin(GINA, { authid: 'hal' }))).toBe(ErrorUri.authenticationDenied);
  });

  it('a client asking for TLS channel binding is refused (not supported) with ABORT wamp.error.authentication_denied', async () => {
    const login = cryptosignLogin(GINA, { authid: 'gina' });
    login.authextra = { ...(login.authextra as Dict), channel_binding: 'tls-unique' };
    expect(await refusalReason(login)).toBe(ErrorUri.authenticationDenied);
  });
});

/** Why autobahn-python cannot do cryptosign here (PyNaCl missing), or undefined. */
function pythonCryptosignProblem(): string | undefined {
  const problem = pythonAutobahnProblem();
  if (problem !== undefined) return problem;
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'from autobahn.wamp.cryptosign import CryptosignKey'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `autobahn-python lacks cryptosign support (Debian: python3-nacl): ${probe.stderr}`;
}

describe('cryptosign with autobahn-python (PyNaCl)', () => {
  beforeAll(() => {
    const problem = pythonCryptosignProblem();
    if (problem !== undefined) throw new Error(`cannot run the autobahn-python cryptosign tests: ${problem}`);
  });

  /** Runs the Python client until it reports `outcome` (welcome or aborted) and exits; returns what it saw. */
  async function runPython(authid: string, seedHex: string, outcome: 'welcome' | 'aborted'): Promise<{ challenge?: Dict; outcome: Dict }> {
    const script = new PythonScript('py_cryptosign_client.py', [server.wampUrl, 'realm1', 'cbor', authid, seedHex]);
    try {
      const line = await script.waitForLine(outcome);
      expect(await script.exit()).toBe(0);
      const challenge = script.lines.find((candidate) => 'challenge' in candidate)?.challenge as Dict | undefined;
      return { challenge, outcome: line[outcome] as Dict };
    } finally {
      await script.stop();
    }
  }

  it('hal (CryptosignKey.from_bytes, sign_challenge) is welcomed with his second key, with and without an authid', async () => {
    for (const authid of ['hal', '-']) {
      const { challenge, outcome } = await runPython(authid, HAL.seedHex, 'welcome');
      expect(challenge).toMatchObject({ method: 'cryptosign', extra: { challenge: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, channel_binding: null } });
      expect(outcome).toMatchObject({ authid: 'hal', authrole: 'operator', authmethod: 'cryptosign', authprovider: 'static' });
    }
  });

  it('an unregistered key is refused before any challenge with wamp.error.authentication_denied', async () => {
    const { challenge, outcome } = await runPython('hal', CryptosignTestKey.generate().seedHex, 'aborted');
    expect(challenge).toBeUndefined();
    expect(outcome).toMatchObject({ reason: ErrorUri.authenticationDenied });
  });
});
