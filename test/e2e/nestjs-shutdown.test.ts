import 'reflect-metadata';
import { Injectable, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Args, FoxWampModule, RouterService, WampProcedure, type FoxWampModuleOptions } from '@fox-wamp/nestjs';
import { connectAutobahn, deferred, Inbox, rejectionOf, type AutobahnClient, type Deferred } from '../support/autobahn-client.js';
import { until, wampUrlOf } from '../support/nest-app.js';
import { RawWampClient, refusedUpgrade, WampCode } from '../support/raw-wamp-client.js';

// Graceful shutdown with real clients: app.close() first lets calls in flight finish (their results reach
// the callers), refusing new connections and new calls meanwhile; then every session gets GOODBYE
// wamp.close.system_shutdown; then the listeners close.

/** Lets a test hold a handler mid-call and see that it started. */
@Injectable()
class Gate {
  readonly started = new Inbox<unknown>();
  release: Deferred<void> = deferred();
}

@Injectable()
class SlowService {
  constructor(private readonly gate: Gate) {}

  @WampProcedure('slow.op')
  async op(@Args(0) value: unknown): Promise<string> {
    this.gate.started.push(value);
    await this.gate.release.promise;
    return `done ${String(value)}`;
  }
}

@Module({})
class AppModule {
  static with(options: FoxWampModuleOptions): DynamicModule {
    return { module: AppModule, imports: [FoxWampModule.forRoot(options)], providers: [Gate, SlowService] };
  }
}

let app: INestApplication | undefined;
const clients: AutobahnClient[] = [];
const rawClients: RawWampClient[] = [];

afterEach(async () => {
  app?.get(Gate).release.resolve();
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
  for (const client of rawClients.splice(0)) client.terminate();
  await app?.close();
  app = undefined;
});

async function startApp(options: FoxWampModuleOptions = {}): Promise<INestApplication> {
  app = await NestFactory.create(AppModule.with(options), { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

async function connect(url: string): Promise<AutobahnClient> {
  const client = await connectAutobahn(url, 'json');
  clients.push(client);
  return client;
}

describe('graceful shutdown', () => {
  it('delivers the result of a call in flight when app.close() is called mid-call, then says GOODBYE system_shutdown', async () => {
    const started = await startApp();
    const url = wampUrlOf(started);
    const gate = started.get(Gate);
    const client = await connect(url);
    const timeline: string[] = [];
    const call = Promise.resolve(client.session.call('slow.op', ['order-1'])).then((result) => {
      timeline.push(`result ${String(result)}`);
      return result;
    });
    void client.closed.then((info) => timeline.push(`closed ${info.details.reason}`));
    await gate.started.waitFor(1);

    const closing = started.close();
    await until(() => started.get(RouterService).isDraining, 'the shutdown to begin');
    expect(timeline).toEqual([]);
    gate.release.resolve();

    expect(await call).toBe('done order-1');
    const closed = await client.closed;
    expect(closed.details.reason).toBe('wamp.close.system_shutdown');
    await closing;
    app = undefined;
    expect(timeline).toEqual(['result done order-1', 'closed wamp.close.system_shutdown']);
  });

  it('refuses new connections and new calls to in-process handlers while calls drain', async () => {
    const started = await startApp();
    const url = wampUrlOf(started);
    const gate = started.get(Gate);
    const busy = await connect(url);
    const other = await connect(url);
    const inFlight = Promise.resolve(busy.session.call('slow.op', ['first']));
    await gate.started.waitFor(1);

    const closing = started.close();
    await until(() => started.get(RouterService).isDraining, 'the shutdown to begin');
    expect((await refusedUpgrade(url, 'wamp.2.json')).status).toBe(404);
    const refused = await rejectionOf(other.session.call('slow.op', ['late']));
    expect(refused.error).toBe('wamp.error.canceled');
    expect(refused.args).toEqual(['the service is shutting down']);
    expect(gate.started.items).toEqual(['first']);

    gate.release.resolve();
    expect(await inFlight).toBe('done first');
    await closing;
    app = undefined;
    expect((await other.closed).details.reason).toBe('wamp.close.system_shutdown');
  });

  it('stops waiting for a call that never finishes after drainTimeoutMs, and still closes every session', async () => {
    const started = await startApp({ drainTimeoutMs: 200 });
    const gate = started.get(Gate);
    const client = await connect(wampUrlOf(started));
    void Promise.resolve(client.session.call('slow.op', ['stuck'])).catch(() => undefined);
    await gate.started.waitFor(1);

    await started.close();
    app = undefined;
    expect((await client.closed).details.reason).toBe('wamp.close.system_shutdown');
  });

  it('cuts off a client that never answers GOODBYE after shutdownTimeoutMs, so the app can finish closing', async () => {
    const started = await startApp({ shutdownTimeoutMs: 200 });
    const raw = await RawWampClient.joined(wampUrlOf(started), 'realm1');
    rawClients.push(raw);

    await started.close();
    app = undefined;
    const goodbye = await raw.nextMessage();
    expect([goodbye[0], goodbye[2]]).toEqual([WampCode.GOODBYE, 'wamp.close.system_shutdown']);
    await raw.closedWithin(1_000);
    expect(raw.isOpen).toBe(false);
  });
});
