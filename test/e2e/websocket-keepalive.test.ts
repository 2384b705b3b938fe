import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../support/server-process.js';

/** A WAMP-over-JSON WebSocket client joined to realm1; `autoPong: false` plays a peer that stopped answering. */
async function joinedSocket(url: string, autoPong: boolean): Promise<WebSocket> {
  const ws = new WebSocket(url, ['wamp.2.json'], { autoPong });
  await once(ws, 'open');
  ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
  const [data] = (await once(ws, 'message')) as [Buffer];
  expect(JSON.parse(data.toString())[0]).toBe(2);
  return ws;
}

async function sessionCount(server: RunningServer): Promise<number> {
  const response = await fetch(`${server.httpUrl}/health`);
  return ((await response.json()) as { sessions: number }).sessions;
}

/** The server drops a session when it sees the socket close, which may be a moment after the client does. */
async function sessionCountBecomes(server: RunningServer, expected: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  let count = await sessionCount(server);
  while (count !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    count = await sessionCount(server);
  }
  return count;
}

describe('WebSocket ping keep-alive', () => {
  let server: RunningServer;
  /** Sessions with no client connected (the in-process RealmService has one). */
  let baseline: number;

  beforeAll(async () => {
    server = await startServer(['--ping-interval', '200']);
    baseline = await sessionCount(server);
  });

  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('keeps a peer that answers pings, across several intervals', async () => {
    const ws = await joinedSocket(server.wampUrl, true);
    for (let i = 0; i < 3; i++) await once(ws, 'ping');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    await once(ws, 'close');
    expect(await sessionCountBecomes(server, baseline)).toBe(baseline);
  });

  it('drops a peer that stops answering pings, and its session leaves the realm', async () => {
    const silent = await joinedSocket(server.wampUrl, false);
    expect(await sessionCount(server)).toBe(baseline + 1);
    await once(silent, 'ping');
    const [code] = (await once(silent, 'close')) as [number];
    // Terminated without a close frame: the client sees an abnormal closure.
    expect(code).toBe(1006);
    expect(await sessionCountBecomes(server, baseline)).toBe(baseline);
  });
});
