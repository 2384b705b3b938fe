import { spawnSync } from 'node:child_process';
import { PythonScript, SYSTEM_PYTHON } from './python-process.js';

// The paho-mqtt scripts in test/python (mqtt_paho_*.py), run with Debian's python3-paho-mqtt 1.6.1. Each takes
// HOST PORT VERSION and its own arguments, prints JSON lines ({"ready": ...}, {"message": ...}, {"result": ...}) and
// exits 0, or prints {"error": ...} and exits 1. PythonScript (python-process.ts) runs them and reads those lines.

export type PahoVersion = 'v311' | 'v5';

export interface PahoBroker {
  readonly host: string;
  readonly port: number;
}

/** A message as the scripts report it (`message_to_json` in mqtt_paho_common.py). */
export interface PahoMessage {
  readonly topic: string;
  readonly payload_hex: string;
  /** The payload as UTF-8, or null when it is not valid UTF-8. */
  readonly text: string | null;
  readonly qos: number;
  readonly retain: boolean;
  readonly properties: {
    readonly response_topic?: string;
    readonly correlation_data_hex?: string;
    readonly user_properties?: Array<[string, string]>;
    readonly content_type?: string;
  };
}

/** Why the paho tests cannot run here, or undefined when they can. */
export function pahoProblem(): string | undefined {
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import paho.mqtt; print(paho.mqtt.__version__)'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${SYSTEM_PYTHON} cannot be run: ${probe.error.message}`;
  if (probe.status !== 0) return `${SYSTEM_PYTHON} lacks paho-mqtt (Debian: python3-paho-mqtt): ${probe.stderr}`;
  return undefined;
}

/** The scripts a test started; `stopAll()` in afterEach stops any still running. */
export class PahoScripts {
  private readonly running = new Set<PythonScript>();

  constructor(private readonly broker: () => PahoBroker) {}

  /** Starts a script in the background (for scripts the test talks to while they run). */
  start(script: string, version: PahoVersion, args: readonly string[]): PythonScript {
    const { host, port } = this.broker();
    const process = new PythonScript(script, [host, String(port), version, ...args]);
    this.running.add(process);
    return process;
  }

  /** Runs a script to completion and resolves with its `result`; rejects (with its output) on a failure. */
  async run<T>(script: string, version: PahoVersion, args: readonly string[], timeoutMs = 20_000): Promise<T> {
    const process = this.start(script, version, args);
    return resultOf<T>(process, timeoutMs);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((process) => process.stop()));
    this.running.clear();
  }
}

/** The `result` a script printed, once it has exited 0. */
export async function resultOf<T>(process: PythonScript, timeoutMs = 20_000): Promise<T> {
  const line = await process.waitForLine('result', timeoutMs);
  const code = await process.exit(timeoutMs);
  if (code !== 0) throw new Error(`the script exited with ${code} after its result; stderr: ${process.stderr || '(empty)'}`);
  return line.result as T;
}
