import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** Debian's redis-server (`scripts/ensure-test-packages.sh` installs it). */
export const REDIS_BINARY = '/usr/bin/redis-server';

export interface RedisProcessOptions {
  /**
   * `none` (default): data lives in memory only, a restart starts empty. `aof`: an append-only file with
   * `appendfsync always` in the process's directory, so a killed and restarted Redis comes back with every
   * acknowledged write.
   */
  readonly persistence?: 'none' | 'aof';
}

/** A redis-server started for one test file, on a free port, with its data in a temporary directory. */
export interface RunningRedis {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  /** Everything the server printed so far, over all its runs. */
  output(): string;
  /** Whether the process is running now. */
  readonly running: boolean;
  /** SIGKILL: Redis goes away without a word ("the engine crashed"). Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and directory (after `kill`); resolves once it answers PING. */
  restart(): Promise<void>;
  /** Stops the server (if running) and deletes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts redis-server on a free port, listening on 127.0.0.1 only, and resolves once it answers PING. Retries
 * on another port if the chosen one was taken in between.
 */
export async function startRedis(options: RedisProcessOptions = {}): Promise<RunningRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'fox-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const server = new RedisServer(port, dir, options.persistence ?? 'none');
    try {
      await server.start();
      return server;
    } catch (error) {
      lastError = error;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

class RedisServer implements RunningRedis {
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private log = '';

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly persistence: 'none' | 'aof',
  ) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.log;
  }

  async start(): Promise<void> {
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--dir', this.dir,
      // No RDB snapshots; the append-only file only when asked for.
      '--save', '',
      ...(this.persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      '--daemonize', 'no',
      '--loglevel', 'warning',
    ];
    const child = spawn(REDIS_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = once(child, 'exit');
    child.stdout!.on('data', (chunk: Buffer) => (this.log += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString('utf8')));
    try {
      await waitForPong(this.port, () => !this.running);
    } catch (error) {
      await this.kill();
      throw new Error(`redis-server did not start on port ${this.port}: ${(error as Error).message}\n${this.log}`);
    }
  }

  async kill(): Promise<void> {
    if (this.running) this.child!.kill('SIGKILL');
    await this.exited;
  }

  restart(): Promise<void> {
    if (this.running) throw new Error('redis-server is still running; kill it first');
    return this.start();
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGTERM');
    }
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Sends PING until the answer is +PONG (not merely an open port: Redis may still be loading its data). */
async function waitForPong(port: number, gaveUp: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gaveUp()) throw new Error('the process exited');
    if (await answersPong(port)) return;
    if (Date.now() > deadline) throw new Error(`no PONG on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function answersPong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}
