import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** A Mosquitto broker started for one test file: the reference MQTT behaviour for differential tests. */
export interface RunningMosquitto {
  readonly port: number;
  /** `mqtt://127.0.0.1:PORT` */
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

export const MOSQUITTO_BINARY = '/usr/sbin/mosquitto';

/**
 * Starts Debian's Mosquitto on a free port with anonymous access and no persistence, and resolves once it
 * accepts connections. `extraConfig` lines are appended to the generated configuration. Retries on another
 * port if the chosen one was taken in between.
 */
export async function startMosquitto(extraConfig: readonly string[] = []): Promise<RunningMosquitto> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startOnce(await freePort(), extraConfig);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(port: number, extraConfig: readonly string[]): Promise<RunningMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  const configPath = join(dir, 'mosquitto.conf');
  writeFileSync(
    configPath,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stdout', 'log_type error', 'log_type warning', ...extraConfig, ''].join('\n'),
  );
  const child: ChildProcess = spawn(MOSQUITTO_BINARY, ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = once(child, 'exit');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const ready = waitForPort(port, () => child.exitCode !== null || child.signalCode !== null);
  try {
    await ready;
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    cleanup();
    throw new Error(`mosquitto did not start on port ${port}: ${(error as Error).message}\n${output}`);
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      cleanup();
    },
  };
}

/** Polls until a TCP connection to the port succeeds (Mosquitto prints nothing on start at these log types). */
async function waitForPort(port: number, gaveUp: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const { connect } = await import('node:net');
  for (;;) {
    if (gaveUp()) throw new Error('the process exited');
    const connected = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    if (Date.now() > deadline) throw new Error(`port ${port} not accepting after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
