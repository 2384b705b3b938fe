import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AutobahnClients,
  Inbox,
  rejectionOf,
  withTimeout,
  type AutobahnClient,
  type Dict,
  type EventDetails,
} from '../support/autobahn-client.js';
import { startServer, type RunningServer } from '../support/server-process.js';
import { WampyClients } from '../support/wampy-client.js';

/**
 * The WAMP meta API (session, subscription and registration meta events and procedures) as the spec shapes
 * it, driven by npm autobahn (JSON) against the built server; one wampy session checks the announcement.
 */

interface MetaEvent {
  readonly topic: string;
  readonly args: unknown[];
  readonly kwargs: Dict;
  readonly details: EventDetails;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let server: RunningServer;
const clients = new AutobahnClients(() => server.wampUrl);
let uriCounter = 0;
/** A fresh application URI per test, so tests never see each other's subscriptions or registrations. */
let uri: (name: string) => string;

beforeAll(async () => {
  server = await startServer();
});

afterEach(() => clients.closeAll());

afterAll(async () => {
  await server?.stop();
});

function connect(): Promise<AutobahnClient> {
  return clients.connect('json');
}

/** Subscribes one client to meta topics and collects their events, each tagged with its topic. */
async function watch(client: AutobahnClient, topics: readonly string[]): Promise<Inbox<MetaEvent>> {
  const inbox = new Inbox<MetaEvent>();
  for (const topic of topics) {
    await client.session.subscribe(topic, (args, kwargs, details) => inbox.push({ topic, args, kwargs, details }));
  }
  return inbox;
}

/** The meta events about one session, in arrival order (the watcher's own subscriptions cause events too). */
function about(inbox: Inbox<MetaEvent>, sessionId: number): MetaEvent[] {
  return inbox.items.filter((event) => event.args[0] === sessionId);
}

async function waitAbout(inbox: Inbox<MetaEvent>, sessionId: number, count: number, what: string): Promise<MetaEvent[]> {
  await inbox.waitUntil((items) => items.filter((event) => event.args[0] === sessionId).length >= count, what);
  return about(inbox, sessionId);
}

/** autobahn hands a single-arg result over as itself and a multi-arg or kwargs result as a Result. */
async function call(client: AutobahnClient, procedure: string, args?: unknown[], kwargs?: Dict): Promise<unknown> {
  return withTimeout(client.session.call(procedure, args, kwargs), 5_000, `the result of ${procedure}`);
}

describe('meta API', () => {
  /** Starts a fresh URI prefix for the current test. */
  const next = () => {
    const prefix = `com.meta.t${++uriCounter}`;
    uri = (name) => `${prefix}.${name}`;
  };

  describe('announcement', () => {
    it('WELCOME announces session_meta_api on broker and dealer, subscription_meta_api on the broker, registration_meta_api and testament_meta_api on the dealer', async () => {
      const { welcome } = await connect();
      const roles = welcome.roles as Record<string, { features: Dict }>;
      expect(roles.broker!.features).toMatchObject({ session_meta_api: true, subscription_meta_api: true });
      expect(roles.dealer!.features).toMatchObject({ session_meta_api: true, registration_meta_api: true, testament_meta_api: true });
      expect(roles.broker!.features.registration_meta_api).toBeUndefined();
      expect(roles.dealer!.features.subscription_meta_api).toBeUndefined();
    });

    it('wampy sees the meta features in WELCOME and calls wamp.session.count', async () => {
      const wampy = new WampyClients(server.wampUrl, 'json');
      try {
        const { client, welcome } = await wampy.connect();
        expect(welcome.roles.broker?.features).toMatchObject({ session_meta_api: true, subscription_meta_api: true });
        expect(welcome.roles.dealer?.features).toMatchObject({ session_meta_api: true, registration_meta_api: true, testament_meta_api: true });
        const other = await connect();
        const result = await client.call('wamp.session.list', [[welcome.authrole]]);
        // The wampy session and the autobahn one; other tests' sessions are closed in afterEach.
        expect((result.argsList?.[0] as number[]).sort()).toEqual([client.getSessionId(), other.session.id].sort());
      } finally {
        await wampy.closeAll();
      }
    });
  });

  describe('event history announcement', () => {
    it('WELCOME announces event_history on the broker, to autobahn and to wampy', async () => {
      const { welcome } = await connect();
      expect((welcome.roles as Record<string, { features: Dict }>).broker!.features.event_history).toBe(true);
      const wampy = new WampyClients(server.wampUrl, 'msgpack');
      try {
        const { welcome: wampyWelcome } = await wampy.connect();
        expect(wampyWelcome.roles.broker?.features).toMatchObject({ event_history: true });
      } finally {
        await wampy.closeAll();
      }
    });
  });

  describe('session meta API', () => {
    it('wamp.session.on_join carries one details dict and on_leave three positional args, published by the router', async () => {
      const watcher = await connect();
      const inbox = await watch(watcher, ['wamp.session.on_join', 'wamp.session.on_leave']);
      const joiner = await connect();
      const id = joiner.session.id;
      const authid = joiner.welcome.authid;
      const [join] = await inbox.waitUntil((items) => items.some((e) => e.topic === 'wamp.session.on_join'), 'on_join');
      expect(join!.args).toHaveLength(1);
      const details = join!.args[0] as Dict;
      expect(Object.keys(details).sort()).toEqual(['authid', 'authmethod', 'authprovider', 'authrole', 'session', 'transport']);
      expect(details).toMatchObject({
        session: id,
        authid: joiner.welcome.authid,
        authrole: joiner.welcome.authrole,
        authmethod: joiner.welcome.authmethod,
        transport: { type: 'websocket', protocol: 'wamp', serializer: 'json' },
      });
      expect(typeof details.authprovider).toBe('string');
      // The router publishes meta events: no client session is named as their publisher.
      expect(join!.details.publisher).toBeUndefined();

      await joiner.close();
      const leaves = await inbox.waitUntil((items) => items.some((e) => e.topic === 'wamp.session.on_leave'), 'on_leave');
      const leave = leaves.find((e) => e.topic === 'wamp.session.on_leave')!;
      expect(leave.args).toEqual([id, authid, joiner.welcome.authrole]);
    });

    it('wamp.session.count and wamp.session.list count every session of the realm, filtered by authroles', async () => {
      const a = await connect();
      const b = await connect();
      const role = a.welcome.authrole as string;
      // The server's own in-process (Nest) sessions are sessions of the realm too, under another authrole.
      const all = (await call(a, 'wamp.session.list')) as number[];
      expect(all).toEqual(expect.arrayContaining([a.session.id, b.session.id]));
      expect(await call(a, 'wamp.session.count')).toBe(all.length);
      expect(await call(a, 'wamp.session.count', [[role]])).toBe(2);
      expect(await call(a, 'wamp.session.count', [[role, 'no-such-role']])).toBe(2);
      expect(await call(a, 'wamp.session.count', [['no-such-role']])).toBe(0);
      expect(((await call(a, 'wamp.session.list', [[role]])) as number[]).sort()).toEqual([a.session.id, b.session.id].sort());
      expect(await call(a, 'wamp.session.list', [['no-such-role']])).toEqual([]);
      expect((await rejectionOf(a.session.call('wamp.session.count', ['not-a-list']))).error).toBe('wamp.error.invalid_argument');
    });

    it('wamp.session.get returns the session details, and wamp.error.no_such_session for an unknown ID', async () => {
      const a = await connect();
      const b = await connect();
      const details = (await call(a, 'wamp.session.get', [b.session.id])) as Dict;
      expect(details).toMatchObject({ session: b.session.id, authid: b.welcome.authid, authrole: b.welcome.authrole, authmethod: b.welcome.authmethod });
      expect(Object.keys(details).sort()).toEqual(['authid', 'authmethod', 'authprovider', 'authrole', 'session', 'transport']);
      const missing = await rejectionOf(a.session.call('wamp.session.get', [12345]));
      expect(missing.error).toBe('wamp.error.no_such_session');
    });

    it('wamp.session.kill closes another session with GOODBYE wamp.close.killed (no message), or the given reason and message', async () => {
      const killer = await connect();
      const victim = await connect();
      expect(await call(killer, 'wamp.session.kill', [victim.session.id])).toBeNull();
      const closed = await withTimeout(victim.closed, 5_000, 'the victim closing');
      expect(closed.details.reason).toBe('wamp.close.killed');
      expect(closed.details.message).toBeFalsy();

      const second = await connect();
      await call(killer, 'wamp.session.kill', [second.session.id], { reason: 'com.example.go_away', message: 'bye now' });
      const closedToo = await withTimeout(second.closed, 5_000, 'the second victim closing');
      expect(closedToo.details).toMatchObject({ reason: 'com.example.go_away', message: 'bye now' });
      expect(await call(killer, 'wamp.session.list', [[killer.welcome.authrole]])).toEqual([killer.session.id]);
    });

    it('wamp.session.kill refuses the caller itself (no_such_session), unknown sessions and an invalid reason URI', async () => {
      const a = await connect();
      const b = await connect();
      expect((await rejectionOf(a.session.call('wamp.session.kill', [a.session.id]))).error).toBe('wamp.error.no_such_session');
      expect((await rejectionOf(a.session.call('wamp.session.kill', [12345]))).error).toBe('wamp.error.no_such_session');
      expect((await rejectionOf(a.session.call('wamp.session.kill', [b.session.id], { reason: 'not a uri' }))).error).toBe(
        'wamp.error.invalid_uri',
      );
      expect(await call(a, 'wamp.session.count', [[a.welcome.authrole]])).toBe(2);
    });

    it('wamp.session.kill_by_authid returns the killed session IDs; kill_by_authrole the count, sparing the caller', async () => {
      const caller = await connect();
      const victim = await connect();
      const bystander = await connect();
      const victimId = victim.session.id;
      const killed = await call(caller, 'wamp.session.kill_by_authid', [victim.welcome.authid]);
      expect(killed).toEqual([victimId]);
      expect((await withTimeout(victim.closed, 5_000, 'the victim closing')).details.reason).toBe('wamp.close.killed');

      // Every session here has the caller's authrole; the caller is not counted and stays.
      const count = await call(caller, 'wamp.session.kill_by_authrole', [caller.welcome.authrole], { message: 'maintenance' });
      expect(count).toBe(1);
      expect((await withTimeout(bystander.closed, 5_000, 'the bystander closing')).details).toMatchObject({
        reason: 'wamp.close.killed',
        message: 'maintenance',
      });
      expect(await call(caller, 'wamp.session.list', [[caller.welcome.authrole]])).toEqual([caller.session.id]);
      expect((await rejectionOf(caller.session.call('wamp.session.kill_by_authrole', ['x'], { reason: '' }))).error).toBe(
        'wamp.error.invalid_uri',
      );
    });

    it('wamp.session.kill_all closes every other client session and returns the count; the caller and the server\'s in-process sessions stay', async () => {
      const caller = await connect();
      const victims = [await connect(), await connect()];
      const before = (await call(caller, 'wamp.session.count')) as number;
      expect(await call(caller, 'wamp.session.kill_all', [], { reason: 'com.example.maintenance', message: 'back soon' })).toBe(2);
      for (const victim of victims) {
        expect((await withTimeout(victim.closed, 5_000, 'a victim closing')).details).toMatchObject({
          reason: 'com.example.maintenance',
          message: 'back soon',
        });
      }
      // Only the two clients went: the server's own (Nest) sessions are not the clients' to kill.
      expect(await call(caller, 'wamp.session.count')).toBe(before - 2);
      expect(await call(caller, 'wamp.session.list', [[caller.welcome.authrole]])).toEqual([caller.session.id]);
      expect(await call(caller, 'wamp.session.kill_all')).toBe(0);
      expect((await rejectionOf(caller.session.call('wamp.session.kill_all', [], { reason: 'no uri' }))).error).toBe('wamp.error.invalid_uri');
    });

    it('wamp.session.kill_all without arguments closes with wamp.close.killed and no message', async () => {
      const caller = await connect();
      const victim = await connect();
      expect(await call(caller, 'wamp.session.kill_all')).toBe(1);
      const closed = await withTimeout(victim.closed, 5_000, 'the victim closing');
      expect(closed.details.reason).toBe('wamp.close.killed');
      expect(closed.details.message).toBeFalsy();
    });

    it('clients may not register or publish under the reserved wamp.* URIs (wamp.error.invalid_uri)', async () => {
      const a = await connect();
      expect((await rejectionOf(a.session.register('wamp.session.count', () => 0))).error).toBe('wamp.error.invalid_uri');
      expect((await rejectionOf(a.session.register('wamp.my.procedure', () => 0))).error).toBe('wamp.error.invalid_uri');
      expect((await rejectionOf(a.session.publish('wamp.session.on_join', [{}], {}, { acknowledge: true }))).error).toBe(
        'wamp.error.invalid_uri',
      );
    });
  });

  describe('session testaments', () => {
    /** Subscribes a watcher to one topic and collects the events. */
    async function listen(topic: string): Promise<Inbox<{ args: unknown[]; kwargs: Dict; details: EventDetails }>> {
      const inbox = new Inbox<{ args: unknown[]; kwargs: Dict; details: EventDetails }>();
      const watcher = await connect();
      await watcher.session.subscribe(topic, (args, kwargs, details) => inbox.push({ args, kwargs, details }));
      return inbox;
    }

    it('publishes a lost session’s testaments in order, detached scope first, with their args, kwargs and publish options', async () => {
      next();
      const topic = uri('gone');
      const inbox = await listen(topic);
      const client = await connect();
      const id = client.session.id;
      expect(await call(client, 'wamp.session.add_testament', [topic, ['destroyed-1'], { n: 1 }], { publish_options: { disclose_me: true } })).toBeNull();
      await call(client, 'wamp.session.add_testament', [topic, ['detached-1'], {}], { scope: 'detached' });
      await call(client, 'wamp.session.add_testament', [topic, ['destroyed-2']], { scope: 'destroyed' });
      // Lost, not a GOODBYE: the client itself could not have said anything.
      await client.drop();
      const events = await inbox.waitFor(3);
      expect(events.map((event) => event.args)).toEqual([['detached-1'], ['destroyed-1'], ['destroyed-2']]);
      expect(events[1]!.kwargs).toEqual({ n: 1 });
      expect(events[1]!.details.publisher).toBe(id);
      expect(events[0]!.details.publisher).toBeUndefined();
    });

    it('wamp.session.flush_testaments removes the testaments of one scope (default destroyed)', async () => {
      next();
      const topic = uri('flushed');
      const inbox = await listen(topic);
      const client = await connect();
      await call(client, 'wamp.session.add_testament', [topic, ['destroyed']]);
      await call(client, 'wamp.session.add_testament', [topic, ['detached']], { scope: 'detached' });
      expect(await call(client, 'wamp.session.flush_testaments')).toBeNull();
      await client.close();
      // The router handled the GOODBYE (and any testament) before it answered; a marker published now comes after.
      const marker = await connect();
      marker.session.publish(topic, ['marker']);
      const events = await inbox.waitUntil((items) => items.some((event) => event.args[0] === 'marker'), 'the marker');
      expect(events.map((event) => event.args[0])).toEqual(['detached', 'marker']);
    });

    it('refuses a reserved or invalid topic (invalid_uri), an unknown scope and unusable publish options (invalid_argument)', async () => {
      const client = await connect();
      expect((await rejectionOf(client.session.call('wamp.session.add_testament', ['wamp.session.on_leave', []]))).error).toBe('wamp.error.invalid_uri');
      expect((await rejectionOf(client.session.call('wamp.session.add_testament', ['not a uri', []]))).error).toBe('wamp.error.invalid_uri');
      expect((await rejectionOf(client.session.call('wamp.session.add_testament', ['com.x', []], { scope: 'forever' }))).error).toBe(
        'wamp.error.invalid_argument',
      );
      expect((await rejectionOf(client.session.call('wamp.session.flush_testaments', [], { scope: 'forever' }))).error).toBe('wamp.error.invalid_argument');
      expect(
        (await rejectionOf(client.session.call('wamp.session.add_testament', ['com.x', []], { publish_options: { will: null } }))).error,
      ).toBe('wamp.error.invalid_argument');
    });
  });

  describe('subscription meta API', () => {
    const TOPICS = ['wamp.subscription.on_create', 'wamp.subscription.on_subscribe', 'wamp.subscription.on_unsubscribe', 'wamp.subscription.on_delete'];

    it('fires on_create then on_subscribe for the first subscriber, on_subscribe for the next, and on_unsubscribe then on_delete', async () => {
      next();
      const watcher = await connect();
      const inbox = await watch(watcher, TOPICS);
      const first = await connect();
      const second = await connect();
      const topic = uri('news');
      const subscription = await first.session.subscribe(topic, () => {});
      const created = await waitAbout(inbox, first.session.id, 2, 'on_create and on_subscribe');
      expect(created.map((e) => e.topic)).toEqual(['wamp.subscription.on_create', 'wamp.subscription.on_subscribe']);
      expect(created[0]!.args).toEqual([first.session.id, { id: subscription.id, created: expect.stringMatching(ISO_8601), uri: topic, match: 'exact' }]);
      expect(created[1]!.args).toEqual([first.session.id, subscription.id]);

      const joined = await second.session.subscribe(topic, () => {});
      expect(joined.id).toBe(subscription.id);
      const added = await waitAbout(inbox, second.session.id, 1, 'on_subscribe of the second');
      expect(added.map((e) => [e.topic, ...e.args])).toEqual([['wamp.subscription.on_subscribe', second.session.id, subscription.id]]);

      await first.session.unsubscribe(subscription);
      const removed = await waitAbout(inbox, first.session.id, 3, 'on_unsubscribe of the first');
      expect(removed.slice(2).map((e) => [e.topic, ...e.args])).toEqual([['wamp.subscription.on_unsubscribe', first.session.id, subscription.id]]);

      // The last subscriber leaving (not unsubscribing) deletes the subscription too.
      const secondId = second.session.id;
      await second.close();
      const gone = await waitAbout(inbox, secondId, 3, 'on_unsubscribe and on_delete of the last');
      expect(gone.slice(1).map((e) => [e.topic, ...e.args])).toEqual([
        ['wamp.subscription.on_unsubscribe', secondId, subscription.id],
        ['wamp.subscription.on_delete', secondId, subscription.id],
      ]);
    });

    it('list, lookup, match, get, list_subscribers and count_subscribers answer in the spec shapes', async () => {
      next();
      const a = await connect();
      const b = await connect();
      const exact = await a.session.subscribe(uri('x.y'), () => {});
      await b.session.subscribe(uri('x.y'), () => {});
      const prefix = await a.session.subscribe(uri('x'), () => {}, { match: 'prefix' });
      // `<prefix>..y`: any one level, then y.
      const wildcard = await b.session.subscribe(`${uri('')}.y`, () => {}, { match: 'wildcard' });

      const lists = (await call(a, 'wamp.subscription.list')) as Record<string, number[]>;
      expect(Object.keys(lists).sort()).toEqual(['exact', 'prefix', 'wildcard']);
      expect(lists.exact).toContain(exact.id);
      expect(lists.prefix).toContain(prefix.id);
      expect(lists.wildcard).toContain(wildcard.id);

      expect(await call(a, 'wamp.subscription.lookup', [uri('x.y')])).toBe(exact.id);
      expect(await call(a, 'wamp.subscription.lookup', [uri('x'), { match: 'prefix' }])).toBe(prefix.id);
      expect(await call(a, 'wamp.subscription.lookup', [uri('nothing')])).toBeNull();

      expect(((await call(a, 'wamp.subscription.match', [uri('x.y')])) as number[]).sort()).toEqual([exact.id, prefix.id, wildcard.id].sort());
      expect(await call(a, 'wamp.subscription.match', [uri('other')])).toBeNull();

      expect(await call(a, 'wamp.subscription.get', [prefix.id])).toEqual({
        id: prefix.id,
        created: expect.stringMatching(ISO_8601),
        uri: uri('x'),
        match: 'prefix',
      });
      expect(((await call(a, 'wamp.subscription.list_subscribers', [exact.id])) as number[]).sort()).toEqual([a.session.id, b.session.id].sort());
      expect(await call(a, 'wamp.subscription.count_subscribers', [exact.id])).toBe(2);
      expect(await call(a, 'wamp.subscription.count_subscribers', [prefix.id])).toBe(1);

      for (const procedure of ['wamp.subscription.get', 'wamp.subscription.list_subscribers', 'wamp.subscription.count_subscribers']) {
        expect((await rejectionOf(a.session.call(procedure, [12345]))).error).toBe('wamp.error.no_such_subscription');
      }
    });
  });

  describe('registration meta API', () => {
    const TOPICS = ['wamp.registration.on_create', 'wamp.registration.on_register', 'wamp.registration.on_unregister', 'wamp.registration.on_delete'];

    it('fires on_create then on_register, on_register for a shared callee, and on_unregister then on_delete', async () => {
      next();
      const watcher = await connect();
      const inbox = await watch(watcher, TOPICS);
      const first = await connect();
      const second = await connect();
      const procedure = uri('add');
      const registration = await first.session.register(procedure, () => 0, { invoke: 'roundrobin' });
      const created = await waitAbout(inbox, first.session.id, 2, 'on_create and on_register');
      expect(created.map((e) => e.topic)).toEqual(['wamp.registration.on_create', 'wamp.registration.on_register']);
      const registrationId = created[1]!.args[1] as number;
      expect(created[0]!.args).toEqual([
        first.session.id,
        { id: registrationId, created: expect.stringMatching(ISO_8601), uri: procedure, match: 'exact', invoke: 'roundrobin' },
      ]);

      await second.session.register(procedure, () => 1, { invoke: 'roundrobin' });
      const added = await waitAbout(inbox, second.session.id, 1, 'on_register of the second');
      expect(added.map((e) => [e.topic, ...e.args])).toEqual([['wamp.registration.on_register', second.session.id, registrationId]]);

      await first.session.unregister(registration);
      const removed = await waitAbout(inbox, first.session.id, 3, 'on_unregister of the first');
      expect(removed.slice(2).map((e) => [e.topic, ...e.args])).toEqual([['wamp.registration.on_unregister', first.session.id, registrationId]]);

      const secondId = second.session.id;
      await second.close();
      const gone = await waitAbout(inbox, secondId, 3, 'on_unregister and on_delete of the last');
      expect(gone.slice(1).map((e) => [e.topic, ...e.args])).toEqual([
        ['wamp.registration.on_unregister', secondId, registrationId],
        ['wamp.registration.on_delete', secondId, registrationId],
      ]);
    });

    it('list, lookup, match, get, list_callees and count_callees answer in the spec shapes, without the router’s own procedures', async () => {
      next();
      const a = await connect();
      const b = await connect();
      await a.session.register(uri('calc.add'), () => 0, { invoke: 'first' });
      await b.session.register(uri('calc.add'), () => 0, { invoke: 'first' });
      await a.session.register(uri('calc'), () => 0, { match: 'prefix' });
      await b.session.register(`${uri('calc')}.`, () => 0, { match: 'wildcard' });
      const exactId = (await call(a, 'wamp.registration.lookup', [uri('calc.add')])) as number;
      const prefixId = (await call(a, 'wamp.registration.lookup', [uri('calc'), { match: 'prefix' }])) as number;
      const wildcardId = (await call(a, 'wamp.registration.lookup', [`${uri('calc')}.`, { match: 'wildcard' }])) as number;
      expect(await call(a, 'wamp.registration.lookup', [uri('nothing')])).toBeNull();

      expect(await call(a, 'wamp.registration.list')).toEqual({ exact: [exactId], prefix: [prefixId], wildcard: [wildcardId] });
      // The best match by the spec's precedence: exact, then prefix, then wildcard.
      expect(await call(a, 'wamp.registration.match', [uri('calc.add')])).toBe(exactId);
      expect(await call(a, 'wamp.registration.match', [uri('calc.mul')])).toBe(prefixId);
      expect(await call(a, 'wamp.registration.match', [uri('other')])).toBeNull();
      // The meta procedures are the router's, not registrations of the realm.
      expect(await call(a, 'wamp.registration.match', ['wamp.session.count'])).toBeNull();

      expect(await call(a, 'wamp.registration.get', [exactId])).toEqual({
        id: exactId,
        created: expect.stringMatching(ISO_8601),
        uri: uri('calc.add'),
        match: 'exact',
        invoke: 'first',
      });
      expect(await call(a, 'wamp.registration.list_callees', [exactId])).toEqual([a.session.id, b.session.id]);
      expect(await call(a, 'wamp.registration.count_callees', [exactId])).toBe(2);
      expect(await call(a, 'wamp.registration.count_callees', [prefixId])).toBe(1);

      for (const procedure of ['wamp.registration.get', 'wamp.registration.list_callees', 'wamp.registration.count_callees']) {
        expect((await rejectionOf(a.session.call(procedure, [12345]))).error).toBe('wamp.error.no_such_registration');
      }
    });
  });

  describe('event history (wamp.subscription.get_events)', () => {
    interface EventRecord {
      readonly timestamp: string;
      readonly subscription: number;
      readonly publication: number;
      readonly details: Dict;
      readonly args?: unknown[];
      readonly kwargs?: Dict;
    }

    /** Publishes with acknowledge and resolves with the publication ID. */
    async function publish(client: AutobahnClient, topic: string, args?: unknown[], kwargs?: Dict): Promise<number> {
      const published = await client.session.publish(topic, args, kwargs, { acknowledge: true })!;
      return published.id;
    }

    async function events(client: AutobahnClient, subscription: number, query: Dict = {}): Promise<EventRecord[]> {
      return (await call(client, 'wamp.subscription.get_events', [subscription], query)) as EventRecord[];
    }

    it('returns the subscription\'s events oldest first as the spec\'s records: timestamp, subscription, publication, details, args, kwargs', async () => {
      next();
      const client = await connect();
      const subscription = await client.session.subscribe(uri('log'), () => {});
      const first = await publish(client, uri('log'), ['one']);
      const second = await publish(client, uri('log'), [], { level: 2 });
      await publish(client, uri('other'), ['not this topic']);
      const third = await publish(client, uri('log'));
      const records = await events(client, subscription.id);
      expect(records.map((record) => record.publication)).toEqual([first, second, third]);
      expect(records[0]).toEqual({
        timestamp: expect.stringMatching(ISO_8601),
        subscription: subscription.id,
        publication: first,
        details: { event_id: expect.any(Number) },
        args: ['one'],
      });
      expect(records[1]).toMatchObject({ args: [], kwargs: { level: 2 } });
      expect(records[2]).not.toHaveProperty('args');
      expect(records[2]).not.toHaveProperty('kwargs');
      // The realm's event IDs increase with every publication.
      const ids = records.map((record) => record.details.event_id as number);
      expect(ids[0]! < ids[1]! && ids[1]! < ids[2]!).toBe(true);
    });

    it('keeps no events that were published for chosen subscribers only (exclude / eligible lists)', async () => {
      next();
      const client = await connect();
      const subscription = await client.session.subscribe(uri('private'), () => {});
      const open = await publish(client, uri('private'), ['for everyone']);
      await client.session.publish(uri('private'), ['only for one'], {}, { acknowledge: true, eligible: [client.session.id] });
      await client.session.publish(uri('private'), ['not for that one'], {}, { acknowledge: true, exclude_authrole: ['nobody'] });
      const last = await publish(client, uri('private'), ['for everyone again']);
      const records = await events(client, subscription.id);
      expect(records.map((record) => record.publication)).toEqual([open, last]);
    });

    it('a pattern subscription gets every matching topic, named in details.topic; the topic option narrows it', async () => {
      next();
      const client = await connect();
      const subscription = await client.session.subscribe(uri('room'), () => {}, { match: 'prefix' });
      await publish(client, uri('room.a'), [1]);
      await publish(client, uri('room.b'), [2]);
      await publish(client, uri('hall'), [3]);
      const records = await events(client, subscription.id);
      expect(records.map((record) => [record.details.topic, record.args])).toEqual([
        [uri('room.a'), [1]],
        [uri('room.b'), [2]],
      ]);
      expect((await events(client, subscription.id, { topic: uri('room.b') })).map((record) => record.args)).toEqual([[2]]);
    });

    it('a subscription with a filter gets only the events its filter lets through', async () => {
      next();
      const client = await connect();
      const subscription = await client.session.subscribe(uri('temp'), () => {}, { filter: { celsius: { $gt: 30 } } });
      await publish(client, uri('temp'), [], { celsius: 25 });
      await publish(client, uri('temp'), [], { celsius: 35 });
      expect((await events(client, subscription.id)).map((record) => record.kwargs)).toEqual([{ celsius: 35 }]);
    });

    it('reverse, limit and the *_publication bounds page through the history; the *_time bounds select by timestamp', async () => {
      next();
      const client = await connect();
      const subscription = await client.session.subscribe(uri('page'), () => {});
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push(await publish(client, uri('page'), [i]));
      const args = (records: EventRecord[]) => records.map((record) => record.args![0]);

      expect(args(await events(client, subscription.id, { limit: 2 }))).toEqual([0, 1]);
      expect(args(await events(client, subscription.id, { after_publication: ids[1], limit: 2 }))).toEqual([2, 3]);
      expect(args(await events(client, subscription.id, { reverse: true, limit: 2 }))).toEqual([4, 3]);
      expect(args(await events(client, subscription.id, { reverse: true, before_publication: ids[3], limit: 2 }))).toEqual([2, 1]);
      expect(args(await events(client, subscription.id, { from_publication: ids[1], until_publication: ids[3] }))).toEqual([1, 2, 3]);

      const all = await events(client, subscription.id);
      const times = all.map((record) => Date.parse(record.timestamp));
      const from = await events(client, subscription.id, { from_time: all[2]!.timestamp });
      expect(from.every((record) => Date.parse(record.timestamp) >= times[2]!)).toBe(true);
      expect(from.map((record) => record.publication)).toContain(ids[2]);
      const after = await events(client, subscription.id, { after_time: all[4]!.timestamp });
      expect(after).toEqual([]);
      const until = await events(client, subscription.id, { until_time: all[0]!.timestamp });
      expect(until.map((record) => record.publication)).toContain(ids[0]);
      expect(await events(client, subscription.id, { before_time: all[0]!.timestamp })).toEqual(
        all.filter((record) => Date.parse(record.timestamp) < times[0]!),
      );
    });

    it('refuses an unknown subscription (no_such_subscription) and a bad query (invalid_argument)', async () => {
      next();
      const client = await connect();
      const subscription = await client.session.subscribe(uri('bad'), () => {});
      const failing = (args: unknown[], kwargs: Dict = {}) => rejectionOf(client.session.call('wamp.subscription.get_events', args, kwargs));
      expect((await failing([12345])).error).toBe('wamp.error.no_such_subscription');
      for (const query of [{ limit: 0 }, { reverse: 'yes' }, { from_time: 'yesterday' }, { after_publication: 12345 }, { page: 2 }]) {
        expect((await failing([subscription.id], query)).error, JSON.stringify(query)).toBe('wamp.error.invalid_argument');
      }
    });

    it('wampy, which sees event_history announced, reads the history too', async () => {
      next();
      const publisher = await connect();
      const wampy = new WampyClients(server.wampUrl, 'cbor');
      try {
        const { client } = await wampy.connect();
        const subscribed = await client.subscribe(uri('wampy'), () => {});
        const publication = await publish(publisher, uri('wampy'), ['hello']);
        const result = await client.call('wamp.subscription.get_events', [subscribed.subscriptionId]);
        expect(result.argsList?.[0]).toEqual([expect.objectContaining({ publication, args: ['hello'], subscription: subscribed.subscriptionId })]);
      } finally {
        await wampy.closeAll();
      }
    });
  });
});
