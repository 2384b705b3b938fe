import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from '../support/free-port.js';
import { spawnListening, type ListeningProcess } from '../support/listening-process.js';

/** A broker under test, started fresh for one measurement. */
export interface RunningBroker {
  readonly name: PeerName;
  readonly pid: number;
  readonly mqttPort: number;
  /** WAMP over WebSocket, for the brokers that bridge WAMP and MQTT. */
  readonly wampUrl?: string;
  /** MQTT username that puts the client in the realm the WAMP side uses (fox-wamp: `user@realm`). */
  readonly mqttUsername?: string;
  output(): string;
  stop(): Promise<void>;
}

export type PeerName = 'ours' | 'aedes' | 'mosquitto' | 'fox-wamp';

export interface BrokerPeer {
  readonly name: PeerName;
  /** Speaks WAMP too, so it can carry the WAMP → MQTT bridged stream. */
  readonly bridges: boolean;
  start(options?: { nodeArgs?: readonly string[] }): Promise<RunningBroker>;
}

const dist = (path: string) => fileURLToPath(new URL(path, import.meta.url));

function fromProcess(name: PeerName, server: ListeningProcess, mqttPort: number, extra: { wampUrl?: string; mqttUsername?: string } = {}): RunningBroker {
  return { name, pid: server.pid, mqttPort, ...extra, output: server.output, stop: server.stop };
}

/** Our standalone server as a user starts it (`node dist/src/main.js`), on free ports. */
export async function startOurs(options: { nodeArgs?: readonly string[]; args?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Promise<RunningBroker> {
  const { server, captures } = await spawnListening(
    process.execPath,
    [...(options.nodeArgs ?? []), dist('../../src/main.js'), '--port', '0', '--mqtt-port', '0', '--log-level', 'info', ...(options.args ?? [])],
    [/listening mqtt mqtt:\/\/[^:\s"]+:(\d+)/, /listening wamp (ws:\/\/[^\s"]+)/],
    { env: options.env ?? {} },
  );
  return fromProcess('ours', server, Number(captures[0]), { wampUrl: captures[1]! });
}

async function startAedes(options: { nodeArgs?: readonly string[] } = {}): Promise<RunningBroker> {
  const { server, captures } = await spawnListening(process.execPath, [...(options.nodeArgs ?? []), dist('../peers/aedes-peer.js')], [/listening (\d+)/]);
  return fromProcess('aedes', server, Number(captures[0]));
}

async function startFoxWamp(options: { nodeArgs?: readonly string[] } = {}): Promise<RunningBroker> {
  for (let attempt = 1; ; attempt++) {
    const mqttPort = await freePort();
    try {
      const { server, captures } = await spawnListening(process.execPath, [...(options.nodeArgs ?? []), dist('../peers/fox-wamp-mqtt-peer.js'), String(mqttPort)], [/listening wamp (\d+)/]);
      await waitForPort(mqttPort, () => server.process.exitCode !== null);
      return fromProcess('fox-wamp', server, mqttPort, { wampUrl: `ws://127.0.0.1:${captures[0]}`, mqttUsername: 'bench@realm1' });
    } catch (error) {
      // The free port may have been taken in between; fox-wamp then exits with EADDRINUSE.
      if (attempt >= 3) throw error;
    }
  }
}

/**
 * Debian's Mosquitto on a free port: anonymous, no persistence. Two settings differ from its defaults so
 * that the comparison is between the brokers, not their configurations: `set_tcp_nodelay true` (ours sets
 * TCP_NODELAY; with Nagle's algorithm its latency would be mostly delayed ACKs) and
 * `max_inflight_messages 64` (the QoS 1/2 window ours uses for 3.1.1 clients; its default is 20).
 */
async function startMosquitto(): Promise<RunningBroker> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'bench-mosquitto-'));
    const config = join(dir, 'mosquitto.conf');
    writeFileSync(
      config,
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence false',
        'set_tcp_nodelay true',
        'max_inflight_messages 64',
        'log_dest stdout',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
    );
    const child = spawn('/usr/sbin/mosquitto', ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = once(child, 'exit');
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await waitForPort(port, () => child.exitCode !== null);
      return { name: 'mosquitto', pid: child.pid!, mqttPort: port, output: () => output, stop };
    } catch (error) {
      await stop();
      if (attempt >= 3) throw new Error(`mosquitto did not start: ${(error as Error).message}\n${output}`);
    }
  }
}

export const BROKER_PEERS: readonly BrokerPeer[] = [
  { name: 'ours', bridges: true, start: (options) => startOurs(options) },
  { name: 'aedes', bridges: false, start: (options) => startAedes(options) },
  { name: 'mosquitto', bridges: false, start: () => startMosquitto() },
  { name: 'fox-wamp', bridges: true, start: (options) => startFoxWamp(options) },
];

/** The WAMP floor server of the WAMP harness (a few lines on `ws`), for the idle WebSocket comparison. */
export async function startWampFloor(): Promise<{ url: string; server: ListeningProcess }> {
  const { server, captures } = await spawnListening(process.execPath, [dist('../peers/floor-server.js')], [/listening (\d+)/]);
  return { url: `ws://127.0.0.1:${captures[0]}`, server };
}
