import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AuthorizationCache,
  ErrorUri,
  MessageCode,
  Router,
  checkRealmRoles,
  parseWampPattern,
  patternCovers,
  type AuthOptions,
  type AuthenticateHook,
  type AuthorizeDecision,
  type AuthorizeHook,
  type AuthorizeRequest,
  type MatchPolicy,
  type RealmRoles,
} from '@fox-wamp/core';
import { deferred } from '../support/autobahn-client.js';
import { InMemoryWampPeer } from '../support/in-memory-wamp-peer.js';

// Authorization beyond the hook itself: static role permissions (pattern coverage, precedence, disclosure),
// how they combine with the hook, and the hook's decision cache. Driven through the in-memory transport;
// with real clients against the built server and a Nest app: test/e2e/authorization.test.ts.

const M = MessageCode;

const routers: Router[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(routers.splice(0).map((router) => router.close()));
});

/** Anonymous clients name their role in HELLO.Details.authextra.role: the tests need many roles, not passwords. */
const roleFromAuthextra: AuthenticateHook = (request) => ({ authrole: String(request.authextra.role ?? 'anonymous') });

function makeRouter(auth: Omit<AuthOptions, 'authenticate' | 'methods'>): Router {
  const router = new Router({ realms: ['realm1', 'open'], auth: { authenticate: roleFromAuthextra, methods: ['anonymous'], ...auth } });
  routers.push(router);
  return router;
}

async function joinedAs(router: Router, role: string, realm = 'realm1'): Promise<InMemoryWampPeer> {
  const peer = new InMemoryWampPeer(router);
  peer.hello(realm, { authextra: { role } });
  expect((await peer.next())[0]).toBe(M.WELCOME);
  return peer;
}

/** The reply's message code and, for an ERROR, its URI: `[SUBSCRIBED]` or `[ERROR, 'wamp.error.not_authorized']`. */
async function outcome(peer: InMemoryWampPeer): Promise<unknown[]> {
  const reply = await peer.next();
  return reply[0] === M.ERROR ? [M.ERROR, reply[4]] : [reply[0]];
}

const DENIED = [M.ERROR, ErrorUri.notAuthorized];

describe('patternCovers: a permission covers a request when it matches every URI the request can reach', () => {
  const covers = (outer: [string, MatchPolicy], inner: [string, MatchPolicy]) =>
    patternCovers(parseWampPattern(...outer), parseWampPattern(...inner));

  it.each([
    // [permission, request, covered]
    [['com.a.b', 'exact'], ['com.a.b', 'exact'], true],
    [['com.a.b', 'exact'], ['com.a.c', 'exact'], false],
    [['com.a.', 'prefix'], ['com.a.b.c', 'exact'], true],
    [['com.a', 'prefix'], ['com.ab', 'exact'], true],
    [['com.a.', 'prefix'], ['com.a.b', 'prefix'], true],
    [['com.a.', 'prefix'], ['com.', 'prefix'], false],
    [['com.a.', 'prefix'], ['com.a..x', 'wildcard'], true],
    [['com.a.', 'prefix'], ['com..x', 'wildcard'], false],
    [['com.a.', 'prefix'], ['com.a.#', 'exact'], false], // `com.a.#` also matches `com.a` itself
    [['com.a.', 'prefix'], ['com.a.b.#', 'exact'], true],
    [['com..x', 'wildcard'], ['com.a.x', 'exact'], true],
    [['com..x', 'wildcard'], ['com..x', 'wildcard'], true],
    [['com..x', 'wildcard'], ['com.a.x.y', 'exact'], false],
    [['com..x', 'wildcard'], ['com.a.', 'prefix'], false],
    [['com.a.#', 'exact'], ['com.a.', 'prefix'], true],
    [['com.a.#', 'exact'], ['com.a', 'prefix'], false], // `com.ab` is not below `com.a`
    [['com.*.#', 'exact'], ['com.a..z', 'wildcard'], true],
    [['com.#', 'exact'], ['com.*', 'exact'], true],
    [['com.*', 'exact'], ['com.#', 'exact'], false],
    [['', 'prefix'], ['anything.at.all', 'wildcard'], true],
    [['#', 'wildcard'], ['$SYS.x', 'exact'], false], // wildcards never reach `$` topics
  ] as Array<[[string, MatchPolicy], [string, MatchPolicy], boolean]>)('%j covers %j: %s', (outer, inner, expected) => {
    expect(covers(outer, inner)).toBe(expected);
  });
});

describe('static role permissions', () => {
  const ROLES: RealmRoles = {
    realm1: {
      member: [
        { uri: 'com.shop.', match: 'prefix', allow: { call: true, subscribe: true } },
        { uri: 'com.shop.admin.', match: 'prefix', allow: {} },
        { uri: 'com.shop.orders.place', allow: { call: true }, disclose: { caller: true } },
        { uri: 'com.shop.news', allow: { publish: true, subscribe: true }, disclose: { publisher: true } },
        { uri: 'com.sensor..temp', match: 'wildcard', allow: { publish: true, subscribe: true } },
      ],
      admin: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }],
    },
  };

  it('decide each action by the most specific covering permission; no covering permission: not_authorized', async () => {
    const router = makeRouter({ roles: ROLES });
    const member = await joinedAs(router, 'member');
    const requests: Array<[unknown[], unknown[]]> = [
      [[M.SUBSCRIBE, 1, {}, 'com.shop.catalog'], [M.SUBSCRIBED]],
      [[M.REGISTER, 2, {}, 'com.shop.catalog.get'], DENIED],
      [[M.PUBLISH, 3, { acknowledge: true }, 'com.shop.catalog'], DENIED],
      [[M.PUBLISH, 4, { acknowledge: true }, 'com.shop.news'], [M.PUBLISHED]],
      // The longer prefix com.shop.admin. allows nothing, and beats com.shop.
      [[M.SUBSCRIBE, 5, {}, 'com.shop.admin.audit'], DENIED],
      [[M.SUBSCRIBE, 6, {}, 'com.elsewhere'], DENIED],
      [[M.PUBLISH, 7, { acknowledge: true }, 'com.sensor.kitchen.temp'], [M.PUBLISHED]],
      [[M.PUBLISH, 8, { acknowledge: true }, 'com.sensor.kitchen.humidity'], DENIED],
      // Pattern requests must be covered as a whole.
      [[M.SUBSCRIBE, 9, { match: 'prefix' }, 'com.shop.cat'], [M.SUBSCRIBED]],
      [[M.SUBSCRIBE, 10, { match: 'prefix' }, 'com.'], DENIED],
      [[M.SUBSCRIBE, 11, { match: 'wildcard' }, 'com.sensor..temp'], [M.SUBSCRIBED]],
      [[M.SUBSCRIBE, 12, { match: 'wildcard' }, 'com..temp'], DENIED],
    ];
    for (const [request, expected] of requests) {
      member.send(request);
      expect(await outcome(member), JSON.stringify(request)).toEqual(expected);
    }
  });

  it('a call with disclose.caller names the caller to the callee; a publish with disclose.publisher names the publisher', async () => {
    const router = makeRouter({ roles: ROLES });
    const admin = await joinedAs(router, 'admin');
    admin.send([M.REGISTER, 1, {}, 'com.shop.orders.place']);
    admin.send([M.REGISTER, 2, {}, 'com.shop.catalog.get']);
    admin.send([M.SUBSCRIBE, 3, {}, 'com.shop.news']);
    for (let i = 0; i < 3; i++) await admin.next();
    const member = await joinedAs(router, 'member');

    member.send([M.CALL, 1, {}, 'com.shop.orders.place', [1]]);
    const disclosed = await admin.nextOf(M.INVOCATION);
    expect(disclosed[3]).toMatchObject({ caller: expect.any(Number), caller_authrole: 'member' });
    admin.send([M.YIELD, disclosed[1], {}]);
    member.send([M.CALL, 2, {}, 'com.shop.catalog.get']);
    const undisclosed = await admin.nextOf(M.INVOCATION);
    expect(undisclosed[3]).not.toHaveProperty('caller');

    member.send([M.PUBLISH, 3, {}, 'com.shop.news', ['sale']]);
    const event = await admin.nextOf(M.EVENT);
    expect(event[3]).toMatchObject({ publisher: expect.any(Number), publisher_authrole: 'member' });
  });

  it('a role the realm does not list may do nothing there; a realm without roles is open', async () => {
    const router = makeRouter({ roles: ROLES });
    const stranger = await joinedAs(router, 'stranger');
    stranger.send([M.SUBSCRIBE, 1, {}, 'com.shop.catalog']);
    expect(await outcome(stranger)).toEqual(DENIED);
    const elsewhere = await joinedAs(router, 'stranger', 'open');
    elsewhere.send([M.REGISTER, 1, {}, 'com.anything']);
    expect(await outcome(elsewhere)).toEqual([M.REGISTERED]);
  });

  it('with an authorize hook too: the roles decide what they list, the hook the rest (unlisted roles, other realms)', async () => {
    const hook = vi.fn<AuthorizeHook>(({ uri }) => uri !== 'com.hook.denied');
    const router = makeRouter({ roles: ROLES, authorize: hook });
    const member = await joinedAs(router, 'member');
    member.send([M.SUBSCRIBE, 1, {}, 'com.elsewhere']);
    expect(await outcome(member)).toEqual(DENIED);
    expect(hook).not.toHaveBeenCalled();
    const stranger = await joinedAs(router, 'stranger');
    stranger.send([M.SUBSCRIBE, 1, {}, 'com.elsewhere']);
    stranger.send([M.SUBSCRIBE, 2, {}, 'com.hook.denied']);
    expect([await outcome(stranger), await outcome(stranger)]).toEqual([[M.SUBSCRIBED], DENIED]);
    expect(hook).toHaveBeenCalledTimes(2);
  });

  it('an invalid URI is left to the realm, which answers wamp.error.invalid_uri', async () => {
    const member = await joinedAs(makeRouter({ roles: ROLES }), 'member');
    member.send([M.SUBSCRIBE, 1, {}, 'com.shop..bad']);
    expect(await outcome(member)).toEqual([M.ERROR, ErrorUri.invalidUri]);
  });

  it('checkRealmRoles names the realm, role and permission that is wrong', () => {
    const bad = (permission: unknown) => () => checkRealmRoles({ realm1: { member: [permission] } });
    expect(bad({ uri: 'com.a', match: 'fuzzy' })).toThrow('roles.realm1.member[0]: match must be exact, prefix or wildcard, not "fuzzy"');
    expect(bad({ uri: 'com..a' })).toThrow('uri "com..a" is not a valid URI for match exact');
    expect(bad({ uri: 'com.a', allow: { delete: true } })).toThrow('allow.delete is not one of call, register, publish, subscribe');
    expect(bad({ uri: 'com.a', allow: { call: 'yes' } })).toThrow('allow.call is not one of');
    expect(bad({ uri: 'com.a', disclose: { callee: true } })).toThrow('disclose.callee is not one of caller, publisher');
    expect(bad({ uri: 'com.a', cache: true })).toThrow('unknown field "cache"');
    expect(() => checkRealmRoles({ realm1: { member: {} } })).toThrow('roles.realm1.member must be a list of permissions');
    expect(() => checkRealmRoles({ 'bad realm': {} })).toThrow('roles: "bad realm" is not a valid realm name');
  });
});

/** A request as the cache sees it: only realm, action, URI, options and the session's identity matter. */
function request(uri: string, authrole = 'user', authid = 'alice', action: AuthorizeRequest['action'] = 'call'): AuthorizeRequest {
  return { realm: 'realm1', action, uri, options: {}, session: { info: { authid, authrole } } } as unknown as AuthorizeRequest;
}

describe('the decision cache of the authorize hook', () => {
  it('reuses a decision returned with cache: true; asks again for one returned without it', () => {
    const cache = new AuthorizationCache();
    const hook = vi.fn<AuthorizeHook>(({ uri }) => (uri === 'com.cached' ? { allow: true, cache: true } : true));
    const cached = cache.wrap(hook);
    expect([cached(request('com.cached')), cached(request('com.cached'))]).toEqual([{ allow: true, cache: true }, { allow: true }]);
    expect([cached(request('com.fresh')), cached(request('com.fresh'))]).toEqual([true, true]);
    expect(hook).toHaveBeenCalledTimes(3);
    // Another authid, role or action is another decision.
    cached(request('com.cached', 'user', 'bob'));
    cached(request('com.cached', 'admin'));
    cached(request('com.cached', 'user', 'alice', 'subscribe'));
    expect(hook).toHaveBeenCalledTimes(6);
    expect(cache.size).toBe(4);
  });

  it('invalidate drops what the filter selects, and the hook is asked again', () => {
    const cache = new AuthorizationCache();
    let allow = true;
    const hook = vi.fn<AuthorizeHook>(() => ({ allow, cache: true }));
    const cached = cache.wrap(hook);
    cached(request('com.a'));
    cached(request('com.b'));
    cached(request('com.a', 'admin', 'root'));
    allow = false;
    expect((cached(request('com.a')) as AuthorizeDecision).allow).toBe(true);
    expect(cache.invalidate({ authrole: 'user', uri: 'com.a' })).toBe(1);
    expect((cached(request('com.a')) as AuthorizeDecision).allow).toBe(false);
    expect((cached(request('com.b')) as AuthorizeDecision).allow).toBe(true);
    expect(cache.invalidate()).toBe(3);
    expect(cache.size).toBe(0);
  });

  it('a decision still pending when invalidate runs is used once but not kept', async () => {
    const cache = new AuthorizationCache();
    const pending = deferred<AuthorizeDecision>();
    const hook = vi.fn<AuthorizeHook>(() => pending.promise);
    const answer = cache.wrap(hook)(request('com.a'));
    cache.invalidate({ uri: 'com.a' });
    pending.resolve({ allow: true, cache: true });
    expect(await answer).toEqual({ allow: true, cache: true });
    expect(cache.size).toBe(0);
  });

  it('decisions expire after ttlMs, and the oldest go first beyond maxEntries', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new AuthorizationCache({ ttlMs: 1_000, maxEntries: 2 });
    const hook = vi.fn<AuthorizeHook>(() => ({ allow: true, cache: true }));
    const cached = cache.wrap(hook);
    cached(request('com.a'));
    vi.advanceTimersByTime(999);
    cached(request('com.a'));
    expect(hook).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    cached(request('com.a'));
    expect(hook).toHaveBeenCalledTimes(2);
    cached(request('com.b'));
    cached(request('com.c'));
    expect(cache.size).toBe(2);
    cached(request('com.a'));
    expect(hook).toHaveBeenCalledTimes(5);
  });

  it('through the router: a cached decision answers without the hook until RouterAuth.invalidateAuthorizations', async () => {
    let allow = true;
    const hook = vi.fn<AuthorizeHook>(() => ({ allow, cache: true }));
    const router = makeRouter({ authorize: hook });
    const peer = await joinedAs(router, 'user');
    peer.send([M.SUBSCRIBE, 1, {}, 'com.a']);
    expect(await outcome(peer)).toEqual([M.SUBSCRIBED]);
    allow = false;
    peer.send([M.SUBSCRIBE, 2, {}, 'com.a']);
    expect(await outcome(peer)).toEqual([M.SUBSCRIBED]);
    expect(hook).toHaveBeenCalledTimes(1);
    expect(router.auth.cachedAuthorizations).toBe(1);
    expect(router.auth.invalidateAuthorizations({ realm: 'realm1', authrole: 'user' })).toBe(1);
    peer.send([M.SUBSCRIBE, 3, {}, 'com.a']);
    expect(await outcome(peer)).toEqual(DENIED);
    expect(hook).toHaveBeenCalledTimes(2);
  });

  it('an { allow, disclose } answer of the hook discloses the caller', async () => {
    const router = makeRouter({ authorize: ({ action }) => (action === 'call' ? { allow: true, disclose: true } : true) });
    const callee = await joinedAs(router, 'service');
    callee.send([M.REGISTER, 1, {}, 'com.echo']);
    await callee.next();
    const caller = await joinedAs(router, 'user');
    caller.send([M.CALL, 1, {}, 'com.echo']);
    expect((await callee.nextOf(M.INVOCATION))[3]).toMatchObject({ caller_authrole: 'user' });
  });
});
