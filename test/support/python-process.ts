import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { REPO_ROOT } from './server-process.js';

/**
 * Debian's interpreter, which has python3-autobahn (22.7), python3-msgpack and python3-cbor2. The `python3`
 * on PATH may be another installation without them.
 */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const PYTHON_SCRIPTS_DIR = `${REPO_ROOT}test/python/`;

/** Why the Python WAMP tests cannot run here, or undefined when they can. */
export function pythonAutobahnProblem(): string | undefined {
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import autobahn, msgpack, cbor2; print(autobahn.__version__)'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${SYSTEM_PYTHON} cannot be run: ${probe.error.message}`;
  if (probe.status !== 0) return `${SYSTEM_PYTHON} lacks autobahn, msgpack or cbor2 (Debian: python3-autobahn python3-msgpack python3-cbor2): ${probe.stderr}`;
  return undefined;
}

export type ScriptLine = Record<string, unknown>;

/**
 * One of the scripts in test/python, running. They write one JSON object per line on stdout; `waitForLine`
 * resolves with the first line that has a given key, or rejects (with the script's stderr) if the script
 * exits first or the wait times out.
 */
export class PythonScript {
  readonly lines: ScriptLine[] = [];
  private stderrText = '';
  private exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;
  private readonly listeners = new Set<() => void>();
  private readonly child;

  constructor(script: string, args: readonly string[]) {
    this.child = spawn(SYSTEM_PYTHON, ['-u', `${PYTHON_SCRIPTS_DIR}${script}`, ...args], {
      cwd: PYTHON_SCRIPTS_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== '') this.lines.push(parseLine(line));
      }
      this.notify();
    });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderrText += chunk.toString('utf8')));
    this.exited = once(this.child, 'exit').then(([code]) => {
      this.exitCode = code as number | null;
      this.notify();
      return this.exitCode;
    });
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** The first line with `key`, waiting for it if need be. */
  waitForLine(key: string, timeoutMs = 10_000): Promise<ScriptLine> {
    return new Promise<ScriptLine>((resolve, reject) => {
      const check = () => {
        const line = this.lines.find((candidate) => key in candidate);
        if (line !== undefined) return settle(() => resolve(line));
        if (this.exitCode !== undefined) {
          settle(() => reject(new Error(`the script exited (${this.exitCode}) without a "${key}" line; ${this.describe()}`)));
        }
      };
      const timer = setTimeout(() => settle(() => reject(new Error(`no "${key}" line within ${timeoutMs} ms; ${this.describe()}`))), timeoutMs);
      const settle = (done: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        done();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** The exit code, once the script ends by itself (bounded). */
  async exit(timeoutMs = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the script did not exit within ${timeoutMs} ms; ${this.describe()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM (the scripts then leave the realm with GOODBYE), SIGKILL if that takes too long. */
  async stop(): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private describe(): string {
    return `stdout: ${JSON.stringify(this.lines)}; stderr: ${this.stderrText || '(empty)'}`;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function parseLine(line: string): ScriptLine {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as ScriptLine) : { raw: line };
  } catch {
    return { raw: line };
  }
}
