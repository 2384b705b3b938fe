import { once } from 'node:events';
import WebSocket from 'ws';
import { sleep } from '../support/clock.js';
import { rssKiB } from '../support/process-stats.js';
import { LeanMqttClient, withTimeout } from './lean-mqtt-client.js';

/**
 * Connections opened at once while filling a broker with idle ones. More overflow Mosquitto's listen backlog,
 * and every dropped SYN costs a second before the kernel retries it.
 */
const CONCURRENCY = 50;

export interface IdleResult {
  readonly connections: number;
  /** Broker RSS before and after the idle connections were opened, KiB. */
  readonly rssBeforeKiB: number;
  readonly rssAfterKiB: number;
  /** (after − before) / connections, in bytes. */
  readonly bytesPerConnection: number;
  readonly seconds: number;
}

interface Closable {
  close(): void;
}

/**
 * Opens `count` connections that then stay idle and reports how much the server process's RSS grew per
 * connection. RSS is read after a pause, so that buffers freed at the end of the handshakes are counted out.
 */
async function measureIdle(pid: number, count: number, open: (index: number) => Promise<Closable>): Promise<IdleResult> {
  await sleep(500);
  const rssBeforeKiB = rssKiB(pid);
  const started = Date.now();
  const open_: Closable[] = [];
  try {
    for (let i = 0; i < count; i += CONCURRENCY) {
      open_.push(...(await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count - i) }, (_, k) => open(i + k)))));
    }
    const seconds = (Date.now() - started) / 1000;
    await sleep(1000);
    const rssAfterKiB = rssKiB(pid);
    return { connections: count, rssBeforeKiB, rssAfterKiB, bytesPerConnection: ((rssAfterKiB - rssBeforeKiB) * 1024) / count, seconds };
  } finally {
    for (const connection of open_) connection.close();
  }
}

/** Idle MQTT 3.1.1 connections (CONNECT with keep alive 0, CONNACK, nothing else). */
export function idleMqtt(pid: number, port: number, count: number, username?: string): Promise<IdleResult> {
  return measureIdle(pid, count, async (index) => {
    const client = await LeanMqttClient.connect({ host: '127.0.0.1', port, ...(username === undefined ? {} : { username }) }, `idle-${index}`);
    return { close: () => client.destroy() };
  });
}

/** Idle WAMP sessions over WebSocket (JSON): HELLO, WELCOME, nothing else. */
export function idleWamp(pid: number, url: string, count: number): Promise<IdleResult> {
  return measureIdle(pid, count, async () => {
    const ws = new WebSocket(url, ['wamp.2.json'], { perMessageDeflate: false });
    ws.on('error', () => undefined);
    await withTimeout(once(ws, 'open'), 20_000, `WebSocket to ${url}`);
    const welcome = withTimeout(once(ws, 'message'), 20_000, 'WAMP WELCOME');
    ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {}, publisher: {} } }]));
    const [data] = (await welcome) as [Buffer];
    if (!data.toString('utf8').startsWith('[2,')) throw new Error(`WAMP join refused: ${data.toString('utf8')}`);
    return { close: () => ws.terminate() };
  });
}
