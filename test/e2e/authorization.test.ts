import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Errors } from 'wampy';
import { ErrorUri, type AuthorizeDecision, type AuthorizeRequest, type RealmRoles } from '@fox-wamp/core';
import { FoxWampModule, RouterService } from '@fox-wamp/nestjs';
import {
  AutobahnClients,
  Inbox,
  rejectionOf,
  type AutobahnClient,
  type EventDetails,
  type InvocationDetails,
} from '../support/autobahn-client.js';
import { wampUrlOf } from '../support/nest-app.js';
import { runServerToExit, startServer, type RunningServer } from '../support/server-process.js';
import { WampyClients } from '../support/wampy-client.js';

// Authorization end to end. Static role permissions from the config file of the built server (every action,
// exact / prefix / wildcard permissions, pattern requests, disclosure), with npm autobahn and wampy; and the
// decision cache in front of an application's authorize hook, with its invalidation, in a Nest app.

const ALL = { call: true, register: true, publish: true, subscribe: true };

const ROLES: RealmRoles = {
  realm1: {
    member: [
      { uri: 'com.shop.', match: 'prefix', allow: { call: true, subscribe: true } },
      // The longer prefix wins over com.shop.: nothing is allowed below com.shop.admin.
      { uri: 'com.shop.admin.', match: 'prefix', allow: {} },
      { uri: 'com.shop.orders.place', allow: { call: true }, disclose: { caller: true } },
      { uri: 'com.shop.news', allow: { publish: true, subscribe: true }, disclose: { publisher: true } },
      { uri: 'com.sensor..temp', match: 'wildcard', allow: { publish: true, subscribe: true } },
      { uri: 'wamp.session.count', allow: { call: true } },
    ],
    admin: [{ uri: '', match: 'prefix', allow: ALL }],
    anonymous: [{ uri: 'com.public.', match: 'prefix', allow: { subscribe: true } }],
  },
};

const CONFIG = {
  realms: ['open'],
  anonymous: true,
  users: [
    { authid: 'alice', ticket: 'alice-ticket', role: 'member' },
    { authid: 'bob', ticket: 'bob-ticket', role: 'admin' },
    { authid: 'eve', ticket: 'eve-ticket', role: 'intruder' },
  ],
  roles: ROLES,
};

describe('static role permissions from the config file', () => {
  let dir: string;
  let server: RunningServer;
  const clients = new AutobahnClients(() => server.wampUrl);

  function configFile(name: string, config: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(config));
    return path;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fox-wamp-roles-'));
    server = await startServer(['--config', configFile('roles.json', CONFIG)]);
  });

  afterEach(() => clients.closeAll());

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function login(authid: 'alice' | 'bob' | 'eve', realm = 'realm1'): Promise<AutobahnClient> {
    return clients.connect('json', realm, { authmethods: ['ticket'], authid, onchallenge: () => `${authid}-ticket` });
  }

  /** The error URI a refused request rejects with (fails if it succeeds). */
  async function refusal(request: PromiseLike<unknown> | undefined): Promise<string> {
    return (await rejectionOf(request)).error;
  }

  const published = (client: AutobahnClient, topic: string, args: unknown[] = []) =>
    client.session.publish(topic, args, {}, { acknowledge: true });

  it('decides call, register, publish and subscribe by the most specific permission; denials are wamp.error.not_authorized', async () => {
    const bob = await login('bob');
    const alice = await login('alice');
    await bob.session.register('com.shop.catalog.get', () => 'catalog');
    await bob.session.register('com.shop.admin.reset', () => 'reset');

    expect(await alice.session.call('com.shop.catalog.get')).toBe('catalog');
    const denied = await rejectionOf(alice.session.call('com.shop.admin.reset'));
    expect(denied).toMatchObject({ error: ErrorUri.notAuthorized, args: ['not authorized to call com.shop.admin.reset'] });
    expect(await refusal(alice.session.register('com.shop.mine', () => 0))).toBe(ErrorUri.notAuthorized);
    await expect(Promise.resolve(alice.session.subscribe('com.shop.news', () => {}))).resolves.toBeDefined();
    await expect(Promise.resolve(published(alice, 'com.shop.news'))).resolves.toBeDefined();
    expect(await refusal(published(alice, 'com.shop.catalog.changed'))).toBe(ErrorUri.notAuthorized);
    expect(await refusal(alice.session.subscribe('com.elsewhere', () => {}))).toBe(ErrorUri.notAuthorized);
    expect(await refusal(alice.session.subscribe('com.shop.admin.audit', () => {}))).toBe(ErrorUri.notAuthorized);
  });

  it('a pattern subscription is allowed only when a permission covers all it can match, and then receives events', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const prices = new Inbox<string>();
    await alice.session.subscribe('com.shop..price', (_args, _kwargs, details) => prices.push(details.topic), { match: 'wildcard' });
    await alice.session.subscribe('com.shop.', () => {}, { match: 'prefix' });
    expect(await refusal(alice.session.subscribe('com.', () => {}, { match: 'prefix' }))).toBe(ErrorUri.notAuthorized);
    expect(await refusal(alice.session.subscribe('com..news', () => {}, { match: 'wildcard' }))).toBe(ErrorUri.notAuthorized);
    await published(bob, 'com.shop.shoes.price', [10]);
    expect(await prices.waitFor(1)).toEqual(['com.shop.shoes.price']);
  });

  it('a wildcard permission allows the URIs it matches and the same pattern, nothing wider', async () => {
    const alice = await login('alice');
    const temps = new Inbox<unknown>();
    await alice.session.subscribe('com.sensor..temp', (args) => temps.push(args[0]), { match: 'wildcard' });
    expect(await refusal(alice.session.subscribe('com.sensor.', () => {}, { match: 'prefix' }))).toBe(ErrorUri.notAuthorized);
    const other = await login('alice');
    await published(other, 'com.sensor.kitchen.temp', [21.5]);
    expect(await refusal(published(other, 'com.sensor.kitchen.humidity', [40]))).toBe(ErrorUri.notAuthorized);
    expect(await temps.waitFor(1)).toEqual([21.5]);
  });

  it('disclose.caller and disclose.publisher name alice to the callee and subscribers though she did not ask', async () => {
    const bob = await login('bob');
    const callers = new Inbox<InvocationDetails>();
    await bob.session.register('com.shop.orders.place', (_args, _kwargs, details) => (callers.push(details), 'placed'));
    await bob.session.register('com.shop.catalog.list', (_args, _kwargs, details) => (callers.push(details), []));
    const news = new Inbox<EventDetails>();
    await bob.session.subscribe('com.shop.news', (_args, _kwargs, details) => news.push(details));
    const alice = await login('alice');

    await alice.session.call('com.shop.orders.place', [{ item: 'shoes' }]);
    await alice.session.call('com.shop.catalog.list');
    const [placed, listed] = await callers.waitFor(2);
    expect(placed).toMatchObject({ caller: alice.session.id, caller_authid: 'alice', caller_authrole: 'member' });
    expect(listed!.caller).toBeUndefined();

    await published(alice, 'com.shop.news', ['sale']);
    const [event] = await news.waitFor(1);
    expect(event).toMatchObject({ publisher: alice.session.id, publisher_authid: 'alice', publisher_authrole: 'member' });
  });

  it('a role realm1 does not list may do nothing there, and anything in the realm without roles', async () => {
    const eve = await login('eve');
    expect(await refusal(eve.session.subscribe('com.shop.news', () => {}))).toBe(ErrorUri.notAuthorized);
    expect(await refusal(eve.session.call('wamp.session.count'))).toBe(ErrorUri.notAuthorized);
    const eveOpen = await login('eve', 'open');
    await expect(Promise.resolve(eveOpen.session.register('com.anything', () => 1))).resolves.toBeDefined();
    expect(await eveOpen.session.call('com.anything')).toBe(1);
  });

  it('anonymous clients get the permissions of the role anonymous', async () => {
    const guest = await clients.connect('msgpack');
    expect(guest.welcome).toMatchObject({ authrole: 'anonymous', authmethod: 'anonymous' });
    await expect(Promise.resolve(guest.session.subscribe('com.public.board', () => {}))).resolves.toBeDefined();
    expect(await refusal(published(guest, 'com.public.board', ['spam']))).toBe(ErrorUri.notAuthorized);
  });

  it('the meta API needs permissions like any procedure', async () => {
    const alice = await login('alice');
    expect(typeof (await alice.session.call('wamp.session.count'))).toBe('number');
    expect(await refusal(alice.session.call('wamp.session.list'))).toBe(ErrorUri.notAuthorized);
    expect(await refusal(alice.session.call('wamp.subscription.get_events', [1]))).toBe(ErrorUri.notAuthorized);
  });

  it('wampy gets wamp.error.not_authorized for a denied call and publish, and works where allowed', async () => {
    const bob = await login('bob');
    await bob.session.register('com.shop.catalog.get', () => 'catalog');
    const wampy = new WampyClients(server.wampUrl, 'cbor');
    try {
      const { client } = await wampy.connect({ authid: 'alice', authmethods: ['ticket'], onChallenge: () => 'alice-ticket' });
      expect((await client.call('com.shop.catalog.get')).argsList).toEqual(['catalog']);
      const callFailure: unknown = await client.call('com.shop.admin.reset').then(
        () => expect.fail('alice may not call com.shop.admin.reset'),
        (error: unknown) => error,
      );
      expect((callFailure as { errorUri: string }).errorUri).toBe(ErrorUri.notAuthorized);
      const publishFailure: unknown = await client.publish('com.shop.catalog.changed', [1], { acknowledge: true }).then(
        () => expect.fail('alice may not publish com.shop.catalog.changed'),
        (error: unknown) => error,
      );
      expect(publishFailure).toBeInstanceOf(Errors.PublishError);
      expect((publishFailure as InstanceType<typeof Errors.PublishError>).errorUri).toBe(ErrorUri.notAuthorized);
    } finally {
      await wampy.closeAll();
    }
  });

  it('a malformed permission or a role for an unknown realm stops the server with one line and exit status 2', async () => {
    const badPermission = configFile('bad-permission.json', { roles: { realm1: { member: [{ uri: 'com.a', allow: { read: true } }] } } });
    const first = await runServerToExit(['--port', '0', '--config', badPermission]);
    expect(first.code).toBe(2);
    expect(first.stderr).toBe(
      'fox-wamp: setting roles: roles.realm1.member[0]: allow.read is not one of call, register, publish, subscribe with a true/false value\n',
    );
    const unknownRealm = configFile('unknown-realm.json', { roles: { shop: { member: [] } } });
    const second = await runServerToExit(['--port', '0', '--config', unknownRealm]);
    expect(second.code).toBe(2);
    expect(second.stderr).toBe('fox-wamp: roles name the realm "shop", which is not one of this server\'s realms (realm1)\n');
  });
});

/**
 * The application's policy: an allow-list it can change at run time, answered with `cache: true` so the
 * router may reuse each decision. It counts how often it is asked, per role and URI.
 */
class ChangingPolicy {
  readonly allowed = new Set<string>();
  readonly asked = new Map<string, number>();
  /** URIs whose callers are disclosed. */
  readonly disclosed = new Set<string>();

  authorize({ action, uri, session }: AuthorizeRequest): boolean | AuthorizeDecision {
    // Registering is the service's business and is not what these tests count.
    if (action === 'register') return true;
    const key = `${session.info.authrole} ${uri}`;
    this.asked.set(key, (this.asked.get(key) ?? 0) + 1);
    return { allow: this.allowed.has(key), cache: true, disclose: this.disclosed.has(uri) };
  }

  timesAsked(role: string, uri: string): number {
    return this.asked.get(`${role} ${uri}`) ?? 0;
  }
}

describe('the decision cache of an application\'s authorize hook (Nest app)', () => {
  const policy = new ChangingPolicy();
  let app: INestApplication;
  let routerService: RouterService;
  const clients = new AutobahnClients(() => wampUrlOf(app));

  @Module({
    imports: [
      FoxWampModule.forRoot({
        wamp: { path: '/ws' },
        auth: {
          methods: ['anonymous'],
          // The tests pick each session's role in HELLO.Details.authextra.
          authenticate: (request) => ({ authrole: String(request.authextra.role) }),
          authorize: (request) => policy.authorize(request),
        },
      }),
    ],
  })
  class PolicyApp {}

  beforeAll(async () => {
    app = await NestFactory.create(PolicyApp, { logger: false });
    await app.listen(0, '127.0.0.1');
    routerService = app.get(RouterService);
  });

  afterEach(async () => {
    await clients.closeAll();
    routerService.router.auth.invalidateAuthorizations();
    policy.allowed.clear();
    policy.asked.clear();
    policy.disclosed.clear();
  });

  afterAll(async () => {
    await app?.close();
  });

  function as(role: string): Promise<AutobahnClient> {
    return clients.connect('json', 'realm1', { authextra: { role } });
  }

  /** A service session with `procedures` registered, each answering its own name. */
  async function service(...procedures: string[]): Promise<Inbox<InvocationDetails>> {
    const invocations = new Inbox<InvocationDetails>();
    const callee = await as('service');
    for (const procedure of procedures) await callee.session.register(procedure, (_args, _kwargs, details) => (invocations.push(details), procedure));
    return invocations;
  }

  it('a decision with cache: true is reused without asking the hook, even after the policy changed, until invalidated', async () => {
    await service('com.report.daily');
    const operator = await as('operator');
    policy.allowed.add('operator com.report.daily');
    expect(await operator.session.call('com.report.daily')).toBe('com.report.daily');
    expect(await operator.session.call('com.report.daily')).toBe('com.report.daily');
    expect(policy.timesAsked('operator', 'com.report.daily')).toBe(1);

    // Rights revoked: the cached decision still answers...
    policy.allowed.delete('operator com.report.daily');
    expect(await operator.session.call('com.report.daily')).toBe('com.report.daily');
    expect(policy.timesAsked('operator', 'com.report.daily')).toBe(1);

    // ...until the application invalidates it; then the hook decides again.
    expect(routerService.router.auth.invalidateAuthorizations({ authrole: 'operator', uri: 'com.report.daily' })).toBe(1);
    expect((await rejectionOf(operator.session.call('com.report.daily'))).error).toBe(ErrorUri.notAuthorized);
    expect(policy.timesAsked('operator', 'com.report.daily')).toBe(2);
  });

  it('invalidation by role keeps the other roles\' decisions cached', async () => {
    await service('com.report.weekly');
    const operator = await as('operator');
    const auditor = await as('auditor');
    policy.allowed.add('operator com.report.weekly');
    policy.allowed.add('auditor com.report.weekly');
    await operator.session.call('com.report.weekly');
    await auditor.session.call('com.report.weekly');
    expect(routerService.router.auth.cachedAuthorizations).toBe(2);

    expect(routerService.router.auth.invalidateAuthorizations({ realm: 'realm1', authrole: 'auditor' })).toBe(1);
    await operator.session.call('com.report.weekly');
    await auditor.session.call('com.report.weekly');
    expect(policy.timesAsked('operator', 'com.report.weekly')).toBe(1);
    expect(policy.timesAsked('auditor', 'com.report.weekly')).toBe(2);
  });

  it('a cached decision is per authid too: another anonymous session of the role is asked about anew', async () => {
    await service('com.report.monthly');
    policy.allowed.add('operator com.report.monthly');
    const first = await as('operator');
    const second = await as('operator');
    await first.session.call('com.report.monthly');
    await second.session.call('com.report.monthly');
    // Anonymous sessions have their session ID as authid, so their decisions are kept apart.
    expect(policy.timesAsked('operator', 'com.report.monthly')).toBe(2);
  });

  it('the hook\'s disclose: true names the caller to the callee, cached or not', async () => {
    const invocations = await service('com.report.audit');
    const operator = await as('operator');
    policy.allowed.add('operator com.report.audit');
    policy.disclosed.add('com.report.audit');
    await operator.session.call('com.report.audit');
    await operator.session.call('com.report.audit');
    const seen = await invocations.waitFor(2);
    expect(seen.map((details) => details.caller)).toEqual([operator.session.id, operator.session.id]);
    expect(seen[1]).toMatchObject({ caller_authrole: 'operator' });
    expect(policy.timesAsked('operator', 'com.report.audit')).toBe(1);
  });
});
