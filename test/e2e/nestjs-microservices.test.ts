import 'reflect-metadata';
import { Controller, Inject, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException, type MicroserviceOptions } from '@nestjs/microservices';
import { from, lastValueFrom, toArray, type Observable } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FoxWampModule, RouterError, RouterService, WampException } from '@fox-wamp/nestjs';
import { FoxWampClient, FoxWampContext, FoxWampStrategy } from '@fox-wamp/nestjs/microservices';
import {
  autobahn,
  callWithProgress,
  connectAutobahn,
  Inbox,
  rejectionOf,
  type AutobahnClient,
  type InvocationDetails,
} from '../support/autobahn-client.js';
import { wampUrlOf } from '../support/nest-app.js';

// The @nestjs/microservices bridge: @MessagePattern / @EventPattern handlers of a hybrid app serve WAMP
// procedures and topics through FoxWampStrategy, and FoxWampClient (a ClientProxy) calls and publishes
// through the same router. Remote peers are autobahn clients.

const WAMP_CLIENT = 'WAMP_CLIENT';
const events = new Inbox<unknown>();

@Controller()
class MathController {
  @MessagePattern('ms.add')
  add(@Payload() data: { a: number; b: number }): number {
    return data.a + data.b;
  }

  @MessagePattern('ms.count', { concurrency: 2 })
  count(@Payload() n: number): Observable<number> {
    return from(Array.from({ length: n }, (_, index) => index + 1));
  }

  @MessagePattern('ms.where')
  where(@Ctx() context: FoxWampContext): unknown {
    return { uri: context.getUri(), realm: context.getWampContext().realm };
  }

  @MessagePattern('ms.fail')
  fail(): never {
    throw new RpcException(new WampException('app.error.ms', ['refused'], { code: 7 }));
  }

  @MessagePattern('ms.crash')
  crash(): never {
    throw new Error('internal detail');
  }

  @EventPattern('ms.event')
  onEvent(@Payload() data: unknown): void {
    events.push(data);
  }
}

@Module({
  imports: [FoxWampModule.forRoot({})],
  controllers: [MathController],
  providers: [{ provide: WAMP_CLIENT, useFactory: (router: RouterService) => new FoxWampClient(router), inject: [RouterService] }],
})
class AppModule {
  constructor(@Inject(WAMP_CLIENT) readonly client: FoxWampClient) {}
}

let app: INestApplication;
let url: string;
const clients: AutobahnClient[] = [];

beforeAll(async () => {
  app = await NestFactory.create(AppModule, { logger: false });
  app.connectMicroservice<MicroserviceOptions>({ strategy: new FoxWampStrategy(app.get(RouterService)) });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  url = wampUrlOf(app);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await app.close();
});

async function connect(): Promise<AutobahnClient> {
  const client = await connectAutobahn(url, 'json');
  clients.push(client);
  return client;
}

const wampClient = () => app.get<FoxWampClient>(WAMP_CLIENT);

describe('FoxWampStrategy', () => {
  it('serves a @MessagePattern handler as a WAMP procedure, with the one arg as its data', async () => {
    const client = await connect();
    expect(await client.session.call('ms.add', [{ a: 2, b: 3 }])).toBe(5);
  });

  it('sends all but the last value of a returned Observable as progressive results', async () => {
    const client = await connect();
    const { progress, result } = callWithProgress(client.session, 'ms.count', [3]);
    expect(await result).toBe(3);
    expect(progress).toEqual([1, 2]);
  });

  it('takes concurrency from the decorator\'s extras', () => {
    const registration = [...app.get(RouterService).defaultRealm.dealer.registrations()].find((entry) => entry.uri === 'ms.count');
    expect(registration?.callees.map((callee) => callee.concurrency)).toEqual([2]);
  });

  it('gives a handler its FoxWampContext through @Ctx()', async () => {
    const client = await connect();
    expect(await client.session.call('ms.where')).toEqual({ uri: 'ms.where', realm: 'realm1' });
  });

  it('answers an RpcException carrying a WampException with that URI, args and kwargs', async () => {
    const client = await connect();
    const error = await rejectionOf(client.session.call('ms.fail'));
    expect([error.error, error.args, error.kwargs]).toEqual(['app.error.ms', ['refused'], { code: 7 }]);
  });

  it('masks an unexpected error as wamp.error.runtime_error "Internal server error", as Nest\'s RPC filter does', async () => {
    const client = await connect();
    const error = await rejectionOf(client.session.call('ms.crash'));
    expect([error.error, error.args]).toEqual(['wamp.error.runtime_error', ['Internal server error']]);
  });

  it('delivers WAMP publications to an @EventPattern handler', async () => {
    const client = await connect();
    client.session.publish('ms.event', [{ n: 1 }]);
    client.session.publish('ms.event', [], { k: 'v' });
    expect(await events.waitFor(2)).toEqual([{ n: 1 }, { k: 'v' }]);
  });
});

describe('FoxWampClient', () => {
  it('calls a procedure a remote client registered, and gets its result', async () => {
    const remote = await connect();
    await remote.session.register('remote.mul', (args) => {
      const { x, y } = args[0] as { x: number; y: number };
      return x * y;
    });
    expect(await lastValueFrom(wampClient().send('remote.mul', { x: 3, y: 4 }))).toBe(12);
  });

  it('emits progressive results as further values of the stream', async () => {
    const remote = await connect();
    await remote.session.register('remote.steps', async (_args, _kwargs, details: InvocationDetails) => {
      details.progress?.(['one']);
      details.progress?.(['two']);
      return 'three';
    });
    expect(await lastValueFrom(wampClient().send('remote.steps', {}).pipe(toArray()))).toEqual(['one', 'two', 'three']);
  });

  it('fails the stream with the callee\'s error URI, args and kwargs', async () => {
    const remote = await connect();
    await remote.session.register('remote.fail', () => {
      throw new autobahn.Error('app.error.remote', ['bad input'], { field: 'x' });
    });
    const error = await lastValueFrom(wampClient().send('remote.fail', {})).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(RouterError);
    expect([(error as RouterError).uri, (error as RouterError).args, (error as RouterError).kwargs]).toEqual([
      'app.error.remote',
      ['bad input'],
      { field: 'x' },
    ]);
  });

  it('publishes with emit() to remote subscribers', async () => {
    const remote = await connect();
    const received = new Inbox<unknown[]>();
    await remote.session.subscribe('remote.news', (args) => received.push(args));
    await lastValueFrom(wampClient().emit('remote.news', { headline: 'fox' }), { defaultValue: undefined });
    expect(await received.waitFor(1)).toEqual([[{ headline: 'fox' }]]);
  });

  it('reaches the app\'s own @MessagePattern handlers through the router', async () => {
    expect(await lastValueFrom(wampClient().send('ms.add', { a: 20, b: 22 }))).toBe(42);
  });
});
