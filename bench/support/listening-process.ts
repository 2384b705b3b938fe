import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A server process of the benchmark: ours or a peer, started fresh for each measurement. */
export interface ListeningProcess {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM (so that `--cpu-prof` writes its profile), then SIGKILL if it has not exited after 5 s. */
  stop(): Promise<void>;
}

/**
 * Spawns a process and resolves once its output matches every pattern (the `listening …` lines), with the
 * first capture group of each. Rejects with the output if it exits first or takes longer than `timeoutMs`.
 */
export async function spawnListening(
  command: string,
  args: readonly string[],
  patterns: readonly RegExp[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {},
): Promise<{ server: ListeningProcess; captures: string[] }> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const child = spawn(command, args, { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = once(child, 'exit');
  const server: ListeningProcess = {
    process: child,
    pid: child.pid!,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
  const captures = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const matches = patterns.map((pattern) => pattern.exec(output));
      if (matches.every((match) => match !== null)) {
        clearTimeout(timer);
        resolve(matches.map((match) => match![1] ?? ''));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return { server, captures };
}
