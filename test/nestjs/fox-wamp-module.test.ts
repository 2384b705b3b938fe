import 'reflect-metadata';
import { Controller, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Args,
  Details,
  FoxWampModule,
  InjectRealm,
  Kwargs,
  RealmService,
  RouterService,
  WampCtx,
  WampProcedure,
  WampResult,
  WampSubscribe,
  WampUri,
  type FoxWampModuleOptions,
  type LocalEvent,
  WampContext,
  FOX_WAMP_STORE,
  type StoreProvider,
} from '@fox-wamp/nestjs';
import { deferred, Inbox, type Deferred } from '../support/autobahn-client.js';
import { routerErrorOf } from '../support/router-error-of.js';

// In-process tests: no listener (`wamp: false`); calls and publications go through RealmService, which is
// a session of the same router, so every decorated handler is reached exactly as a remote client would.

let context: INestApplicationContext | undefined;

afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function start(imports: unknown[], providers: unknown[] = [], controllers: unknown[] = []): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: imports as never[],
    providers: providers as never[],
    controllers: controllers as never[],
  }).compile();
  context = await moduleRef.init();
  return context;
}

const inProcess = (options: FoxWampModuleOptions = {}) => FoxWampModule.forRoot({ wamp: false, ...options });

describe('decorator discovery', () => {
  const events = new Inbox<{ topic: string; args: unknown[]; kwargs: Record<string, unknown> }>();

  @Injectable()
  class MathService {
    @WampProcedure('math.add')
    add(@Args(0) a: number, @Args(1) b: number): number {
      return a + b;
    }

    @WampProcedure('math.divmod')
    divmod(@Kwargs('n') n: number, @Kwargs('d') d: number): WampResult {
      return new WampResult([Math.floor(n / d), n % d], { n, d });
    }

    @WampProcedure('math.noop')
    noop(): void {}

    @WampProcedure('math.describe')
    @WampProcedure('math.describe.alias')
    describe(@WampUri() uri: string, @WampCtx() ctx: WampContext, @Details() details: Record<string, unknown>): unknown {
      return { uri, kind: ctx.kind, realm: ctx.realm, detailsIsObject: typeof details === 'object' };
    }
  }

  @Controller()
  class KeyController {
    @WampSubscribe('key.#')
    onKey(@WampUri() topic: string, @Args() args: unknown[], @Kwargs() kwargs: Record<string, unknown>): void {
      events.push({ topic, args, kwargs });
    }

    @WampProcedure('key.echo', { match: 'prefix' })
    echo(@WampUri() uri: string, @Args() args: unknown[]): unknown[] {
      return [uri, ...args];
    }
  }

  it('serves @WampProcedure methods of providers with plain, WampResult and empty results', async () => {
    const app = await start([inProcess()], [MathService]);
    const realm = app.get(RealmService);
    expect(await realm.call('math.add', [2, 3])).toEqual({ args: [5], kwargs: {} });
    expect(await realm.call('math.divmod', [], { n: 17, d: 5 })).toEqual({ args: [3, 2], kwargs: { n: 17, d: 5 } });
    expect(await realm.call('math.noop')).toEqual({ args: [], kwargs: {} });
  });

  it('serves one method under several URIs and injects the URI, the WampContext and the details', async () => {
    const app = await start([inProcess()], [MathService]);
    const realm = app.get(RealmService);
    const expected = (uri: string) => ({ uri, kind: 'call', realm: 'realm1', detailsIsObject: true });
    expect((await realm.call('math.describe')).args[0]).toEqual(expected('math.describe'));
    expect((await realm.call('math.describe.alias')).args[0]).toEqual(expected('math.describe.alias'));
  });

  it('finds @WampSubscribe and pattern @WampProcedure methods on controllers', async () => {
    const app = await start([inProcess()], [], [KeyController]);
    const realm = app.get(RealmService);
    await realm.publish('key.a.b', ['x'], { n: 1 });
    await realm.publish('key', ['root']);
    await realm.publish('other.topic', ['ignored']);
    await realm.publish('key.c', ['last']);
    const received = await events.waitFor(3);
    expect(received).toEqual([
      { topic: 'key.a.b', args: ['x'], kwargs: { n: 1 } },
      { topic: 'key', args: ['root'], kwargs: {} },
      { topic: 'key.c', args: ['last'], kwargs: {} },
    ]);
    expect((await realm.call('key.echo.deep', [1])).args[0]).toEqual(['key.echo.deep', 1]);
  });

  it('fails the application start with the method named when a decorator has an invalid URI', async () => {
    @Injectable()
    class Broken {
      @WampProcedure('not a uri!')
      broken(): void {}
    }
    await expect(start([inProcess()], [Broken])).rejects.toThrow(/@WampProcedure\('not a uri!'\) on Broken\.broken: .*invalid procedure URI/);
  });
});

describe('concurrency', () => {
  it('serves a @WampProcedure with concurrency 1 one call at a time, in arrival order', async () => {
    const started = new Inbox<number>();
    const gates = new Map<number, Deferred<void>>();
    let active = 0;
    let maxActive = 0;

    @Injectable()
    class Slow {
      @WampProcedure('slow.one', { concurrency: 1 })
      async one(@Args(0) n: number): Promise<number> {
        active++;
        maxActive = Math.max(maxActive, active);
        started.push(n);
        await gates.get(n)!.promise;
        active--;
        return n * 10;
      }
    }

    const app = await start([inProcess()], [Slow]);
    const realm = app.get(RealmService);
    for (const n of [1, 2, 3]) gates.set(n, deferred());
    const results = [1, 2, 3].map((n) => realm.call('slow.one', [n]));
    for (const n of [1, 2, 3]) {
      await started.waitFor(n);
      gates.get(n)!.resolve();
    }
    expect((await Promise.all(results)).map((result) => result.args[0])).toEqual([10, 20, 30]);
    expect(started.items).toEqual([1, 2, 3]);
    expect(maxActive).toBe(1);
  });
});

describe('realms', () => {
  @Injectable()
  class AdminService {
    constructor(
      @InjectRealm('admin') readonly admin: RealmService,
      @InjectRealm() readonly main: RealmService,
      readonly plain: RealmService,
    ) {}

    @WampProcedure('admin.status', { realm: 'admin' })
    status(): string {
      return 'ok';
    }
  }

  it('injects a RealmService per named realm with @InjectRealm, and the default one without a name', async () => {
    const app = await start([inProcess({ realms: ['realm1', 'admin'] })], [AdminService]);
    const service = app.get(AdminService);
    expect(service.admin.realmName).toBe('admin');
    expect(service.main.realmName).toBe('realm1');
    expect(service.main).toBe(service.plain);
    const routerService = app.get(RouterService);
    expect(routerService.realms().map((realm) => realm.name).sort()).toEqual(['admin', 'realm1']);
    // In process: the RealmService sessions and one session per realm for the decorated handlers.
    expect(routerService.sessions('admin').map((session) => session.info.authid).sort()).toEqual(['nestjs', 'nestjs-handlers']);
    expect(routerService.sessions().map((session) => session.id)).toContain(service.main.sessionId);
  });

  it('registers a handler in the realm its options name, and only there', async () => {
    const app = await start([inProcess({ realms: ['realm1', 'admin'] })], [AdminService]);
    const service = app.get(AdminService);
    expect((await service.admin.call('admin.status')).args).toEqual(['ok']);
    expect((await routerErrorOf(service.main.call('admin.status'))).uri).toBe('wamp.error.no_such_procedure');
  });

  it('delivers a RealmService publication to the same app\'s @WampSubscribe handler (separate sessions)', async () => {
    const inbox = new Inbox<LocalEvent | unknown[]>();
    @Injectable()
    class Listener {
      @WampSubscribe('news.today')
      onNews(@Args() args: unknown[]): void {
        inbox.push(args);
      }
    }
    const app = await start([inProcess()], [Listener]);
    await app.get(RealmService).publish('news.today', ['hello']);
    expect(await inbox.waitFor(1)).toEqual([['hello']]);
  });
});

describe('forRootAsync', () => {
  @Injectable()
  class Echo {
    @WampProcedure('cfg.echo')
    echo(@Args(0) value: unknown): unknown {
      return value;
    }
  }

  const configuration = () => ({ wamp: { realm: 'configured.realm' } });

  it('takes its options from ConfigService with useFactory', async () => {
    const app = await start(
      [
        ConfigModule.forRoot({ load: [configuration], ignoreEnvFile: true }),
        FoxWampModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ realms: [config.getOrThrow<string>('wamp.realm')], wamp: false }),
        }),
      ],
      [Echo],
    );
    const realm = app.get(RealmService);
    expect(realm.realmName).toBe('configured.realm');
    expect((await realm.call('cfg.echo', ['via config'])).args).toEqual(['via config']);
  });

  it('takes its options from a class with useClass, and provides the realms it names for @InjectRealm', async () => {
    @Injectable()
    class WampConfig {
      constructor(private readonly config: ConfigService) {}
      create(): FoxWampModuleOptions {
        return { realms: [this.config.getOrThrow<string>('wamp.realm')], wamp: false };
      }
    }
    @Module({ imports: [ConfigModule], providers: [WampConfig], exports: [WampConfig] })
    class WampConfigModule {}

    @Injectable()
    class UsesAudit {
      constructor(@InjectRealm('audit') readonly audit: RealmService) {}
    }

    const app = await start(
      [
        ConfigModule.forRoot({ load: [configuration], ignoreEnvFile: true, isGlobal: true }),
        FoxWampModule.forRootAsync({ imports: [WampConfigModule], useClass: WampConfig, realms: ['audit'] }),
      ],
      [Echo, UsesAudit],
    );
    expect(app.get(RealmService).realmName).toBe('configured.realm');
    expect(app.get(UsesAudit).audit.realmName).toBe('audit');
    expect((await app.get(RealmService).call('cfg.echo', [42])).args).toEqual([42]);
  });
});

describe('retained and filtered subscriptions', () => {
  it('replays matching retained entries to @WampSubscribe({ retained: true }) first, and only to it', async () => {
    const withReplay = new Inbox<string>();
    const liveOnly = new Inbox<string>();
    @Injectable()
    class KeyState {
      @WampSubscribe('key.#', { retained: true })
      onState(@WampUri() topic: string, @Args(0) value: unknown, @Details('retained') retained?: boolean): void {
        withReplay.push(`${topic}=${String(value)}${retained ? ' (retained)' : ''}`);
      }

      @WampSubscribe('key.#')
      onLive(@WampUri() topic: string, @Args(0) value: unknown): void {
        liveOnly.push(`${topic}=${String(value)}`);
      }
    }
    // A factory provider runs before any module init, so these entries exist before the handlers subscribe.
    const seed = {
      provide: 'SEED',
      inject: [RealmService],
      useFactory: async (realm: RealmService) => {
        await realm.publish('key.a', ['A'], undefined, { retain: true });
        await realm.publish('key.b', ['B'], undefined, { retain: true });
      },
    };
    const app = await start([inProcess()], [seed, KeyState]);
    expect([...(await withReplay.waitFor(2))].sort()).toEqual(['key.a=A (retained)', 'key.b=B (retained)']);
    await app.get(RealmService).publish('key.c', ['C']);
    expect((await withReplay.waitFor(3))[2]).toBe('key.c=C');
    expect(await liveOnly.waitFor(1)).toEqual(['key.c=C']);
  });

  it('delivers only the events whose value matches a @WampSubscribe filter', async () => {
    const posts = new Inbox<unknown>();
    @Injectable()
    class PostWatcher {
      @WampSubscribe('feed.#', { filter: { type: 'post', likes: { $gte: 10 } } })
      onPost(@Kwargs('title') title: string): void {
        posts.push(title);
      }
    }
    const app = await start([inProcess()], [PostWatcher]);
    const realm = app.get(RealmService);
    await realm.publish('feed.a', [], { type: 'comment', likes: 50, title: 'a comment' });
    await realm.publish('feed.b', [], { type: 'post', likes: 3, title: 'an unloved post' });
    await realm.publish('feed.c', [], { type: 'post', likes: 12, title: 'a liked post' });
    // Deliveries keep publication order: had either earlier event passed the filter, it would be first.
    expect(await posts.waitFor(1)).toEqual(['a liked post']);
  });
});

describe('retained reads and the store', () => {
  it('reads retained entries through RealmService, one topic or a pattern', async () => {
    const realm = (await start([inProcess()])).get(RealmService);
    await realm.publish('sensor.t1', [21.5], undefined, { retain: true });
    await realm.publish('sensor.t2', [], { celsius: 19 }, { retain: true });
    await realm.publish('sensor.t3', ['not kept']);
    const one = await realm.retained('sensor.t1');
    expect([one?.topic, one?.payload.args, one?.publisherId]).toEqual(['sensor.t1', [21.5], realm.sessionId]);
    expect(await realm.retained('sensor.t3')).toBeUndefined();
    const all = await realm.findRetained('sensor.#');
    expect(all.map((entry) => entry.topic).sort()).toEqual(['sensor.t1', 'sensor.t2']);
  });

  it('takes a mutex with RealmService.lock and conditional publishes, and hands it over on release', async () => {
    const realm = (await start([inProcess()])).get(RealmService);
    const release = await realm.lock('jobs.nightly', { job: 'report' });
    expect((await realm.retained('jobs.nightly'))?.payload.kwargs).toMatchObject({ job: 'report' });
    // While held, a `when: null` publish is refused, and a second lock() waits its turn.
    expect((await routerErrorOf(realm.publish('jobs.nightly', ['other'], undefined, { retain: true, when: null }))).uri).toBe(
      'fox.error.condition_not_met',
    );
    let second = false;
    const secondLock = realm.lock('jobs.nightly', { job: 'second' }).then((releaseSecond) => {
      second = true;
      return releaseSecond;
    });
    await realm.realm.settled();
    expect(second).toBe(false);
    await release();
    const releaseSecond = await secondLock;
    expect((await realm.retained('jobs.nightly'))?.payload.kwargs).toMatchObject({ job: 'second' });
    await releaseSecond();
    expect(await realm.retained('jobs.nightly')).toBeUndefined();
  });

  it('provides the router\'s store under FOX_WAMP_STORE', async () => {
    const app = await start([inProcess()]);
    const store = app.get<StoreProvider>(FOX_WAMP_STORE);
    expect(store).toBe(app.get(RouterService).router.store);
    expect(store.description).toBe('memory');
  });
});
