import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { REPO_ROOT } from './server-process.js';

const PUBLISHER_SCRIPT = `${REPO_ROOT}test/fixtures/retained-publisher.mjs`;

/** One acknowledged PUBLISH the child makes (JSON, so options like `when: null` go over as they are). */
export interface ChildPublish {
  readonly topic: string;
  readonly args?: unknown[];
  readonly kwargs?: Record<string, unknown>;
  readonly options?: Record<string, unknown>;
}

export interface PublisherProcess {
  readonly process: ChildProcess;
  /** The WAMP session ID the router gave the child. */
  readonly sessionId: number;
  /** `kill -9`: the process dies at once and the kernel closes its socket; resolves once it has exited. */
  kill(): Promise<void>;
}

/**
 * Runs `test/fixtures/retained-publisher.mjs` in its own Node process: it joins realm1 at `url`, makes the
 * given publishes, and resolves once every one is acknowledged (the child printed READY). Rejects with the
 * child's output if it exits or takes longer than `timeoutMs` first.
 */
export async function startPublisherProcess(url: string, publishes: readonly ChildPublish[], timeoutMs = 10_000): Promise<PublisherProcess> {
  const child = spawn(process.execPath, [PUBLISHER_SCRIPT, url, JSON.stringify(publishes)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let output = '';
  let timer: NodeJS.Timeout | undefined;
  try {
    const sessionId = await new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const session = /^SESSION (\d+)$/m.exec(output);
        if (session && /^READY$/m.test(output)) resolve(Number(session[1]));
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then(([code, signal]) => reject(new Error(`the publisher process exited (${code ?? signal}) before READY:\n${output}`)));
      timer = setTimeout(() => reject(new Error(`the publisher process was not READY after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    });
    return {
      process: child,
      sessionId,
      async kill() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await exited;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
