import 'reflect-metadata';
import { connect as tcpConnect } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { describe, expect, it } from 'vitest';
import { RouterService } from '@fox-wamp/nestjs';
import { connectAutobahn, withTimeout, type AutobahnClient } from '../support/autobahn-client.js';
import { httpPortOf, wampUrlOf } from '../support/nest-app.js';
import { closedAfterEach, ListenerAppModule } from '../support/nest-listener-app.js';
import { overRawSocket } from '../support/rawsocket-client.js';
import { makeSelfSignedCert } from '../support/self-signed-cert.js';

// FoxWampModule's `rawsocket` option: WAMP over RawSocket on a TCP port of its own (with or without an HTTP
// server in the app), or on Nest's own plain HTTP port, shared by first octet with the controllers and with
// WAMP over WebSocket. Driven by npm autobahn's RawSocket transport.

const { apps, clients } = closedAfterEach();

async function connectRawSocket(port: number): Promise<AutobahnClient> {
  const client = await connectAutobahn(`tcp://127.0.0.1:${port}`, 'json', 'realm1', overRawSocket(port));
  clients.push(client);
  return client;
}

async function listen(app: INestApplication): Promise<INestApplication> {
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return app;
}

function portOf(url: string | undefined): number {
  const match = /^tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(url ?? '');
  if (match === null) throw new Error(`not a RawSocket URL: ${String(url)}`);
  return Number(match[1]);
}

/** Whether a TCP connection to `port` is refused (nothing listens there any more). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('RawSocket on a port of its own', () => {
  it('serves an app that has no HTTP server at all, and releases the port at shutdown after GOODBYE', async () => {
    const context = await NestFactory.createApplicationContext(ListenerAppModule.with({ wamp: false, rawsocket: { port: 0 } }), { logger: false });
    await context.init();
    const [listener] = context.get(RouterService).rawSocketListeners;
    expect(listener).toMatchObject({ ownPort: true, url: expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/) });
    const port = portOf(listener!.url);

    const client = await connectRawSocket(port);
    expect(await client.session.call('service.echo', [{ over: 'rawsocket' }])).toEqual({ over: 'rawsocket' });
    expect(context.get(RouterService).rawSocketListeners[0]!.connectionCount).toBe(1);

    await context.close();
    // The router said GOODBYE (system shutdown) and autobahn answered it before the connection closed.
    const closed = await withTimeout(client.closed, 5_000, 'the RawSocket session to close');
    expect(closed.details.reason).toBe('wamp.close.system_shutdown');
    expect(await refused(port)).toBe(true);
  });

  it('runs next to WAMP over WebSocket in the same app, both reaching the same handlers', async () => {
    const app = await listen(await NestFactory.create(ListenerAppModule.with({ rawsocket: { port: 0 } }), { logger: false }));
    const rawSocket = await connectRawSocket(portOf(app.get(RouterService).rawSocketListeners[0]!.url));
    const webSocket = await connectAutobahn(wampUrlOf(app), 'cbor');
    clients.push(webSocket);
    expect(await rawSocket.session.call('service.echo', ['rs'])).toBe('rs');
    expect(await webSocket.session.call('service.echo', ['ws'])).toBe('ws');
  });
});

describe("RawSocket sharing Nest's HTTP port", () => {
  it.each([
    ['Express', () => NestFactory.create(ListenerAppModule.with({ rawsocket: {} }), { logger: false })],
    ['Fastify', () => NestFactory.create(ListenerAppModule.with({ rawsocket: {} }), new FastifyAdapter(), { logger: false })],
  ])('on %s: RawSocket, a controller and WAMP over WebSocket all answer on the one port', async (_platform, create) => {
    const app = await listen(await create());
    const port = httpPortOf(app);
    expect(app.get(RouterService).rawSocketListeners).toEqual([{ url: `tcp://127.0.0.1:${port}`, ownPort: false, connectionCount: 0 }]);

    const rawSocket = await connectRawSocket(port);
    expect(await rawSocket.session.call('service.echo', ['rs on the http port'])).toBe('rs on the http port');
    expect(await (await fetch(`http://127.0.0.1:${port}/hello`)).text()).toBe('Hello World!');
    const webSocket = await connectAutobahn(wampUrlOf(app), 'json');
    clients.push(webSocket);
    expect(await webSocket.session.call('service.echo', ['ws'])).toBe('ws');
  });

  it('refuses to share an https port (its connections are TLS from the first octet)', async () => {
    const { key, cert } = makeSelfSignedCert();
    const app = await NestFactory.create(ListenerAppModule.with({ rawsocket: {} }), { logger: false, httpsOptions: { key, cert }, abortOnError: false });
    apps.push(app);
    await expect(app.init()).rejects.toThrow(/plain HTTP port only/);
  });
});
