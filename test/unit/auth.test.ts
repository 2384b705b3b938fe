import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_AUTH_TIMEOUT_MS,
  ErrorUri,
  LocalClient,
  MAX_WAITING_AUTHORIZATIONS,
  Router,
  RouterAuth,
  RouterError,
  TicketAuthenticator,
  type AuthOptions,
  type AuthorizeHook,
  type AuthorizeRequest,
  type AuthRequest,
  type Identity,
  type RouterLogger,
  MessageCode,
  craDeriveKey,
  craSign,
  staticUsersAuth,
  checkStaticUsers,
  type IdentityWithSecret,
} from '@fox-wamp/core';
import { deferred } from '../support/autobahn-client.js';
import { InMemoryWampPeer, type WireMessage } from '../support/in-memory-wamp-peer.js';
import { seededRandom } from '../support/seeded-random.js';

// The authentication handshake and the authorization gate of the WAMP connection, driven message by message
// through an in-memory transport (test/support/in-memory-wamp-peer.ts): every branch of the state machine
// without sockets. The same flows over real listeners and real clients are in test/e2e/auth.test.ts.

// The spec's message codes, short for the many frames written below.
const M = MessageCode;

const routers: Router[] = [];
const locals: LocalClient[] = [];

afterEach(async () => {
  for (const local of locals.splice(0)) local.close();
  await Promise.all(routers.splice(0).map((router) => router.close()));
});

function makeRouter(auth?: AuthOptions, extra: { autoRealms?: boolean; logger?: RouterLogger } = {}): Router {
  const router = new Router({ realms: ['realm1'], auth, ...extra });
  routers.push(router);
  return router;
}

/** A logger that remembers what was logged, by level. */
function recordingLogger(): RouterLogger & { lines: Array<{ level: string; message: string; context?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; context?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, context?: Record<string, unknown>) => void lines.push({ level, message, context });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Users for ticket hooks: authid → ticket and role. */
const USERS: Record<string, { ticket: string; role: string }> = {
  alice: { ticket: 'alice-secret', role: 'admin' },
  bob: { ticket: 'bob-secret', role: 'user' },
};

const ticketHook = (request: AuthRequest): Identity => {
  const user = request.authid === undefined ? undefined : USERS[request.authid];
  if (user === undefined || user.ticket !== request.secret) throw new Error(`bad ticket for ${String(request.authid)}`);
  return { authrole: user.role };
};

/** HELLO with ticket, CHALLENGE, AUTHENTICATE: resolves with what the router answered last. */
async function ticketLogin(peer: InMemoryWampPeer, authid: string, ticket: string): Promise<WireMessage> {
  peer.hello('realm1', { authmethods: ['ticket'], authid });
  expect(await peer.next()).toEqual([M.CHALLENGE, 'ticket', {}]);
  peer.send([M.AUTHENTICATE, ticket, {}]);
  return peer.next();
}

/** A peer joined with `authid` (ticket) or anonymously; returns its session ID. */
async function joined(peer: InMemoryWampPeer, authid?: string): Promise<number> {
  const welcome = authid === undefined ? (peer.hello(), await peer.next()) : await ticketLogin(peer, authid, USERS[authid]!.ticket);
  expect(welcome[0]).toBe(M.WELCOME);
  return welcome[1] as number;
}

describe('RouterAuth configuration', () => {
  it('offers anonymous without any auth option, and ticket alone with an authenticate hook', () => {
    expect(new RouterAuth().methods).toEqual(['anonymous']);
    expect(new RouterAuth({ authenticate: ticketHook }).methods).toEqual(['ticket']);
    expect(new RouterAuth({ authenticate: ticketHook, methods: ['ticket', 'anonymous', 'ticket'] }).methods).toEqual(['ticket', 'anonymous']);
    expect(new RouterAuth().timeoutMs).toBe(DEFAULT_AUTH_TIMEOUT_MS);
  });

  it('refuses a configuration that cannot work, before the router opens anything', () => {
    expect(() => new Router({ auth: { methods: ['ticket'] } })).toThrow(/ticket, which needs an authenticate hook/);
    expect(() => new RouterAuth({ methods: ['wampcra'] })).toThrow(/wampcra, which needs an authenticate hook/);
    expect(() => new RouterAuth({ methods: ['scram'] })).toThrow(/unknown authentication method "scram"/);
    expect(() => new RouterAuth({ methods: [] })).toThrow(/at least one method/);
    expect(() => new RouterAuth({ timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('picks the first of the client\'s methods that the router offers', () => {
    const auth = new RouterAuth({ authenticate: ticketHook, methods: ['ticket', 'anonymous'] });
    expect(auth.pick(['anonymous', 'ticket'])?.method).toBe('anonymous');
    expect(auth.pick(['wampcra', 'ticket'])?.method).toBe('ticket');
    expect(auth.pick(['wampcra', 'cryptosign'])).toBeUndefined();
  });

  it('the ticket authenticator challenges with an empty extra and hands the ticket to the hook', async () => {
    const hook = vi.fn((request: AuthRequest): Identity => ({ authrole: `role-of-${String(request.secret)}` }));
    const hello = { realm: 'realm1', authmethod: 'ticket', authid: 'joe', authextra: {}, session: 1, connection: { protocol: 'wamp', transport: 'memory' } } as const;
    const step = new TicketAuthenticator(hook).begin(hello);
    expect('challenge' in step && step.challenge).toEqual({});
    const next = await (step as Extract<typeof step, { respond: unknown }>).respond({ signature: 'xyz', extra: {} });
    expect(next).toEqual({ identity: { authid: 'joe', authrole: 'role-of-xyz', authprovider: 'dynamic', authextra: undefined } });
    expect(hook).toHaveBeenCalledWith({ ...hello, secret: 'xyz' });
  });
});

describe('joining without auth options', () => {
  it('stays anonymous, with the session ID as authid, exactly as before hooks existed', async () => {
    const peer = new InMemoryWampPeer(makeRouter());
    peer.hello('realm1', { authid: 'claims-to-be-root' });
    const [code, sessionId, details] = await peer.next();
    expect(code).toBe(M.WELCOME);
    expect(details).toMatchObject({ authid: String(sessionId), authrole: 'anonymous', authmethod: 'anonymous', authprovider: 'static' });
    expect(details).not.toHaveProperty('authextra');
  });

  it('answers a client that offers only ticket with ABORT wamp.error.no_matching_auth_method', async () => {
    const router = makeRouter();
    const peer = new InMemoryWampPeer(router);
    peer.hello('realm1', { authmethods: ['ticket'], authid: 'alice' });
    const [code, details, reason] = await peer.next();
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.noMatchingAuthMethod]);
    expect((details as { message: string }).message).toContain('offered: anonymous');
    expect(await peer.closed()).toEqual({ protocolError: false });
    expect(router.sessionCount).toBe(0);
  });
});

describe('ticket authentication', () => {
  it('challenges, checks the ticket with the hook, and welcomes with the hook\'s identity', async () => {
    const hook = vi.fn((request: AuthRequest): Identity => ({ authid: `user:${request.authid}`, authrole: 'user', authprovider: 'ldap', authextra: { tier: 2 } }));
    const router = makeRouter({ authenticate: hook });
    const peer = new InMemoryWampPeer(router, { remoteAddress: '192.0.2.7' });
    peer.hello('realm1', { authmethods: ['ticket'], authid: 'joe', authextra: { device: 'phone' } });
    expect(await peer.next()).toEqual([M.CHALLENGE, 'ticket', {}]);
    expect(hook).not.toHaveBeenCalled();
    peer.send([M.AUTHENTICATE, 'secret!!!', {}]);
    const [code, sessionId, details] = await peer.next();
    expect(code).toBe(M.WELCOME);
    expect(details).toMatchObject({ realm: 'realm1', authid: 'user:joe', authrole: 'user', authmethod: 'ticket', authprovider: 'ldap', authextra: { tier: 2 } });
    expect(hook).toHaveBeenCalledWith({
      realm: 'realm1',
      authmethod: 'ticket',
      authid: 'joe',
      authextra: { device: 'phone' },
      secret: 'secret!!!',
      // The ID chosen at HELLO is the one WELCOME gives.
      session: sessionId,
      connection: { protocol: 'wamp', transport: 'memory', remoteAddress: '192.0.2.7' },
    });
    const session = router.getRealm('realm1')!.getSession(sessionId as number)!;
    expect(session.info).toMatchObject({ authid: 'user:joe', authrole: 'user', authmethod: 'ticket', authprovider: 'ldap', authextra: { tier: 2 } });
  });

  it('defaults the authid to the one from HELLO and the provider to dynamic, for sync and async hooks alike', async () => {
    for (const authenticate of [() => ({ authrole: 'user' }), async () => ({ authrole: 'user' })]) {
      const peer = new InMemoryWampPeer(makeRouter({ authenticate }));
      const [code, , details] = await ticketLogin(peer, 'bob', 'whatever');
      expect(code).toBe(M.WELCOME);
      expect(details).toMatchObject({ authid: 'bob', authrole: 'user', authmethod: 'ticket', authprovider: 'dynamic' });
    }
  });

  it('answers a wrong ticket with ABORT wamp.error.authentication_denied, without the hook\'s error text', async () => {
    const logger = recordingLogger();
    const router = makeRouter({ authenticate: ticketHook }, { logger });
    const peer = new InMemoryWampPeer(router);
    expect(await ticketLogin(peer, 'alice', 'wrong')).toEqual([M.ABORT, { message: 'authentication denied' }, ErrorUri.authenticationDenied]);
    expect(await peer.closed()).toEqual({ protocolError: false });
    expect(router.sessionCount).toBe(0);
    // The reason stays in the router's log.
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'info', message: 'authentication denied', context: expect.objectContaining({ error: 'Error: bad ticket for alice' }) }));
  });

  it('treats a rejected promise like a throw', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: () => Promise.reject(new Error('db says no')) }));
    const [code, , reason] = await ticketLogin(peer, 'alice', 'x');
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationDenied]);
  });

  it('lets a thrown RouterError choose the ABORT reason and message', async () => {
    const authenticate = () => {
      throw new RouterError('wamp.error.no_such_principal', 'no user called mallory');
    };
    const peer = new InMemoryWampPeer(makeRouter({ authenticate }));
    expect(await ticketLogin(peer, 'mallory', 'x')).toEqual([M.ABORT, { message: 'no user called mallory' }, 'wamp.error.no_such_principal']);
  });

  it('answers an identity without a role with ABORT wamp.error.authentication_failed (a misconfiguration)', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: () => ({ authid: 'joe' }) as unknown as Identity }));
    const [code, details, reason] = await ticketLogin(peer, 'joe', 'x');
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationFailed]);
    expect((details as { message: string }).message).toContain('authrole must be a non-empty string');
  });

  it('aborts with wamp.error.authentication_failed when the hook takes longer than timeoutMs', async () => {
    const router = makeRouter({ authenticate: () => new Promise<Identity>(() => {}), timeoutMs: 50 });
    const peer = new InMemoryWampPeer(router);
    const [code, details, reason] = await ticketLogin(peer, 'alice', 'alice-secret');
    expect([code, details, reason]).toEqual([M.ABORT, { message: 'authentication timed out' }, ErrorUri.authenticationFailed]);
    expect(router.sessionCount).toBe(0);
  });

  it('the timeout also ends a handshake whose client never answers the CHALLENGE', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: ticketHook, timeoutMs: 50 }));
    peer.hello('realm1', { authmethods: ['ticket'], authid: 'alice' });
    expect((await peer.next())[0]).toBe(M.CHALLENGE);
    expect(await peer.next()).toEqual([M.ABORT, { message: 'authentication timed out' }, ErrorUri.authenticationFailed]);
  });

  it('a hook that answers after the client disconnected creates no session', async () => {
    const answer = deferred<Identity>();
    const joinedIds: number[] = [];
    const router = makeRouter({ authenticate: () => answer.promise });
    router.getRealm('realm1')!.onSessionJoin((session) => joinedIds.push(session.id));
    const peer = new InMemoryWampPeer(router);
    peer.hello('realm1', { authmethods: ['ticket'], authid: 'alice' });
    await peer.next();
    peer.send([M.AUTHENTICATE, 'alice-secret', {}]);
    peer.drop();
    answer.resolve({ authrole: 'admin' });
    await answer.promise;
    await new Promise((resolve) => setImmediate(resolve)); // past the connection's continuation of the hook
    expect(joinedIds).toEqual([]);
    expect(router.sessionCount).toBe(0);
    expect(peer.pending()).toEqual([]);
  });

  it('a late hook failure after the timeout is ignored (one ABORT only)', async () => {
    const answer = deferred<Identity>();
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: () => answer.promise.then(() => Promise.reject(new Error('late'))), timeoutMs: 30 }));
    await ticketLogin(peer, 'alice', 'x');
    answer.resolve({ authrole: 'x' });
    await answer.promise;
    await new Promise((resolve) => setImmediate(resolve));
    expect(peer.received.filter((message) => message[0] === M.ABORT)).toHaveLength(1);
  });

  it('refuses an unknown realm before asking the hook, and creates an auto-realm only for an admitted client', async () => {
    const hook = vi.fn(ticketHook);
    const strict = new InMemoryWampPeer(makeRouter({ authenticate: hook }));
    strict.hello('nowhere', { authmethods: ['ticket'], authid: 'alice' });
    expect((await strict.next())[2]).toBe(ErrorUri.noSuchRealm);

    const router = makeRouter({ authenticate: hook }, { autoRealms: true });
    const denied = new InMemoryWampPeer(router);
    denied.hello('made.up', { authmethods: ['ticket'], authid: 'alice' });
    await denied.next();
    denied.send([M.AUTHENTICATE, 'wrong', {}]);
    expect((await denied.next())[2]).toBe(ErrorUri.authenticationDenied);
    expect(router.getRealm('made.up')).toBeUndefined();
    const admitted = new InMemoryWampPeer(router);
    admitted.hello('made.up', { authmethods: ['ticket'], authid: 'alice' });
    await admitted.next();
    admitted.send([M.AUTHENTICATE, 'alice-secret', {}]);
    expect((await admitted.next())[0]).toBe(M.WELCOME);
    expect(router.getRealm('made.up')?.sessionCount).toBe(1);
  });
});

describe('out-of-place messages during authentication', () => {
  it('a request before WELCOME is a protocol violation', async () => {
    const router = makeRouter({ authenticate: ticketHook });
    const peer = new InMemoryWampPeer(router);
    peer.hello('realm1', { authmethods: ['ticket'], authid: 'alice' });
    await peer.next();
    peer.send([M.PUBLISH, 1, {}, 'com.example.sneaky']);
    const [code, details, reason] = await peer.next();
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.protocolViolation]);
    expect((details as { message: string }).message).toBe('PUBLISH before the session is established');
    expect(await peer.closed()).toEqual({ protocolError: true });
  });

  it('a second AUTHENTICATE while the hook is still deciding is a protocol violation', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: () => new Promise<Identity>(() => {}) }));
    peer.hello('realm1', { authmethods: ['ticket'], authid: 'alice' });
    await peer.next();
    peer.send([M.AUTHENTICATE, 'alice-secret', {}]);
    peer.send([M.AUTHENTICATE, 'alice-secret', {}]);
    expect(await peer.next()).toEqual([M.ABORT, { message: 'AUTHENTICATE without a pending CHALLENGE' }, ErrorUri.protocolViolation]);
  });

  it('AUTHENTICATE for an anonymous join (no CHALLENGE sent) is a protocol violation', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: () => new Promise<Identity>(() => {}), methods: ['anonymous'] }));
    peer.hello();
    peer.send([M.AUTHENTICATE, 'x', {}]);
    expect((await peer.next())[2]).toBe(ErrorUri.protocolViolation);
  });

  it('an AUTHENTICATE with wrong field types is a protocol violation', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: ticketHook }));
    peer.hello('realm1', { authmethods: ['ticket'], authid: 'alice' });
    await peer.next();
    peer.send([M.AUTHENTICATE, 12345, []]);
    const [code, details, reason] = await peer.next();
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.protocolViolation]);
    expect((details as { message: string }).message).toContain('AUTHENTICATE field 1 must be a string');
  });

  it('malformed authmethods, authid or authextra in HELLO are protocol violations', async () => {
    for (const details of [{ authmethods: 'ticket' }, { authmethods: ['ticket', 7] }, { authid: 42 }, { authextra: [1] }]) {
      const peer = new InMemoryWampPeer(makeRouter({ authenticate: ticketHook }));
      peer.hello('realm1', details);
      expect((await peer.next())[2], JSON.stringify(details)).toBe(ErrorUri.protocolViolation);
    }
  });

  it('GOODBYE during authentication drops the attempt, and the transport can join again', async () => {
    const answer = deferred<Identity>();
    const router = makeRouter({ authenticate: () => answer.promise });
    const peer = new InMemoryWampPeer(router);
    peer.hello('realm1', { authmethods: ['ticket'], authid: 'alice' });
    await peer.next();
    peer.send([M.AUTHENTICATE, 'alice-secret', {}]);
    peer.send([M.GOODBYE, {}, 'wamp.close.close_realm']);
    expect(await peer.next()).toEqual([M.GOODBYE, {}, ErrorUri.goodbyeAndOut]);
    answer.resolve({ authrole: 'admin' }); // too late for the abandoned attempt
    await answer.promise;
    expect(router.sessionCount).toBe(0);
    peer.hello('realm1', { authmethods: ['ticket'], authid: 'alice' });
    expect((await peer.next())[0]).toBe(M.CHALLENGE);
  });
});

describe('anonymous clients with an authenticate hook', () => {
  it('the hook admits or refuses them, e.g. by remote address', async () => {
    const authenticate = (request: AuthRequest): Identity => {
      if (request.authmethod !== 'anonymous' || !request.connection.remoteAddress?.startsWith('10.')) throw new Error('outsider');
      return { authrole: 'intranet' };
    };
    const router = makeRouter({ authenticate, methods: ['anonymous'] });
    const inside = new InMemoryWampPeer(router, { remoteAddress: '10.1.2.3' });
    inside.hello();
    const [code, sessionId, details] = await inside.next();
    expect(code).toBe(M.WELCOME);
    // No authid from the hook and none in HELLO: the session ID, as for any anonymous session.
    expect(details).toMatchObject({ authid: String(sessionId), authrole: 'intranet', authmethod: 'anonymous', authprovider: 'dynamic' });
    const outside = new InMemoryWampPeer(router, { remoteAddress: '203.0.113.9' });
    outside.hello();
    expect((await outside.next())[2]).toBe(ErrorUri.authenticationDenied);
  });

  it('the client\'s order decides between offered methods', async () => {
    const hook = vi.fn((request: AuthRequest): Identity => ({ authrole: request.authmethod }));
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: hook, methods: ['ticket', 'anonymous'] }));
    peer.hello('realm1', { authmethods: ['anonymous', 'ticket'] });
    const [code, , details] = await peer.next();
    expect(code).toBe(M.WELCOME);
    expect(details).toMatchObject({ authmethod: 'anonymous', authrole: 'anonymous' });
    expect(hook).toHaveBeenCalledTimes(1);
    expect(hook.mock.calls[0]![0]).toMatchObject({ authmethod: 'anonymous', realm: 'realm1' });
    expect(hook.mock.calls[0]![0].secret).toBeUndefined();
  });

  it('a router with a hook and default methods refuses clients that only offer anonymous', async () => {
    const hook = vi.fn(ticketHook);
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: hook }));
    peer.hello();
    expect((await peer.next())[2]).toBe(ErrorUri.noMatchingAuthMethod);
    expect(hook).not.toHaveBeenCalled();
  });
});

describe('authorization', () => {
  /** Allows everything except what `deny` lists as "action uri" for role `user`. */
  const denyForUsers =
    (...deny: string[]): AuthorizeHook =>
    ({ session, action, uri }) =>
      !(session.info.authrole === 'user' && deny.includes(`${action} ${uri}`));

  it('asks the hook about every publish, subscribe, register and call, with the session and parsed options', async () => {
    const requests: AuthorizeRequest[] = [];
    const router = makeRouter({ authenticate: ticketHook, authorize: (request) => (requests.push(request), true) });
    const peer = new InMemoryWampPeer(router);
    const sessionId = await joined(peer, 'bob');
    peer.send([M.SUBSCRIBE, 1, { match: 'prefix' }, 'com.example']);
    peer.send([M.REGISTER, 2, { invoke: 'roundrobin' }, 'com.example.proc']);
    peer.send([M.CALL, 3, { receive_progress: true }, 'com.example.proc', [1]]);
    peer.send([M.PUBLISH, 4, { acknowledge: true, exclude_me: false, retain: true }, 'com.example.topic', ['x']]);
    peer.send([M.UNSUBSCRIBE, 5, 1]); // not an action the spec authorizes
    await peer.nextOf(M.PUBLISHED);
    expect(requests.map(({ action, uri, realm }) => [action, uri, realm])).toEqual([
      ['subscribe', 'com.example', 'realm1'],
      ['register', 'com.example.proc', 'realm1'],
      ['call', 'com.example.proc', 'realm1'],
      ['publish', 'com.example.topic', 'realm1'],
    ]);
    expect(requests[0]!.options).toMatchObject({ match: 'prefix' });
    expect(requests[1]!.options).toMatchObject({ invoke: 'roundrobin' });
    expect(requests[2]!.options).toMatchObject({ receiveProgress: true });
    expect(requests[3]!.options).toMatchObject({ excludeMe: false, retain: true });
    expect(requests[3]!.options).not.toHaveProperty('acknowledge');
    expect(requests[0]!.session.id).toBe(sessionId);
    expect(requests[0]!.session.info).toMatchObject({ authid: 'bob', authrole: 'user', authmethod: 'ticket' });
  });

  it('a denied request gets ERROR wamp.error.not_authorized; the same URI works for another role', async () => {
    const router = makeRouter({
      authenticate: ticketHook,
      authorize: denyForUsers('subscribe com.secret', 'register com.secret.proc', 'call com.secret.proc', 'publish com.secret'),
    });
    const bob = new InMemoryWampPeer(router);
    await joined(bob, 'bob');
    bob.send([M.SUBSCRIBE, 1, {}, 'com.secret']);
    bob.send([M.REGISTER, 2, {}, 'com.secret.proc']);
    bob.send([M.CALL, 3, {}, 'com.secret.proc']);
    bob.send([M.PUBLISH, 4, { acknowledge: true }, 'com.secret', ['leak']]);
    expect([await bob.next(), await bob.next(), await bob.next(), await bob.next()]).toEqual([
      [M.ERROR, M.SUBSCRIBE, 1, {}, ErrorUri.notAuthorized, ['not authorized to subscribe com.secret']],
      [M.ERROR, M.REGISTER, 2, {}, ErrorUri.notAuthorized, ['not authorized to register com.secret.proc']],
      [M.ERROR, M.CALL, 3, {}, ErrorUri.notAuthorized, ['not authorized to call com.secret.proc']],
      [M.ERROR, M.PUBLISH, 4, {}, ErrorUri.notAuthorized, ['not authorized to publish com.secret']],
    ]);
    // The session lives on, and allowed requests work.
    bob.send([M.SUBSCRIBE, 5, {}, 'com.public']);
    expect((await bob.next()).slice(0, 2)).toEqual([M.SUBSCRIBED, 5]);

    const alice = new InMemoryWampPeer(router);
    await joined(alice, 'alice');
    alice.send([M.REGISTER, 1, {}, 'com.secret.proc']);
    expect((await alice.next()).slice(0, 2)).toEqual([M.REGISTERED, 1]);
  });

  it('an unacknowledged publish that is denied is dropped silently; the next allowed one is delivered', async () => {
    const router = makeRouter({ authenticate: ticketHook, authorize: denyForUsers('publish com.feed.secret') });
    const subscriber = new InMemoryWampPeer(router);
    await joined(subscriber, 'alice');
    subscriber.send([M.SUBSCRIBE, 1, { match: 'prefix' }, 'com.feed']);
    await subscriber.nextOf(M.SUBSCRIBED);
    const bob = new InMemoryWampPeer(router);
    await joined(bob, 'bob');
    bob.send([M.PUBLISH, 1, {}, 'com.feed.secret', ['no']]);
    bob.send([M.PUBLISH, 2, {}, 'com.feed.open', ['yes']]);
    const event = await subscriber.nextOf(M.EVENT);
    expect(event[4]).toEqual(['yes']);
    expect(bob.pending()).toEqual([]);
  });

  it('a hook that throws refuses with wamp.error.authorization_failed and logs the error', async () => {
    const logger = recordingLogger();
    const authorize: AuthorizeHook = ({ uri }) => {
      if (uri === 'com.boom') throw new Error('policy store down');
      return true;
    };
    const router = makeRouter({ authorize }, { logger });
    const peer = new InMemoryWampPeer(router);
    await joined(peer);
    peer.send([M.CALL, 1, {}, 'com.boom']);
    expect(await peer.next()).toEqual([M.ERROR, M.CALL, 1, {}, ErrorUri.authorizationFailed, ['the authorization check failed']]);
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'error', message: 'authorize hook failed', context: expect.objectContaining({ error: 'Error: policy store down' }) }));
    peer.send([M.SUBSCRIBE, 2, {}, 'com.fine']);
    expect((await peer.next())[0]).toBe(M.SUBSCRIBED);
  });

  it('a non-boolean answer, a rejection and a timeout all refuse with wamp.error.authorization_failed', async () => {
    const answers: Record<string, () => unknown> = {
      'com.undefined': () => undefined,
      'com.truthy': () => 'yes',
      'com.rejects': () => Promise.reject(new Error('nope')),
      'com.resolves-string': () => Promise.resolve('true'),
      'com.hangs': () => new Promise(() => {}),
    };
    const authorize = (({ uri }: AuthorizeRequest) => answers[uri]!()) as AuthorizeHook;
    const peer = new InMemoryWampPeer(makeRouter({ authorize, timeoutMs: 50 }));
    await joined(peer);
    const uris = Object.keys(answers);
    uris.forEach((uri, index) => peer.send([M.SUBSCRIBE, index + 1, {}, uri]));
    for (const [index] of uris.entries()) {
      const reply = await peer.next();
      expect(reply.slice(0, 5), uris[index]).toEqual([M.ERROR, M.SUBSCRIBE, index + 1, {}, ErrorUri.authorizationFailed]);
    }
  });

  it('a RouterError thrown by the hook is the answer as is', async () => {
    const authorize = () => {
      throw new RouterError('com.example.error.quota_exceeded', 'too many subscriptions');
    };
    const peer = new InMemoryWampPeer(makeRouter({ authorize }));
    await joined(peer);
    peer.send([M.SUBSCRIBE, 1, {}, 'com.a']);
    expect(await peer.next()).toEqual([M.ERROR, M.SUBSCRIBE, 1, {}, 'com.example.error.quota_exceeded', ['too many subscriptions']]);
  });

  it('a request with malformed options is answered before the hook is asked', async () => {
    const authorize = vi.fn(() => true);
    const peer = new InMemoryWampPeer(makeRouter({ authorize }));
    await joined(peer);
    peer.send([M.SUBSCRIBE, 1, { match: 'fuzzy' }, 'com.a']);
    expect((await peer.next()).slice(0, 5)).toEqual([M.ERROR, M.SUBSCRIBE, 1, {}, ErrorUri.invalidArgument]);
    expect(authorize).not.toHaveBeenCalled();
  });

  it('a synchronous hook answers in the same turn: no promise on the fast path', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authorize: () => true }));
    await joined(peer);
    peer.send([M.SUBSCRIBE, 1, {}, 'com.a']);
    // Read without awaiting anything: SUBSCRIBED is already there.
    expect(peer.pending().map((message) => message[0])).toEqual([M.SUBSCRIBED]);
  });

  it('an async hook with random delays keeps one session\'s publications in order (50 events)', async () => {
    const random = seededRandom(0xa0e5);
    const authorize: AuthorizeHook = ({ action }) =>
      action === 'publish' ? new Promise((resolve) => setTimeout(() => resolve(true), Math.floor(random() * 20))) : true;
    const router = makeRouter({ authorize });
    const subscriber = new InMemoryWampPeer(router);
    await joined(subscriber);
    subscriber.send([M.SUBSCRIBE, 1, {}, 'com.seq']);
    await subscriber.nextOf(M.SUBSCRIBED);
    const publisher = new InMemoryWampPeer(router);
    await joined(publisher);
    for (let i = 0; i < 50; i++) publisher.send([M.PUBLISH, i + 1, {}, 'com.seq', [i]]);
    const seen: unknown[] = [];
    while (seen.length < 50) seen.push(((await subscriber.nextOf(M.EVENT)) as unknown[])[4] as unknown[]);
    expect(seen.map((args) => (args as number[])[0])).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('a request decided at once still waits behind an undecided one; a denial in the line keeps the order of the rest', async () => {
    const slow = deferred<boolean>();
    // Decided by topic: com.seq.slow asynchronously, com.seq.denied refused, the rest allowed at once.
    const authorize: AuthorizeHook = ({ action, uri }) =>
      action !== 'publish' ? true : uri === 'com.seq.slow' ? slow.promise : uri !== 'com.seq.denied';
    const router = makeRouter({ authorize });
    const subscriber = new InMemoryWampPeer(router);
    await joined(subscriber);
    subscriber.send([M.SUBSCRIBE, 1, { match: 'prefix' }, 'com.seq']);
    await subscriber.nextOf(M.SUBSCRIBED);
    const publisher = new InMemoryWampPeer(router);
    await joined(publisher);
    publisher.send([M.PUBLISH, 1, {}, 'com.seq.slow', ['slow']]);
    publisher.send([M.PUBLISH, 2, { acknowledge: true }, 'com.seq.denied', ['denied']]);
    publisher.send([M.PUBLISH, 3, {}, 'com.seq.fast', ['fast']]);
    // Another session's event goes through the same realm pipeline: had "fast" overtaken, it would come first.
    const other = new InMemoryWampPeer(router);
    await joined(other);
    other.send([M.PUBLISH, 1, { acknowledge: true }, 'com.seq.marker', ['marker']]);
    await other.nextOf(M.PUBLISHED);
    expect(((await subscriber.nextOf(M.EVENT)) as unknown[])[4]).toEqual(['marker']);
    expect(publisher.pending()).toEqual([]); // not even the denial has been answered yet
    slow.resolve(true);
    expect(((await subscriber.nextOf(M.EVENT)) as unknown[])[4]).toEqual(['slow']);
    expect(((await subscriber.nextOf(M.EVENT)) as unknown[])[4]).toEqual(['fast']);
    expect((await publisher.next()).slice(0, 5)).toEqual([M.ERROR, M.PUBLISH, 2, {}, ErrorUri.notAuthorized]);
  });

  it('YIELD is not held behind the callee\'s own pending authorization', async () => {
    const pending = deferred<boolean>();
    const authorize: AuthorizeHook = ({ action, uri }) => (action === 'publish' && uri === 'com.slow' ? pending.promise : true);
    const router = makeRouter({ authorize });
    const callee = new InMemoryWampPeer(router);
    await joined(callee);
    callee.send([M.REGISTER, 1, {}, 'com.proc']);
    await callee.nextOf(M.REGISTERED);
    const caller = new InMemoryWampPeer(router);
    await joined(caller);
    caller.send([M.CALL, 7, {}, 'com.proc']);
    const invocation = await callee.nextOf(M.INVOCATION);
    callee.send([M.PUBLISH, 2, { acknowledge: true }, 'com.slow']); // waits for its decision
    callee.send([M.YIELD, invocation[1], {}, ['done']]);
    expect(await caller.nextOf(M.RESULT)).toEqual([M.RESULT, 7, {}, ['done']]);
    expect(callee.pending()).toEqual([]);
    pending.resolve(true);
    expect((await callee.next())[0]).toBe(M.PUBLISHED);
  });

  it('GOODBYE waits behind pending requests, so a publish sent before it is still delivered', async () => {
    const pending = deferred<boolean>();
    const authorize: AuthorizeHook = ({ action, session }) => (action === 'publish' && session.info.authrole === 'user' ? pending.promise : true);
    const router = makeRouter({ authenticate: ticketHook, authorize });
    const subscriber = new InMemoryWampPeer(router);
    await joined(subscriber, 'alice');
    subscriber.send([M.SUBSCRIBE, 1, {}, 'com.last.words']);
    await subscriber.nextOf(M.SUBSCRIBED);
    const bob = new InMemoryWampPeer(router);
    await joined(bob, 'bob');
    bob.send([M.PUBLISH, 1, {}, 'com.last.words', ['bye all']]);
    bob.send([M.GOODBYE, {}, 'wamp.close.close_realm']);
    expect(router.sessionCount).toBe(2);
    pending.resolve(true);
    expect(((await subscriber.nextOf(M.EVENT)) as unknown[])[4]).toEqual(['bye all']);
    expect(await bob.next()).toEqual([M.GOODBYE, {}, ErrorUri.goodbyeAndOut]);
    expect(router.sessionCount).toBe(1);
  });

  it('decisions that arrive after the client disconnected are ignored', async () => {
    const pending = deferred<boolean>();
    const router = makeRouter({ authorize: ({ action }) => (action === 'publish' ? pending.promise : true) });
    const subscriber = new InMemoryWampPeer(router);
    await joined(subscriber);
    subscriber.send([M.SUBSCRIBE, 1, {}, 'com.gone']);
    await subscriber.nextOf(M.SUBSCRIBED);
    const publisher = new InMemoryWampPeer(router);
    await joined(publisher);
    publisher.send([M.PUBLISH, 1, { acknowledge: true }, 'com.gone', ['late']]);
    publisher.drop();
    expect(router.sessionCount).toBe(1);
    pending.resolve(true);
    await pending.promise;
    await new Promise((resolve) => setImmediate(resolve)); // every continuation of the decision has run
    // A marker through the same realm pipeline: the late publish would have been delivered before it.
    const other = new InMemoryWampPeer(router);
    await joined(other);
    other.send([M.PUBLISH, 1, { acknowledge: true }, 'com.gone', ['marker']]);
    await other.nextOf(M.PUBLISHED);
    expect(((await subscriber.nextOf(M.EVENT)) as unknown[])[4]).toEqual(['marker']);
    expect(publisher.pending()).toEqual([]);
  });

  it(`a client that piles up more than ${MAX_WAITING_AUTHORIZATIONS} undecided requests is aborted`, async () => {
    const router = makeRouter({ authorize: () => new Promise<boolean>(() => {}), timeoutMs: 60_000 });
    const peer = new InMemoryWampPeer(router);
    await joined(peer);
    for (let i = 1; i <= MAX_WAITING_AUTHORIZATIONS + 1; i++) peer.send([M.PUBLISH, i, {}, 'com.flood']);
    const [code, , reason] = await peer.next();
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.authorizationFailed]);
    expect(router.sessionCount).toBe(0);
  });

  it('in-process sessions (LocalClient, what RealmService uses) are trusted and never asked about', async () => {
    const authorize = vi.fn(() => false);
    const router = makeRouter({ authorize });
    const local = new LocalClient(router.getRealm('realm1')!);
    locals.push(local);
    local.register('com.local.proc', () => 'ok');
    expect(await local.call('com.local.proc')).toEqual({ args: ['ok'], kwargs: {} });
    await local.publish('com.local.topic', ['x']);
    expect(local.session.info.authrole).toBe('trusted');
    expect(authorize).not.toHaveBeenCalled();
  });
});

describe('wampcra authentication', () => {
  /** authid → password, role; `carol`'s secret is salted: the hook returns the derived key, never the password. */
  const CRA_USERS: Record<string, IdentityWithSecret> = {
    dave: { authrole: 'operator', authprovider: 'userdb', secret: 'dave-secret' },
    carol: { authrole: 'admin', secret: craDeriveKey('carol-password', 'pepper', 100, 16), salt: 'pepper', iterations: 100, keylen: 16 },
  };
  const craHook = vi.fn((request: AuthRequest): IdentityWithSecret => {
    const user = CRA_USERS[request.authid ?? ''];
    if (user === undefined) throw new Error(`no user ${String(request.authid)}`);
    return user;
  });
  afterEach(() => void craHook.mockClear());

  /** HELLO with wampcra for `authid`: resolves with CHALLENGE.Extra, the challenge parsed. */
  async function challenged(peer: InMemoryWampPeer, authid: string): Promise<{ extra: Record<string, unknown>; challenge: Record<string, unknown> }> {
    peer.hello('realm1', { authmethods: ['wampcra'], authid });
    const [code, method, extra] = await peer.next();
    expect([code, method]).toEqual([M.CHALLENGE, 'wampcra']);
    const challengeText = (extra as { challenge: string }).challenge;
    return { extra: extra as Record<string, unknown>, challenge: JSON.parse(challengeText) as Record<string, unknown> };
  }

  it('asks the hook at HELLO, before the CHALLENGE, with the authid and no secret', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: craHook, methods: ['wampcra'] }));
    await challenged(peer, 'dave');
    expect(craHook).toHaveBeenCalledTimes(1);
    const request = craHook.mock.calls[0]![0];
    expect(request).toMatchObject({ authmethod: 'wampcra', authid: 'dave', realm: 'realm1' });
    expect(request).not.toHaveProperty('secret');
  });

  it('the challenge is the spec\'s JSON: authid, authrole, authmethod, authprovider, nonce, ISO timestamp, and the session ID WELCOME gives', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: craHook, methods: ['wampcra'] }));
    const before = Date.now();
    const { extra, challenge } = await challenged(peer, 'dave');
    expect(Object.keys(extra)).toEqual(['challenge']);
    expect(challenge).toMatchObject({ authid: 'dave', authrole: 'operator', authmethod: 'wampcra', authprovider: 'userdb' });
    expect(typeof challenge.nonce).toBe('string');
    expect((challenge.nonce as string).length).toBeGreaterThanOrEqual(16);
    expect(challenge.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(challenge.timestamp as string)).toBeGreaterThanOrEqual(before - 1);
    expect(Number.isSafeInteger(challenge.session)).toBe(true);
    peer.send([M.AUTHENTICATE, craSign('dave-secret', (extra as { challenge: string }).challenge), {}]);
    const [code, sessionId, details] = await peer.next();
    expect(code).toBe(M.WELCOME);
    expect(sessionId).toBe(challenge.session);
    expect(details).toMatchObject({ authid: 'dave', authrole: 'operator', authmethod: 'wampcra', authprovider: 'userdb' });
  });

  it('every attempt gets a fresh nonce and session ID', async () => {
    const router = makeRouter({ authenticate: craHook, methods: ['wampcra'] });
    const first = await challenged(new InMemoryWampPeer(router), 'dave');
    const second = await challenged(new InMemoryWampPeer(router), 'dave');
    expect(second.challenge.nonce).not.toBe(first.challenge.nonce);
    expect(second.challenge.session).not.toBe(first.challenge.session);
  });

  it('a salted secret: CHALLENGE.Extra carries salt, iterations and keylen, and the key derived from the password signs', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: craHook, methods: ['wampcra'] }));
    const { extra, challenge } = await challenged(peer, 'carol');
    expect(extra).toMatchObject({ salt: 'pepper', iterations: 100, keylen: 16 });
    expect(challenge).toMatchObject({ authid: 'carol', authrole: 'admin', authprovider: 'dynamic' });
    const key = craDeriveKey('carol-password', extra.salt as string, extra.iterations as number, extra.keylen as number);
    peer.send([M.AUTHENTICATE, craSign(key, extra.challenge as string), {}]);
    expect((await peer.next()).slice(0, 1)).toEqual([M.WELCOME]);
  });

  it('a salted secret signed with the bare password is refused', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: craHook, methods: ['wampcra'] }));
    const { extra } = await challenged(peer, 'carol');
    peer.send([M.AUTHENTICATE, craSign('carol-password', extra.challenge as string), {}]);
    expect((await peer.next())[2]).toBe(ErrorUri.authenticationFailed);
  });

  it('a wrong signature: ABORT wamp.error.authentication_failed, and no session', async () => {
    const router = makeRouter({ authenticate: craHook, methods: ['wampcra'] });
    const peer = new InMemoryWampPeer(router);
    const { extra } = await challenged(peer, 'dave');
    peer.send([M.AUTHENTICATE, craSign('not-daves-secret', extra.challenge as string), {}]);
    const [code, details, reason] = await peer.next();
    expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationFailed]);
    expect(details).toEqual({ message: 'wampcra signature does not match' });
    expect(await peer.closed()).toEqual({ protocolError: false });
    expect(router.sessionCount).toBe(0);
  });

  it('a signature that is not even base64 of the right length is refused the same way', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: craHook, methods: ['wampcra'] }));
    await challenged(peer, 'dave');
    peer.send([M.AUTHENTICATE, '', {}]);
    expect((await peer.next())[2]).toBe(ErrorUri.authenticationFailed);
  });

  it('a replayed AUTHENTICATE (a valid signature from an earlier handshake) is refused', async () => {
    const router = makeRouter({ authenticate: craHook, methods: ['wampcra'] });
    const first = new InMemoryWampPeer(router);
    const { extra } = await challenged(first, 'dave');
    const signature = craSign('dave-secret', extra.challenge as string);
    first.send([M.AUTHENTICATE, signature, {}]);
    expect((await first.next())[0]).toBe(M.WELCOME);
    // An eavesdropper sends the same signature on a connection of its own.
    const replay = new InMemoryWampPeer(router);
    await challenged(replay, 'dave');
    replay.send([M.AUTHENTICATE, signature, {}]);
    expect((await replay.next())[2]).toBe(ErrorUri.authenticationFailed);
    expect(router.sessionCount).toBe(1);
  });

  it('an unknown authid is refused at HELLO (no CHALLENGE), as the hook decides', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: craHook, methods: ['wampcra'] }));
    peer.hello('realm1', { authmethods: ['wampcra'], authid: 'mallory' });
    expect(await peer.next()).toEqual([M.ABORT, { message: 'authentication denied' }, ErrorUri.authenticationDenied]);
  });

  it('HELLO without an authid is refused without asking the hook', async () => {
    const peer = new InMemoryWampPeer(makeRouter({ authenticate: craHook, methods: ['wampcra'] }));
    peer.hello('realm1', { authmethods: ['wampcra'] });
    expect((await peer.next()).slice(1)).toEqual([{ message: 'wampcra needs an authid in HELLO' }, ErrorUri.authenticationDenied]);
    expect(craHook).not.toHaveBeenCalled();
  });

  it('a hook that returns no secret (or a malformed salt) is a misconfiguration: ABORT wamp.error.authentication_failed', async () => {
    const answers: unknown[] = [{ authrole: 'user' }, { authrole: 'user', secret: 's', iterations: 10 }, { authrole: 'user', secret: 's', salt: 'x', keylen: 0 }];
    for (const answer of answers) {
      const peer = new InMemoryWampPeer(makeRouter({ authenticate: async () => answer as Identity, methods: ['wampcra'] }));
      peer.hello('realm1', { authmethods: ['wampcra'], authid: 'dave' });
      const [code, details, reason] = await peer.next();
      expect([code, reason]).toEqual([M.ABORT, ErrorUri.authenticationFailed]);
      expect((details as { message: string }).message).toContain('invalid wampcra user');
    }
  });
});

describe('static users (the standalone server\'s users setting)', () => {
  const users = checkStaticUsers([
    { authid: 'alice', ticket: 's3cret', role: 'user' },
    { authid: 'bob', secret: 'bob-key', role: 'admin' },
    { authid: 'erin', secret: craDeriveKey('erin-pw', 'salt1', 50, 32), salt: 'salt1', iterations: 50, role: 'user' },
  ]);

  it('offers the methods the users need, and anonymous only when asked', () => {
    expect(staticUsersAuth(users).methods).toEqual(['wampcra', 'ticket']);
    expect(staticUsersAuth(users, { anonymous: true }).methods).toEqual(['wampcra', 'ticket', 'anonymous']);
    expect(staticUsersAuth([users[0]!]).methods).toEqual(['ticket']);
  });

  it('ticket and wampcra users join with their role and provider static; each only by its own method', async () => {
    const router = makeRouter(staticUsersAuth(users));
    const [code, , details] = await ticketLogin(new InMemoryWampPeer(router), 'alice', 's3cret');
    expect(code).toBe(M.WELCOME);
    expect(details).toMatchObject({ authid: 'alice', authrole: 'user', authmethod: 'ticket', authprovider: 'static' });

    const bob = new InMemoryWampPeer(router);
    bob.hello('realm1', { authmethods: ['wampcra'], authid: 'bob' });
    const [, , extra] = await bob.next();
    bob.send([M.AUTHENTICATE, craSign('bob-key', (extra as { challenge: string }).challenge), {}]);
    expect((await bob.next())[2]).toMatchObject({ authid: 'bob', authrole: 'admin', authmethod: 'wampcra', authprovider: 'static' });

    const erin = new InMemoryWampPeer(router);
    erin.hello('realm1', { authmethods: ['wampcra'], authid: 'erin' });
    const [, , salted] = (await erin.next()) as [number, string, Record<string, unknown>];
    expect(salted).toMatchObject({ salt: 'salt1', iterations: 50, keylen: 32 });
    erin.send([M.AUTHENTICATE, craSign(craDeriveKey('erin-pw', 'salt1', 50, 32), salted.challenge as string), {}]);
    expect((await erin.next())[0]).toBe(M.WELCOME);

    // bob has a wampcra secret, not a ticket: his secret as a ticket does not work.
    expect((await ticketLogin(new InMemoryWampPeer(router), 'bob', 'bob-key'))[2]).toBe(ErrorUri.authenticationDenied);
    expect((await ticketLogin(new InMemoryWampPeer(router), 'alice', 'S3CRET'))[2]).toBe(ErrorUri.authenticationDenied);
    expect((await ticketLogin(new InMemoryWampPeer(router), 'nobody', 's3cret'))[2]).toBe(ErrorUri.authenticationDenied);
  });

  it('anonymous clients, when allowed, get role anonymous and their session ID as authid, whatever authid they claim', async () => {
    const peer = new InMemoryWampPeer(makeRouter(staticUsersAuth(users, { anonymous: true })));
    peer.hello('realm1', { authid: 'alice' });
    const [code, sessionId, details] = await peer.next();
    expect(code).toBe(M.WELCOME);
    expect(details).toMatchObject({ authid: String(sessionId), authrole: 'anonymous', authmethod: 'anonymous', authprovider: 'static' });
  });

  it('refuses malformed user lists with a message that names the user and the problem (never the secret)', () => {
    expect(() => checkStaticUsers({})).toThrow('users must be a list of users');
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r' }])).toThrow('users[0] (a): give either ticket');
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', ticket: 't', secret: 's' }])).toThrow(/users\[0\] \(a\): give either/);
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', ticket: 't', salt: 'x' }])).toThrow('go with secret');
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', secret: 'topsecret', salt: 'x', iterations: 1.5 }])).toThrow(
      'users[0] (a): iterations must be a positive integer',
    );
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', secret: 's', password: 'p' }])).toThrow('unknown field "password"');
    expect(() => checkStaticUsers([{ authid: 'a', role: 'r', ticket: 't' }, { authid: 'a', role: 'r', ticket: 'u' }])).toThrow('listed twice');
    expect(() => checkStaticUsers([{ role: 'r', ticket: 't' }])).toThrow('users[0]: authid must be a non-empty string');
  });
});
