import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** Starts the built server (`dist/src/main.js`) on a free port; resolves with its WAMP URL. */
export async function startBenchServer(args: string[]): Promise<{ url: string; process: ChildProcess; stop(): Promise<void> }> {
  // MQTT on a free port (1883 may be taken); a caller's own --mqtt-port or --no-mqtt comes later and wins.
  const child = spawn(process.execPath, [ENTRY, '--port', '0', '--mqtt-port', '0', '--log-level', 'info', ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening wamp (ws:\/\/[^\s"]+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return {
    url,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** p-th percentile (0..100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
