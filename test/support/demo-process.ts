import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { REPO_ROOT } from './server-process.js';

export const DEMO_ENTRY = `${REPO_ROOT}dist/apps/demo/main.js`;

export interface RunningDemo {
  readonly process: ChildProcess;
  readonly httpUrl: string;
  readonly wampUrl: string;
  output(): string;
  /**
   * Sends SIGTERM and waits for the exit. Nest's shutdown hooks close the app and then re-raise the signal,
   * so a clean stop ends with `signal: 'SIGTERM'`.
   */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built demo app (`node dist/apps/demo/main.js --port 0`) and resolves once it logs its URLs. */
export async function startDemo(): Promise<RunningDemo> {
  const child = spawn(process.execPath, [DEMO_ENTRY, '--port', '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = once(child, 'exit');
  const { httpUrl, wampUrl } = await new Promise<{ httpUrl: string; wampUrl: string }>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const page = /chat page (http:\/\/\S+)/.exec(output);
      const wamp = /listening wamp (ws:\/\/\S+)/.exec(output);
      if (page && wamp) resolve({ httpUrl: page[1]!, wampUrl: wamp[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(([code]) => reject(new Error(`the demo exited with ${code} before listening:\n${output}`)));
  });
  return {
    process: child,
    httpUrl,
    wampUrl,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      return { code: child.exitCode, signal: child.signalCode };
    },
  };
}
