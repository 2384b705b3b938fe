import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SERVER_ENTRY = `${REPO_ROOT}dist/src/main.js`;

export interface RunningServer {
  readonly process: ChildProcess;
  readonly port: number;
  /** `ws://127.0.0.1:PORT/ws` (or the path given with --wamp-path). */
  readonly wampUrl: string;
  readonly httpUrl: string;
  /** `mqtt://127.0.0.1:PORT` of the MQTT TCP listener; undefined when started with `--no-mqtt`. */
  readonly mqttUrl: string | undefined;
  /** `ws://127.0.0.1:PORT/mqtt` (MQTT over WebSocket on the HTTP port); undefined with `--no-mqtt`. */
  readonly mqttWsUrl: string | undefined;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** Sends a signal and waits for the exit; resolves to the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the built standalone server as a user would (`node dist/src/main.js`), on free ports (`--port 0`,
 * and `--mqtt-port 0` unless the arguments name an MQTT port or `--no-mqtt`), and resolves once it has
 * logged its WAMP URL and, with MQTT, its MQTT URLs. Rejects with the server's output if it exits first.
 */
export async function startServer(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const withMqtt = !args.includes('--no-mqtt');
  const mqttPortArgs = withMqtt && !args.includes('--mqtt-port') ? ['--mqtt-port', '0'] : [];
  const child = spawn(process.execPath, [SERVER_ENTRY, '--port', '0', ...mqttPortArgs, ...args], {
    cwd: REPO_ROOT,
    // Readable log lines, as on a terminal (a pipe would get JSON lines); `--log-format` or env override it.
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', FOX_LOG_FORMAT: 'pretty', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = once(child, 'exit');
  const listening = new Promise<{ port: number; wampUrl: string; mqttUrl?: string; mqttWsUrl?: string }>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      // A URL ends at whitespace, or at the quote that closes the message of a JSON log line.
      const wamp = /listening wamp (ws:\/\/[^\s"]+?:(\d+)\/[^\s"]*)/.exec(output);
      if (wamp === null) return;
      if (!withMqtt) return resolve({ wampUrl: wamp[1]!, port: Number(wamp[2]) });
      const mqttTcp = /listening mqtt (mqtt:\/\/[^\s"]+)/.exec(output);
      const mqttWs = /listening mqtt-ws (ws:\/\/[^\s"]+)/.exec(output);
      if (mqttTcp !== null && mqttWs !== null) resolve({ wampUrl: wamp[1]!, port: Number(wamp[2]), mqttUrl: mqttTcp[1]!, mqttWsUrl: mqttWs[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(([code]) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
  const { port, wampUrl, mqttUrl, mqttWsUrl } = await listening;
  return {
    process: child,
    port,
    wampUrl,
    mqttUrl,
    mqttWsUrl,
    httpUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Runs the server entry to completion (for flag and error tests) and returns its exit code and output. */
export async function runServerToExit(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SERVER_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}
