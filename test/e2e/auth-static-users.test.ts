import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Errors } from 'wampy';
import { deriveKey as wampyDeriveKey, sign as wampySign } from 'wampy/wampcra.js';
import { craDeriveKey, ErrorUri } from '@fox-wamp/core';
import {
  autobahn,
  AutobahnClients,
  connectAutobahn,
  type Dict,
  refusalReasonOf,
} from '../support/autobahn-client.js';
import { PythonScript, pythonAutobahnProblem } from '../support/python-process.js';
import { runServerToExit, startServer, type RunningServer } from '../support/server-process.js';
import { WampyClients } from '../support/wampy-client.js';

// The standalone server's `users` setting end to end: the built server started with a config file, and
// real clients logging in with WAMP-CRA (npm autobahn, wampy, autobahn-python) and tickets (npm autobahn).

/** carol's password is never in the config: only the key derived from it, with the salt and parameters. */
const CAROL = { password: 'carol-password', salt: 'NaCl-carol', iterations: 500, keylen: 32 };

const CONFIG = {
  users: [
    { authid: 'alice', ticket: 'alice-ticket', role: 'user' },
    { authid: 'bob', secret: 'bob-secret', role: 'admin' },
    {
      authid: 'carol',
      secret: craDeriveKey(CAROL.password, CAROL.salt, CAROL.iterations, CAROL.keylen),
      salt: CAROL.salt,
      iterations: CAROL.iterations,
      keylen: CAROL.keylen,
      role: 'auditor',
    },
  ],
};

let dir: string;
let server: RunningServer;
const clients = new AutobahnClients(() => server.wampUrl);

/** Writes `config` to a fresh file in the test's temp directory; returns its path. */
function configFile(name: string, config: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fox-wamp-users-'));
  server = await startServer(['--config', configFile('users.json', CONFIG)]);
});

afterEach(() => clients.closeAll());

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What an autobahn client's onchallenge saw. */
interface SeenChallenge {
  method?: string;
  extra?: Dict;
}

/**
 * autobahn login options for WAMP-CRA: signs with `password`, deriving the key first when the challenge
 * carries a salt (as the autobahn docs show). Records the challenge into `seen`.
 */
function wampcra(authid: string, password: string, seen: SeenChallenge = {}): Dict {
  return {
    authmethods: ['wampcra'],
    authid,
    onchallenge: (_session: unknown, method: string, extra: Dict) => {
      seen.method = method;
      seen.extra = extra;
      const key = extra.salt === undefined ? password : autobahn.auth_cra.derive_key(password, extra.salt as string, extra.iterations as number, extra.keylen as number);
      return autobahn.auth_cra.sign(key, extra.challenge as string);
    },
  };
}

/** The ABORT an autobahn client got instead of WELCOME: its reason URI. */
function refusalReason(extra: Dict): Promise<string | null> {
  return refusalReasonOf(server.wampUrl, extra);
}

describe('WAMP-CRA users from the config file, with npm autobahn', () => {
  it('bob (plain secret) is challenged with the spec\'s challenge and welcomed as wampcra / admin / static', async () => {
    const seen: SeenChallenge = {};
    const bob = await clients.connect('json', 'realm1', wampcra('bob', 'bob-secret', seen));
    expect(seen.method).toBe('wampcra');
    expect(Object.keys(seen.extra!)).toEqual(['challenge']);
    const challenge = JSON.parse(seen.extra!.challenge as string) as Dict;
    expect(challenge).toMatchObject({ authid: 'bob', authrole: 'admin', authmethod: 'wampcra', authprovider: 'static' });
    expect(Object.keys(challenge).sort()).toEqual(['authid', 'authmethod', 'authprovider', 'authrole', 'nonce', 'session', 'timestamp']);
    // The challenge names the session ID the session then has.
    expect(bob.session.id).toBe(challenge.session);
    expect(bob.welcome).toMatchObject({ authid: 'bob', authrole: 'admin', authmethod: 'wampcra', authprovider: 'static' });
    // Authentication methods are not role features: WELCOME announces the router roles only.
    expect(Object.keys(bob.welcome.roles as Dict).sort()).toEqual(['broker', 'dealer']);
    expect(JSON.stringify(bob.welcome.roles)).not.toContain('wampcra');
  });

  it('carol (salted secret) gets salt, iterations and keylen, derives the key with derive_key, and is welcomed', async () => {
    const seen: SeenChallenge = {};
    const carol = await clients.connect('msgpack', 'realm1', wampcra('carol', CAROL.password, seen));
    expect(seen.extra).toMatchObject({ salt: CAROL.salt, iterations: CAROL.iterations, keylen: CAROL.keylen });
    expect(carol.welcome).toMatchObject({ authid: 'carol', authrole: 'auditor', authmethod: 'wampcra', authprovider: 'static' });
  });

  it('a wrong secret is refused with ABORT wamp.error.authentication_failed', async () => {
    expect(await refusalReason(wampcra('bob', 'not-bobs-secret'))).toBe(ErrorUri.authenticationFailed);
    // carol's stored key itself is not her password: signing with the derived-again key fails.
    expect(await refusalReason(wampcra('carol', CONFIG.users[2]!.secret!))).toBe(ErrorUri.authenticationFailed);
  });

  it('an unknown authid is refused with ABORT wamp.error.authentication_denied', async () => {
    expect(await refusalReason(wampcra('mallory', 'anything'))).toBe(ErrorUri.authenticationDenied);
  });

  it('a ticket user cannot log in with wampcra, nor a wampcra user with a ticket', async () => {
    expect(await refusalReason(wampcra('alice', 'alice-ticket'))).toBe(ErrorUri.authenticationDenied);
    const bobTicket = { authmethods: ['ticket'], authid: 'bob', onchallenge: () => 'bob-secret' };
    expect(await refusalReason(bobTicket)).toBe(ErrorUri.authenticationDenied);
  });
});

describe('ticket users from the config file, with npm autobahn', () => {
  const ticket = (authid: string, secret: string): Dict => ({ authmethods: ['ticket'], authid, onchallenge: () => secret });

  it('alice with her ticket is welcomed as ticket / user / static', async () => {
    const alice = await clients.connect('cbor', 'realm1', ticket('alice', 'alice-ticket'));
    expect(alice.welcome).toMatchObject({ authid: 'alice', authrole: 'user', authmethod: 'ticket', authprovider: 'static' });
  });

  it('a wrong ticket is refused with ABORT wamp.error.authentication_denied', async () => {
    expect(await refusalReason(ticket('alice', 'alice-tickeT'))).toBe(ErrorUri.authenticationDenied);
  });
});

describe('anonymous clients when users are configured', () => {
  it('are refused by default with ABORT wamp.error.no_matching_auth_method', async () => {
    expect(await refusalReason({})).toBe(ErrorUri.noMatchingAuthMethod);
  });

  it('are admitted as role anonymous when the config file says "anonymous": true', async () => {
    const open = await startServer(['--config', configFile('open.json', { ...CONFIG, anonymous: true })]);
    try {
      const guest = await connectAutobahn(open.wampUrl, 'json');
      try {
        expect(guest.welcome).toMatchObject({ authid: String(guest.session.id), authrole: 'anonymous', authmethod: 'anonymous' });
      } finally {
        await guest.close();
      }
    } finally {
      await open.stop();
    }
  });
});

/** wampy's own wampcra `sign` as an onChallenge callback (its typings want a typed challenge extra). */
function wampyCra(password: string): (method: string, extra: Record<string, unknown>) => Promise<string> {
  const sign = wampySign(password);
  return (method, extra) => sign(method, extra as unknown as Parameters<typeof sign>[1]);
}

describe('WAMP-CRA with wampy', () => {
  it('wampy\'s wampcra sign() logs in bob (plain) and carol (salted); a wrong secret rejects connect()', async () => {
    const wampy = new WampyClients(server.wampUrl, 'json');
    try {
      const { welcome: bob } = await wampy.connect({ authid: 'bob', authmethods: ['wampcra'], onChallenge: wampyCra('bob-secret') });
      expect(bob).toMatchObject({ authid: 'bob', authrole: 'admin', authmethod: 'wampcra' });
      const { welcome: carol } = await wampy.connect({ authid: 'carol', authmethods: ['wampcra'], onChallenge: wampyCra(CAROL.password) });
      expect(carol).toMatchObject({ authid: 'carol', authrole: 'auditor', authmethod: 'wampcra' });

      const failure: unknown = await wampy.connect({ authid: 'bob', authmethods: ['wampcra'], onChallenge: wampyCra('guess') }).then(
        () => expect.fail('wampy was welcomed with a wrong secret'),
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Errors.AbortError);
      expect((failure as InstanceType<typeof Errors.AbortError>).errorUri).toBe(ErrorUri.authenticationFailed);
    } finally {
      await wampy.closeAll();
    }
  });

  it('wampy\'s deriveKey agrees with the key stored in the config (and with autobahn\'s derive_key)', async () => {
    const stored = CONFIG.users[2]!.secret;
    expect(await wampyDeriveKey(CAROL.password, CAROL.salt, CAROL.iterations, CAROL.keylen)).toBe(stored);
    expect(autobahn.auth_cra.derive_key(CAROL.password, CAROL.salt, CAROL.iterations, CAROL.keylen)).toBe(stored);
  });
});

describe('WAMP-CRA with autobahn-python', () => {
  beforeAll(() => {
    const problem = pythonAutobahnProblem();
    if (problem !== undefined) throw new Error(`cannot run the autobahn-python tests: ${problem}`);
  });

  it('carol (salted) signs with derive_key and compute_wcs and is welcomed', async () => {
    const script = new PythonScript('py_wampcra_client.py', [server.wampUrl, 'realm1', 'cbor', 'carol', CAROL.password]);
    try {
      const { challenge } = (await script.waitForLine('challenge')) as { challenge: { method: string; extra: Dict } };
      expect(challenge.method).toBe('wampcra');
      expect(challenge.extra).toMatchObject({ salt: CAROL.salt, iterations: CAROL.iterations, keylen: CAROL.keylen, challenge: { authid: 'carol' } });
      const { welcome } = (await script.waitForLine('welcome')) as { welcome: Dict };
      expect(welcome).toMatchObject({ authid: 'carol', authrole: 'auditor', authmethod: 'wampcra', authprovider: 'static' });
      expect(welcome.session).toBe((challenge.extra.challenge as Dict).session);
      expect(await script.exit()).toBe(0);
    } finally {
      await script.stop();
    }
  });
});

describe('the users setting is checked at startup', () => {
  it('a malformed user stops the server with one line naming the user, and exit status 2', async () => {
    const bad = configFile('bad.json', { users: [{ authid: 'dan', secret: 'top-secret-value', iterations: 10, role: 'user' }] });
    const { code, stderr } = await runServerToExit(['--port', '0', '--config', bad]);
    expect(code).toBe(2);
    expect(stderr).toBe('fox-wamp: setting users: users[0] (dan): iterations and keylen need a salt\n');
    expect(stderr).not.toContain('top-secret-value');
  });

  it('"anonymous": false without users is refused (nobody could join)', async () => {
    const { code, stderr } = await runServerToExit(['--port', '0', '--config', configFile('nobody.json', { anonymous: false })]);
    expect(code).toBe(2);
    expect(stderr).toContain('anonymous is false but no users are configured');
  });
});
