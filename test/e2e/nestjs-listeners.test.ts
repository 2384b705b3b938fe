import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { describe, expect, it } from 'vitest';
import { RouterService } from '@fox-wamp/nestjs';
import { connectAutobahn, type AutobahnClient } from '../support/autobahn-client.js';
import { httpPortOf, wampUrlOf } from '../support/nest-app.js';
import { closedAfterEach, ListenerAppModule } from '../support/nest-listener-app.js';
import { refusedUpgrade } from '../support/raw-wamp-client.js';
import { makeSelfSignedCert } from '../support/self-signed-cert.js';
import { withTrustedCa } from '../support/trusting-websocket.js';

// Where WAMP listens inside a Nest app: a path of Nest's own HTTP server (Express or Fastify, sharing the
// port with controllers), a port of its own (plain or TLS), or Nest's https server. Each case is driven by
// a real autobahn client.

const { apps, clients } = closedAfterEach();

async function connect(url: string): Promise<AutobahnClient> {
  const client = await connectAutobahn(url, 'json');
  clients.push(client);
  return client;
}

async function listen(app: INestApplication): Promise<INestApplication> {
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('sharing Nest\'s HTTP port', () => {
  it('serves WAMP at a path of the Express server while a controller answers on the same port', async () => {
    const app = await listen(await NestFactory.create(ListenerAppModule.with({ wamp: { path: '/wamp' } }), { logger: false }));
    const port = httpPortOf(app);
    expect(wampUrlOf(app)).toBe(`ws://127.0.0.1:${port}/wamp`);
    const response = await fetch(`http://127.0.0.1:${port}/hello`);
    expect(await response.text()).toBe('Hello World!');
    const client = await connect(`ws://127.0.0.1:${port}/wamp`);
    expect(await client.session.call('service.echo', ['over express'])).toBe('over express');
  });

  it('serves WAMP at a path of the Fastify server while a controller answers on the same port', async () => {
    const app = await listen(
      await NestFactory.create(ListenerAppModule.with({ wamp: { path: '/wamp' } }), new FastifyAdapter(), { logger: false }),
    );
    const port = httpPortOf(app);
    expect(await (await fetch(`http://127.0.0.1:${port}/hello`)).text()).toBe('Hello World!');
    const client = await connect(wampUrlOf(app));
    expect(await client.session.call('service.echo', ['over fastify'])).toBe('over fastify');
  });

  it('answers 404 to a WebSocket upgrade at another path of the shared port', async () => {
    const app = await listen(await NestFactory.create(ListenerAppModule.with({ wamp: { path: '/wamp' } }), { logger: false }));
    const refusal = await refusedUpgrade(`ws://127.0.0.1:${httpPortOf(app)}/elsewhere`, 'wamp.2.json');
    expect(refusal.status).toBe(404);
  });

  it('speaks wss when Nest itself serves https', async () => {
    const { key, cert } = makeSelfSignedCert();
    const app = await listen(await NestFactory.create(ListenerAppModule.with({}), { logger: false, httpsOptions: { key, cert } }));
    const url = wampUrlOf(app);
    expect(url).toBe(`wss://127.0.0.1:${httpPortOf(app)}/ws`);
    const client = await withTrustedCa(cert, () => connect(url));
    expect(await client.session.call('service.echo', ['over nest https'])).toBe('over nest https');
  });
});

describe('a port of its own', () => {
  it('listens on its own port in an app that has no HTTP server at all', async () => {
    const context = await NestFactory.createApplicationContext(ListenerAppModule.with({ wamp: { port: 0 } }), { logger: false });
    apps.push(context);
    await context.init();
    const url = wampUrlOf(context);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    const client = await connect(url);
    expect(await client.session.call('service.echo', [{ deep: [1, 2] }])).toEqual({ deep: [1, 2] });
  });

  it('serves wss on its own port with the key and certificate given', async () => {
    const { key, cert } = makeSelfSignedCert();
    const context = await NestFactory.createApplicationContext(
      ListenerAppModule.with({ wamp: { port: 0, path: '/wss', https: { key, cert } } }),
      { logger: false },
    );
    apps.push(context);
    await context.init();
    const url = wampUrlOf(context);
    expect(url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/wss$/);
    const client = await withTrustedCa(cert, () => connect(url));
    expect(await client.session.call('service.echo', ['over tls'])).toBe('over tls');
  });

  it('runs a shared-port and an own-port listener side by side, both reaching the same handlers', async () => {
    const app = await listen(
      await NestFactory.create(ListenerAppModule.with({ wamp: [{ path: '/ws' }, { port: 0, path: '/ws' }] }), { logger: false }),
    );
    const listeners = app.get(RouterService).listeners;
    expect(listeners.map((listener) => listener.ownPort)).toEqual([false, true]);
    expect(listeners[0]!.url).toBe(`ws://127.0.0.1:${httpPortOf(app)}/ws`);
    expect(listeners[1]!.url).not.toBe(listeners[0]!.url);
    for (const listener of listeners) {
      const client = await connect(listener.url!);
      expect(await client.session.call('service.echo', [listener.url])).toBe(listener.url);
    }
  });

  it('fails the start with a clear message when WAMP should share a server the app does not have', async () => {
    const starting = NestFactory.createApplicationContext(ListenerAppModule.with({}), { logger: false, abortOnError: false });
    await expect(starting).rejects.toThrow(/no HTTP server to attach WAMP to/);
  });
});
