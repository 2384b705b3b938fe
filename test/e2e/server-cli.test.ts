import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Inbox, connectAutobahn, rejectionOf, withTimeout, type AutobahnClient } from '../support/autobahn-client.js';
import { RawWampClient, WampCode } from '../support/raw-wamp-client.js';
import { REPO_ROOT, SERVER_ENTRY, startServer, type RunningServer } from '../support/server-process.js';

/**
 * The standalone server's contract (DESIGN.md, "The standalone server contract"): flags, environment and
 * config file with their precedence, one-line errors with the right exit codes, /health, the startup log
 * line, and a graceful shutdown on SIGTERM/SIGINT.
 */

/** How long a server that should refuse to start may run before the test kills it and fails. */
const EXIT_TIMEOUT_MS = 15_000;

interface ExitResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the server entry expecting it to exit by itself (a configuration or startup error). A server that
 * starts after all is killed after EXIT_TIMEOUT_MS, so a regression fails the test instead of hanging it.
 */
async function runToExit(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ExitResult> {
  const child = spawn(process.execPath, [SERVER_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: EXIT_TIMEOUT_MS,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** stderr must be exactly one line `fox-wamp: …`, with no stack trace. Returns that line. */
function expectOneLineError(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.length > 0);
  expect(lines, `stderr was:\n${stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^fox-wamp: /);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

/** Servers and clients of the current test, stopped and closed in afterEach. */
const servers: RunningServer[] = [];
const clients: AutobahnClient[] = [];
const rawClients: RawWampClient[] = [];

async function server(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const running = await startServer(args, env);
  servers.push(running);
  return running;
}

async function joinRealm(url: string, realm: string): Promise<AutobahnClient> {
  const client = await connectAutobahn(url, 'json', realm);
  clients.push(client);
  return client;
}

/** Joining `realm` is refused with ABORT `wamp.error.no_such_realm`. */
async function expectNoSuchRealm(url: string, realm: string): Promise<void> {
  await expect(connectAutobahn(url, 'json', realm)).rejects.toMatchObject({ details: { reason: 'wamp.error.no_such_realm' } });
}

async function health(running: RunningServer): Promise<{ status: string; sessions: number }> {
  const response = await fetch(`${running.httpUrl}/health`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  return (await response.json()) as { status: string; sessions: number };
}

afterEach(async () => {
  for (const client of rawClients.splice(0)) client.terminate();
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
  await Promise.all(servers.splice(0).map((running) => running.stop()));
});

describe('--help', () => {
  it('prints the usage once on stdout and exits 0', async () => {
    const { code, stdout, stderr } = await runToExit(['--help']);
    expect(code).toBe(0);
    expect(stdout.match(/^Usage: fox-wamp/gm)).toHaveLength(1);
    expect(stdout).toContain('--store <store>');
    expect(stderr).toBe('');
  });
});

describe('startup errors', () => {
  it('a port that is taken: non-zero exit and one line on stderr naming the port, no stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const takenPort = (blocker.address() as { port: number }).port;

    const result = await runToExit(['--port', String(takenPort)]).finally(() => blocker.close());

    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    const line = expectOneLineError(result.stderr);
    expect(line).toContain(String(takenPort));
    expect(line).toMatch(/in use/);
  });

  it.each<[string, string[], string]>([
    ['--port abc', ['--port', 'abc'], 'abc'],
    ['--port 70000', ['--port', '70000'], '70000'],
    ['--log-level loud', ['--port', '0', '--log-level', 'loud'], 'loud'],
    ['an unknown flag', ['--port', '0', '--no-such-flag'], '--no-such-flag'],
    ['--realm with a space', ['--port', '0', '--realm', 'bad realm'], 'bad realm'],
  ])('%s: exit 2 and a one-line error', async (_name, args, mentioned) => {
    const result = await runToExit(args);

    expect(result.code).toBe(2);
    expect(expectOneLineError(result.stderr)).toContain(mentioned);
  });

  it('an invalid value in an environment variable (FOX_PORT=abc): exit 2 and a one-line error naming the variable', async () => {
    const result = await runToExit([], { FOX_PORT: 'abc' });

    expect(result.code).toBe(2);
    expect(expectOneLineError(result.stderr)).toContain('FOX_PORT');
  });
});

describe('configuration sources: file, then FOX_* environment, then flags', () => {
  const dir = mkdtempSync(joinPath(tmpdir(), 'fox-wamp-cli-'));
  const yamlFile = joinPath(dir, 'server.yaml');
  const jsonFile = joinPath(dir, 'server.json');
  writeFileSync(yamlFile, 'realm: yaml.realm\nwampPath: /yaml-ws\n');
  writeFileSync(jsonFile, JSON.stringify({ realm: 'json.realm', wampPath: '/json-ws' }));

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['YAML', yamlFile, 'yaml.realm', '/yaml-ws'],
    ['JSON', jsonFile, 'json.realm', '/json-ws'],
  ])('--config with a %s file sets the realm and the WAMP path', async (_format, file, realm, path) => {
    const running = await server(['--config', file]);

    expect(running.wampUrl).toBe(`ws://127.0.0.1:${running.port}${path}`);
    const client = await joinRealm(running.wampUrl, realm);
    expect(client.session.realm).toBe(realm);
    await expectNoSuchRealm(running.wampUrl, 'realm1');
  });

  it('FOX_REALM and FOX_WAMP_PATH override the config file', async () => {
    const running = await server(['--config', yamlFile], { FOX_REALM: 'env.realm', FOX_WAMP_PATH: '/env-ws' });

    expect(running.wampUrl).toBe(`ws://127.0.0.1:${running.port}/env-ws`);
    await joinRealm(running.wampUrl, 'env.realm');
    await expectNoSuchRealm(running.wampUrl, 'yaml.realm');
  });

  it('--realm and --wamp-path override FOX_REALM and FOX_WAMP_PATH', async () => {
    const running = await server(['--config', yamlFile, '--realm', 'cli.realm', '--wamp-path', '/cli-ws'], {
      FOX_REALM: 'env.realm',
      FOX_WAMP_PATH: '/env-ws',
    });

    expect(running.wampUrl).toBe(`ws://127.0.0.1:${running.port}/cli-ws`);
    await joinRealm(running.wampUrl, 'cli.realm');
    await expectNoSuchRealm(running.wampUrl, 'env.realm');
  });

  describe('config file errors', () => {
    it.each<[string, string, string]>([
      ['YAML', 'unknown.yaml', 'realm: r1\nbogusSetting: 1\n'],
      ['JSON', 'unknown.json', JSON.stringify({ realm: 'r1', bogusSetting: 1 })],
    ])('an unknown key in a %s config file: exit 2 and a one-line error naming the key', async (_format, name, text) => {
      const file = joinPath(dir, name);
      writeFileSync(file, text);

      const result = await runToExit(['--port', '0', '--config', file]);

      expect(result.code).toBe(2);
      expect(expectOneLineError(result.stderr)).toContain('bogusSetting');
    });

    it('a config file that is not valid JSON: exit 2 and a one-line error', async () => {
      const file = joinPath(dir, 'broken.json');
      writeFileSync(file, '{"realm": ');

      const result = await runToExit(['--port', '0', '--config', file]);

      expect(result.code).toBe(2);
      expect(expectOneLineError(result.stderr)).toContain(file);
    });

    it('a config file that does not exist: exit 2 and a one-line error', async () => {
      const result = await runToExit(['--port', '0', '--config', joinPath(dir, 'missing.yaml')]);

      expect(result.code).toBe(2);
      expect(expectOneLineError(result.stderr)).toContain('missing.yaml');
    });
  });
});

describe('realms', () => {
  it('--realm myrealm: autobahn joins myrealm, and realm1 is then unknown', async () => {
    const running = await server(['--realm', 'myrealm']);

    const client = await joinRealm(running.wampUrl, 'myrealm');
    expect(client.session.realm).toBe('myrealm');
    await expectNoSuchRealm(running.wampUrl, 'realm1');
  });

  it('--auto-realms: any valid realm name can be joined, and works as a realm', async () => {
    const running = await server(['--auto-realms']);

    const [subscriber, publisher] = await Promise.all([joinRealm(running.wampUrl, 'made.up.on.the.spot'), joinRealm(running.wampUrl, 'made.up.on.the.spot')]);
    await joinRealm(running.wampUrl, 'another_one');
    const events = new Inbox<unknown>();
    await subscriber.session.subscribe('news', (args) => events.push(args[0]));
    await publisher.session.publish('news', ['hello'], {}, { acknowledge: true });
    expect(await events.waitFor(1)).toEqual(['hello']);
  });

  it('perRealm in the config file makes one realm strict about URIs while the others stay loose', async () => {
    const dir = mkdtempSync(joinPath(tmpdir(), 'fox-wamp-realms-'));
    try {
      const file = joinPath(dir, 'realms.json');
      writeFileSync(file, JSON.stringify({ perRealm: { 'strict.realm': { uriCheck: 'strict' } } }));
      const running = await server(['--config', file]);

      const strict = await joinRealm(running.wampUrl, 'strict.realm');
      const loose = await joinRealm(running.wampUrl, 'realm1');
      expect((await rejectionOf(strict.session.publish('com.MyApp.x', [], {}, { acknowledge: true }))).error).toBe('wamp.error.invalid_uri');
      await strict.session.publish('com.my_app.x', [], {}, { acknowledge: true });
      await loose.session.publish('com.MyApp.x', [], {}, { acknowledge: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a perRealm entry with an unknown setting is a one-line configuration error', async () => {
    const dir = mkdtempSync(joinPath(tmpdir(), 'fox-wamp-realms-'));
    try {
      const file = joinPath(dir, 'realms.json');
      writeFileSync(file, JSON.stringify({ perRealm: { iot: { uriCheck: 'sloppy' } } }));
      const result = await runToExit(['--port', '0', '--config', file]);
      expect(result.code).toBe(2);
      expect(expectOneLineError(result.stderr)).toContain('perRealm');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without --auto-realms an unknown realm is refused', async () => {
    const running = await server();

    await expectNoSuchRealm(running.wampUrl, 'made.up.on.the.spot');
  });
});

describe('/health', () => {
  it('answers {status: "ok", sessions: n}, n following the WAMP sessions that come and go', async () => {
    const running = await server();
    const before = await health(running);
    expect(before).toMatchObject({ status: 'ok', sessions: expect.any(Number) });

    const first = await joinRealm(running.wampUrl, 'realm1');
    await joinRealm(running.wampUrl, 'realm1');
    expect((await health(running)).sessions).toBe(before.sessions + 2);

    // autobahn's close resolves after the router's GOODBYE reply, that is after the session has left.
    await first.close();
    expect((await health(running)).sessions).toBe(before.sessions + 1);
  });
});

describe('graceful shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s: every client gets GOODBYE wamp.close.system_shutdown and the process exits 0 within a few seconds',
    async (signal) => {
      const running = await server();
      const sessions = await Promise.all([joinRealm(running.wampUrl, 'realm1'), joinRealm(running.wampUrl, 'realm1')]);

      const started = Date.now();
      const code = await withTimeout(running.stop(signal), 5_000, `the server to exit after ${signal}`);

      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
      for (const client of sessions) {
        const closed = await withTimeout(client.closed, 2_000, 'the client to see the connection close');
        expect(closed.details.reason).toBe('wamp.close.system_shutdown');
        // A clean close: the GOODBYE handshake completed before the WebSocket went away.
        expect(closed.reason).toBe('closed');
      }
    },
  );

  it('a client that never answers GOODBYE does not hold the exit up beyond --shutdown-timeout', async () => {
    const running = await server(['--shutdown-timeout', '500']);
    const silent = await RawWampClient.joined(running.wampUrl, 'realm1');
    rawClients.push(silent);

    const started = Date.now();
    const code = await withTimeout(running.stop('SIGTERM'), 5_000, 'the server to exit after SIGTERM');

    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await silent.nextMessage()).toEqual([WampCode.GOODBYE, expect.any(Object), 'wamp.close.system_shutdown']);
    await silent.closedWithin();
  });
});

describe('startup log', () => {
  it('with --port 0 the server logs "listening wamp ws://127.0.0.1:<port>/ws" with the real port, and serves there', async () => {
    const running = await server();

    expect(running.port).toBeGreaterThan(0);
    expect(running.output()).toContain(`listening wamp ws://127.0.0.1:${running.port}/ws`);
    expect(running.output()).not.toContain('ws://127.0.0.1:0/');
    await joinRealm(running.wampUrl, 'realm1');
    expect((await health(running)).status).toBe('ok');
  });
});
