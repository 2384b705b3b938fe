import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LocalClient, Router, WampWebSocketListener, type Session } from '@fox-wamp/core';

// The overflow policy of the WebSocket transport, driven in process: the listener runs on a plain HTTP
// server with a small send-buffer bound, so a subscriber that stops reading passes it quickly.

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(maxBufferedBytes: number): Promise<{ router: Router; url: string }> {
  const router = new Router({ realms: ['realm1'] });
  const server: Server = createServer();
  const listener = new WampWebSocketListener(router, server, { path: '/ws', maxBufferedBytes, pingIntervalMs: 0 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    listener.close();
    server.close();
    await router.close();
  });
  return { router, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws` };
}

async function subscriber(url: string, topic: string): Promise<WebSocket> {
  const ws = new WebSocket(url, ['wamp.2.json']);
  cleanups.push(() => ws.terminate());
  await once(ws, 'open');
  ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
  await once(ws, 'message');
  ws.send(JSON.stringify([32, 1, {}, topic]));
  await once(ws, 'message');
  return ws;
}

describe('a subscriber that stops reading', () => {
  it('is disconnected once its send buffer passes the bound, while a reading subscriber gets every event', async () => {
    const { router, url } = await listen(256 * 1024);
    const realm = router.getRealm('realm1')!;
    const stalled = await subscriber(url, 'flood');
    const reading = await subscriber(url, 'flood');
    let received = 0;
    reading.on('message', () => received++);
    const left = new Promise<Session>((resolve) => realm.onSessionLeave(resolve));
    // Stop reading: the kernel buffers fill, then the router's send buffer for this socket grows.
    (stalled as unknown as { _socket: { pause(): void } })._socket.pause();

    const publisher = new LocalClient(realm);
    const payload = ['x'.repeat(1024)];
    let sent = 0;
    let gone: Session | undefined;
    void left.then((session) => (gone = session));
    // Publish in slices of 64 KiB (a quarter of the bound, so a reading peer always keeps up between
    // slices), yielding so sockets can flush, until the stalled session is dropped (bounded: 200 MiB).
    while (gone === undefined && sent < 200_000) {
      for (let i = 0; i < 64; i++, sent++) await publisher.publish('flood', payload);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(gone).toBeDefined();
    expect(gone!.info.protocol).toBe('wamp');
    // Far fewer events than 200 MiB's worth were needed: the bound, not memory, decided.
    expect(sent).toBeLessThan(200_000);
    // The reading subscriber was never dropped and catches up on every event.
    await publisher.publish('flood', ['last']);
    const expected = sent + 1;
    while (received < expected) await once(reading, 'message');
    expect(received).toBe(expected);
    expect(reading.readyState).toBe(WebSocket.OPEN);
  });
});
