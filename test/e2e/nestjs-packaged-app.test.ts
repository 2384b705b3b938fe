import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAutobahn, Inbox, type AutobahnClient, type AutobahnResult } from '../support/autobahn-client.js';
import { REPO_ROOT } from '../support/server-process.js';

// What a user does: a fresh Nest app outside the repo installs the `npm pack` tarballs of @fox-wamp/core
// and @fox-wamp/nestjs (plus Nest 12 from the registry), is compiled with tsc, and serves decorated
// handlers that an autobahn client calls. This catches a broken package: missing files in the tarball,
// exports that do not resolve, dependencies that are not declared.

const run = promisify(execFile);
const SETUP_TIMEOUT_MS = 240_000;

/** The versions this repo installed, so that the app's install is served from npm's cache. */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

const APP_MAIN = `
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Args, Details, FoxWampModule, Kwargs, RealmService, RouterService, WampProcedure, WampResult, WampSubscribe, WampUri,
} from '@fox-wamp/nestjs';

@Injectable()
class EchoService {
  @WampProcedure('service.echo', { concurrency: 10 })
  echo(@Args() args: unknown[], @Kwargs() kwargs: Record<string, unknown>): WampResult {
    return new WampResult(args, kwargs);
  }
}

@Injectable()
class KeyWatcher {
  private readonly seen: unknown[] = [];

  constructor(private readonly realm: RealmService) {}

  @WampSubscribe('key.#', { retained: true })
  async onKey(@WampUri() topic: string, @Args(0) value: unknown, @Details('retained') retained?: boolean): Promise<void> {
    const entry = { topic, value, retained: retained === true };
    this.seen.push(entry);
    await this.realm.publish('seen.key', [entry]);
  }

  @WampProcedure('app.keys')
  keys(): unknown[] {
    return this.seen;
  }
}

// Runs before the handlers subscribe: the retained subscription then starts with this entry.
const seedKeys = {
  provide: 'SEED_KEYS',
  inject: [RealmService],
  useFactory: (realm: RealmService) => realm.publish('key.boot', ['from boot'], undefined, { retain: true }),
};

@Module({ imports: [FoxWampModule.forRoot({ realms: ['realm1'] })], providers: [seedKeys, EchoService, KeyWatcher] })
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
console.log('listening wamp ' + app.get(RouterService).wampUrl());
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: true,
    types: ['node'],
    rootDir: 'src',
    outDir: 'dist',
  },
};

let workDir: string;
let app: ChildProcess | undefined;
let wampUrl: string;
const clients: AutobahnClient[] = [];

async function packLibrary(library: string, destination: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', join(REPO_ROOT, 'libs', library), '--pack-destination', destination, '--json'], { cwd: destination });
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  return join(destination, packed!.filename);
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'fox-wamp-packaged-app-'));
  const appDir = join(workDir, 'app');
  mkdirSync(join(appDir, 'src'), { recursive: true });
  const core = await packLibrary('core', workDir);
  const nestjs = await packLibrary('nestjs', workDir);
  const nest = installedVersion('@nestjs/core');
  writeFileSync(
    join(appDir, 'package.json'),
    JSON.stringify({
      name: 'packaged-fox-wamp-app',
      private: true,
      type: 'module',
      dependencies: {
        '@fox-wamp/core': `file:${core}`,
        '@fox-wamp/nestjs': `file:${nestjs}`,
        '@nestjs/common': installedVersion('@nestjs/common'),
        '@nestjs/core': nest,
        '@nestjs/platform-express': installedVersion('@nestjs/platform-express'),
        'reflect-metadata': installedVersion('reflect-metadata'),
        rxjs: installedVersion('rxjs'),
      },
      devDependencies: { '@types/node': installedVersion('@types/node') },
    }),
  );
  writeFileSync(join(appDir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  writeFileSync(join(appDir, 'src', 'main.ts'), APP_MAIN);
  // No install scripts: the optional native encoders have pure-JS fallbacks, and builds would be slow.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: appDir });
  await run(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', appDir]);

  app = spawn(process.execPath, [join(appDir, 'dist', 'main.js')], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  wampUrl = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening wamp (ws:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    app!.stdout!.on('data', onData);
    app!.stderr!.on('data', onData);
    app!.once('exit', (code) => reject(new Error(`the packaged app exited with ${code}:\n${output}`)));
  });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => client.drop())));
  if (app !== undefined && app.exitCode === null && app.signalCode === null) {
    const exited = once(app, 'exit');
    app.kill('SIGTERM');
    await exited;
  }
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

async function connect(): Promise<AutobahnClient> {
  const client = await connectAutobahn(wampUrl, 'json');
  clients.push(client);
  return client;
}

describe('a fresh Nest app that installs the packed libraries', () => {
  it("serves @WampProcedure('service.echo', { concurrency: 10 }) to an autobahn caller", async () => {
    const { session } = await connect();
    const results = (await Promise.all(
      Array.from({ length: 20 }, (_, n) => session.call('service.echo', [n], { n })),
    )) as AutobahnResult[];
    expect(results.map((result) => [result.args, result.kwargs])).toEqual(Array.from({ length: 20 }, (_, n) => [[n], { n }]));
  });

  it("replays the retained entry to @WampSubscribe('key.#', { retained: true }), then live events", async () => {
    const { session } = await connect();
    // The replay happened at startup, before any client could publish: it is the first thing seen.
    const keys = (await session.call('app.keys')) as unknown[];
    expect(keys[0]).toEqual({ topic: 'key.boot', value: 'from boot', retained: true });
  });

  it('lets that handler publish through its injected RealmService', async () => {
    const { session } = await connect();
    const seen = new Inbox<unknown>();
    await session.subscribe('seen.key', (args) => seen.push(args[0]));
    await session.publish('key.a.b', ['first'], {}, { acknowledge: true });
    await session.publish('key', ['root'], {}, { acknowledge: true });
    expect(await seen.waitFor(2)).toEqual([
      { topic: 'key.a.b', value: 'first', retained: false },
      { topic: 'key', value: 'root', retained: false },
    ]);
  });
});
