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

describe('WebSocket ping keep-alive', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer(['--ping-interval', '200']);
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
  });

  it('drops a peer that stops answering pings, and its session leaves the realm', async () => {
    const before = await sessionCount(server);
    const silent = await joinedSocket(server.wampUrl, false);
    expect(await sessionCount(server)).toBe(before + 1);
    await once(silent, 'ping');
    const [code] = (await once(silent, 'close')) as [number];
    // Terminated without a close frame: the client sees an abnormal closure.
    expect(code).toBe(1006);
    expect(await sessionCount(server)).toBe(before);
  });
});
