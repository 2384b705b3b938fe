import 'reflect-metadata';
import { once } from 'node:events';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule, type HealthCheckResult } from '@nestjs/terminus';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStoreProvider, type HistoryRetention, type RealmStore, type StoreProvider } from '@fox-wamp/core';
import { FoxWampModule, RouterService } from '@fox-wamp/nestjs';
import { FoxWampHealthIndicator, FoxWampHealthModule } from '@fox-wamp/nestjs/terminus';
import { connectAutobahn, deferred, Inbox, type AutobahnClient } from '../support/autobahn-client.js';
import { httpPortOf } from '../support/nest-app.js';
import { startServer, type RunningServer } from '../support/server-process.js';

// Liveness (/health) and readiness (/health/ready) of the standalone server, and the @nestjs/terminus
// indicator an application embedding FoxWampModule gets from `@fox-wamp/nestjs/terminus`.

const servers: RunningServer[] = [];
const clients: AutobahnClient[] = [];
let app: INestApplication | undefined;

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  await app?.close();
  app = undefined;
});

async function server(args: readonly string[] = []): Promise<RunningServer> {
  const running = await startServer(args);
  servers.push(running);
  return running;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Polls `url` until it answers `status` (readiness flips on an event inside the server, which no client sees). */
async function untilStatus(url: string, status: number, timeoutMs = 5_000): Promise<{ status: number; body: Record<string, unknown> }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await getJson(url);
    if (answer.status === status) return answer;
    if (Date.now() > deadline) throw new Error(`GET ${url} still answered ${answer.status} (not ${status}) after ${timeoutMs} ms: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('standalone server', () => {
  it('/health is live and /health/ready is ready with every listener listening and the store healthy', async () => {
    const running = await server();
    const live = await getJson(`${running.httpUrl}/health`);
    expect(live).toMatchObject({ status: 200, body: { status: 'ok', realms: ['realm1'] } });

    const ready = await getJson(`${running.httpUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', ready: true, problems: [], store: { description: 'memory', healthy: true } });
    expect(ready.body.listeners).toEqual([
      { kind: 'wamp', url: running.wampUrl, listening: true },
      { kind: 'rawsocket', url: `tcp://127.0.0.1:${running.port}`, listening: true },
      { kind: 'mqtt', url: running.mqttUrl, listening: true },
      { kind: 'mqtt-ws', url: running.mqttWsUrl, listening: true },
    ]);
  });

  it('readiness lists only the listeners that are on (--no-mqtt)', async () => {
    const running = await server(['--no-mqtt']);
    const ready = await getJson(`${running.httpUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect((ready.body.listeners as { kind: string }[]).map((listener) => listener.kind)).toEqual(['wamp', 'rawsocket']);
  });

  it('while shutdown waits for a call in flight, /health/ready answers 503 (shutting down) and /health stays 200', async () => {
    const running = await server();
    const callee = await connectAutobahn(running.wampUrl, 'json');
    clients.push(callee);
    const invoked = new Inbox<unknown>();
    const release = deferred<string>();
    await callee.session.register('health.slow', (args) => {
      invoked.push(args[0]);
      return release.promise;
    });
    const caller = await connectAutobahn(running.wampUrl, 'json');
    clients.push(caller);
    // Settled into a value, so a test that fails early leaves no unhandled rejection behind.
    const outcome = Promise.resolve(caller.session.call('health.slow', ['x'])).catch((error: unknown) => error);
    await invoked.waitFor(1);

    const exited = once(running.process, 'exit');
    running.process.kill('SIGTERM');
    const draining = await untilStatus(`${running.httpUrl}/health/ready`, 503);
    expect(draining.body).toMatchObject({ status: 'not ready', ready: false });
    // The listeners stopped accepting too: new clients are refused while the calls in flight finish.
    expect(draining.body.problems).toContain('the router is shutting down');
    expect(draining.body.problems).toContain('the mqtt listener is not listening');
    expect((await getJson(`${running.httpUrl}/health`)).status).toBe(200);

    // The call in flight still completes, then the server exits cleanly.
    release.resolve('done');
    expect(await outcome).toBe('done');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});

/** The memory store with a `healthy` flag a test can switch, as a networked store's would switch. */
class SwitchableStore implements StoreProvider {
  readonly description = 'switchable';
  healthy = true;
  private readonly inner = new MemoryStoreProvider();

  openRealm(realm: string, retention: HistoryRetention): RealmStore {
    return this.inner.openRealm(realm, retention);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

@Controller('health')
class TerminusHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly foxWamp: FoxWampHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.foxWamp.isHealthy()]);
  }
}

describe('FoxWampHealthIndicator (@nestjs/terminus) in an application', () => {
  async function startApp(store: StoreProvider, listen = true): Promise<INestApplication> {
    @Module({
      imports: [TerminusModule, FoxWampModule.forRoot({ store }), FoxWampHealthModule],
      controllers: [TerminusHealthController],
    })
    class HealthApp {}
    app = await NestFactory.create(HealthApp, { logger: false });
    if (listen) await app.listen(0, '127.0.0.1');
    else await app.init();
    return app;
  }

  it('is up with the listeners and the store, and down (503) with the problem when the store becomes unavailable', async () => {
    const store = new SwitchableStore();
    const started = await startApp(store);
    const url = `http://127.0.0.1:${httpPortOf(started)}/health`;

    const up = await getJson(url);
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({
      status: 'ok',
      info: { 'fox-wamp': { status: 'up', store: { description: 'switchable', healthy: true }, listeners: [{ kind: 'wamp', listening: true }] } },
    });

    store.healthy = false;
    const down = await getJson(url);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      status: 'error',
      error: { 'fox-wamp': { status: 'down', problems: ['the store switchable is unavailable'] } },
    });
  });

  it('is down before the Nest HTTP server listens: the WAMP endpoint on it is not reachable yet', async () => {
    const started = await startApp(new SwitchableStore(), false);
    const result = started.get(FoxWampHealthIndicator).isHealthy('router');
    expect(result).toMatchObject({ router: { status: 'down', problems: ['the wamp listener is not listening'] } });
    expect(started.get(RouterService).readiness().ready).toBe(false);
  });
});
