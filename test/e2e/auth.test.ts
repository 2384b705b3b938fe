import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Errors } from 'wampy';
import {
  ErrorUri,
  FoxWampModule,
  RouterService,
  type AuthorizeRequest,
  type AuthRequest,
  type Identity,
} from '@fox-wamp/nestjs';
import {
  AutobahnClients,
  ConnectionClosedError,
  connectAutobahn,
  deferred,
  Inbox,
  rejectionOf,
  SERIALIZERS,
  type AutobahnClient,
  type Dict,
} from '../support/autobahn-client.js';
import { until, wampUrlOf } from '../support/nest-app.js';
import { PythonScript, pythonAutobahnProblem } from '../support/python-process.js';
import { RawWampClient } from '../support/raw-wamp-client.js';
import { seededRandom } from '../support/seeded-random.js';
import { WampyClients } from '../support/wampy-client.js';

// Authentication and authorization hooks end to end: a Nest app whose FoxWampModule gets its hooks from
// injected services (forRootAsync), a real WebSocket listener, and real clients: npm autobahn, wampy,
// autobahn-python (Debian's python3-autobahn) and hand-made frames for what no library would send.

const AUTH_TIMEOUT_MS = 1_000;

const USERS: Record<string, { ticket: string; role: string }> = {
  alice: { ticket: 'alice-ticket', role: 'admin' },
  bob: { ticket: 'bob-ticket', role: 'user' },
};

/** A hook answer the test releases by hand: for "the client left while the hook was thinking". */
interface HeldLogin {
  readonly asked: Promise<void>;
  answer(identity: Identity): void;
}

/** The application's user store: what the authenticate hook asks. */
@Injectable()
class UserDirectory {
  private held: { asked: () => void; answer: Promise<Identity> } | undefined;

  /** The next login of `hesitant` waits until the returned `answer` is called. */
  holdNextLogin(): HeldLogin {
    const asked = deferred();
    const answer = deferred<Identity>();
    this.held = { asked: () => asked.resolve(), answer: answer.promise };
    return { asked: asked.promise, answer: (identity) => answer.resolve(identity) };
  }

  authenticate(request: AuthRequest): Identity | Promise<Identity> {
    if (request.authmethod === 'anonymous') return { authrole: 'guest' };
    if (request.authid === 'slowpoke') return new Promise<Identity>(() => {});
    if (request.authid === 'hesitant' && this.held !== undefined) {
      const held = this.held;
      this.held = undefined;
      held.asked();
      return held.answer;
    }
    const user = USERS[request.authid ?? ''];
    if (user === undefined || user.ticket !== request.secret) throw new Error(`wrong ticket for ${String(request.authid)}`);
    return { authrole: user.role, authprovider: 'user-directory', authextra: { greeting: `hello ${request.authid}` } };
  }
}

/** The application's access rules: what the authorize hook asks. */
@Injectable()
class AccessPolicy {
  private readonly random = seededRandom(0x5eed);

  authorize({ session, action, uri }: AuthorizeRequest): boolean | Promise<boolean> {
    const role = session.info.authrole;
    // Decided "remotely", after a random delay: a session's requests must still keep their order.
    if (uri.startsWith('com.seq')) return new Promise((resolve) => setTimeout(() => resolve(true), Math.floor(this.random() * 15)));
    if (uri.startsWith('com.secret')) return role === 'admin';
    if (role === 'guest') return action === 'subscribe' || action === 'call';
    return true;
  }
}

@Module({ providers: [UserDirectory, AccessPolicy], exports: [UserDirectory, AccessPolicy] })
class SecurityModule {}

@Module({
  imports: [
    SecurityModule,
    FoxWampModule.forRootAsync({
      imports: [SecurityModule],
      inject: [UserDirectory, AccessPolicy],
      useFactory: (users: UserDirectory, policy: AccessPolicy) => ({
        wamp: { path: '/ws' },
        auth: {
          methods: ['ticket', 'anonymous'],
          authenticate: (request) => users.authenticate(request),
          authorize: (request) => policy.authorize(request),
          timeoutMs: AUTH_TIMEOUT_MS,
        },
      }),
    }),
  ],
})
class AppModule {}

let app: INestApplication;
let url: string;
let routerService: RouterService;

beforeAll(async () => {
  app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  url = wampUrlOf(app);
  routerService = app.get(RouterService);
});

afterAll(async () => {
  await app?.close();
});

const clients = new AutobahnClients(() => url);
const rawClients: RawWampClient[] = [];

afterEach(async () => {
  await clients.closeAll();
  for (const raw of rawClients.splice(0)) raw.terminate();
});

/** Ticket login options for autobahn's Connection. */
function ticket(authid: string, secret: string): Dict {
  return { authmethods: ['ticket'], authid, onchallenge: (_session: unknown, method: string) => (method === 'ticket' ? secret : 'unexpected method') };
}

function login(authid: string, serializer: (typeof SERIALIZERS)[number] = 'json'): Promise<AutobahnClient> {
  return clients.connect(serializer, 'realm1', ticket(authid, USERS[authid]!.ticket));
}

/** The ABORT an autobahn client got instead of WELCOME. */
async function refusal(extra: Dict): Promise<{ reason: string | null; message: string | null }> {
  const error = await connectAutobahn(url, 'json', 'realm1', extra).then(
    async (client) => {
      await client.close();
      return expect.fail(`the router welcomed the client as ${JSON.stringify(client.welcome)}`);
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ConnectionClosedError);
  const { reason, message } = (error as ConnectionClosedError).details;
  return { reason, message };
}

async function raw(): Promise<RawWampClient> {
  const client = await RawWampClient.connect(url);
  rawClients.push(client);
  return client;
}

const ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

describe.each(SERIALIZERS)('ticket authentication with npm autobahn over %s', (serializer) => {
  it('a correct ticket is welcomed with the identity the hook returned', async () => {
    const alice = await login('alice', serializer);
    expect(alice.welcome).toMatchObject({
      authid: 'alice',
      authrole: 'admin',
      authmethod: 'ticket',
      authprovider: 'user-directory',
      authextra: { greeting: 'hello alice' },
    });
    const [session] = routerService.sessions().filter((candidate) => candidate.id === Number(alice.session.id));
    expect(session?.info).toMatchObject({ authid: 'alice', authrole: 'admin', transport: 'websocket' });
  });
});

describe('ticket authentication refused', () => {
  it('a wrong ticket: ABORT wamp.error.authentication_denied reaches the autobahn client', async () => {
    const sessionsBefore = routerService.sessionCount;
    expect(await refusal(ticket('alice', 'guess'))).toEqual({ reason: ErrorUri.authenticationDenied, message: 'authentication denied' });
    expect(routerService.sessionCount).toBe(sessionsBefore);
  });

  it('no method in common: ABORT wamp.error.no_matching_auth_method', async () => {
    const { reason, message } = await refusal({ authmethods: ['wampcra', 'cryptosign'], authid: 'alice' });
    expect(reason).toBe(ErrorUri.noMatchingAuthMethod);
    expect(message).toContain('offered: ticket, anonymous');
  });

  it(`a hook that does not answer within timeoutMs (${AUTH_TIMEOUT_MS} ms): ABORT wamp.error.authentication_failed`, async () => {
    const started = Date.now();
    expect(await refusal(ticket('slowpoke', 'any'))).toEqual({ reason: ErrorUri.authenticationFailed, message: 'authentication timed out' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(AUTH_TIMEOUT_MS - 50);
  });

  it('the router keeps serving others after each refusal', async () => {
    await refusal(ticket('bob', 'wrong'));
    await refusal({ authmethods: ['scram'] });
    const bob = await login('bob');
    expect(bob.welcome).toMatchObject({ authid: 'bob', authrole: 'user' });
  });
});

describe('anonymous clients', () => {
  it('are admitted by the hook as guests, with the session ID as authid', async () => {
    const guest = await clients.connect('json');
    expect(guest.welcome).toMatchObject({ authid: String(guest.session.id), authrole: 'guest', authmethod: 'anonymous', authprovider: 'dynamic' });
  });
});

describe('ticket authentication with wampy', () => {
  it('a correct ticket is welcomed; a wrong one rejects connect() with the ABORT reason', async () => {
    const wampy = new WampyClients(url, 'json');
    try {
      const onChallenge = (method: string) => (method === 'ticket' ? 'bob-ticket' : '');
      const { welcome } = await wampy.connect({ authid: 'bob', authmethods: ['ticket'], onChallenge });
      expect(welcome).toMatchObject({ authid: 'bob', authrole: 'user', authmethod: 'ticket' });

      const failure: unknown = await wampy.connect({ authid: 'bob', authmethods: ['ticket'], onChallenge: () => 'nope' }).then(
        () => expect.fail('wampy was welcomed with a wrong ticket'),
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Errors.AbortError);
      expect((failure as InstanceType<typeof Errors.AbortError>).errorUri).toBe(ErrorUri.authenticationDenied);
    } finally {
      await wampy.closeAll();
    }
  });

  it('a denied subscribe rejects with wamp.error.not_authorized; an allowed one works', async () => {
    const wampy = new WampyClients(url, 'msgpack');
    try {
      const { client } = await wampy.connect({ authid: 'bob', authmethods: ['ticket'], onChallenge: () => 'bob-ticket' });
      const failure: unknown = await client.subscribe('com.secret.topic', () => {}).then(
        () => expect.fail('bob may not subscribe to com.secret.topic'),
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Errors.SubscribeError);
      expect((failure as InstanceType<typeof Errors.SubscribeError>).errorUri).toBe(ErrorUri.notAuthorized);
      await expect(client.subscribe('com.open.topic', () => {})).resolves.toBeDefined();
    } finally {
      await wampy.closeAll();
    }
  });
});

describe('ticket authentication with autobahn-python', () => {
  beforeAll(() => {
    const problem = pythonAutobahnProblem();
    if (problem !== undefined) throw new Error(`cannot run the autobahn-python tests: ${problem}`);
  });

  it('a correct ticket is welcomed with the hook\'s identity', async () => {
    const script = new PythonScript('py_ticket_client.py', [url, 'realm1', 'cbor', 'alice', 'alice-ticket']);
    try {
      expect((await script.waitForLine('challenge')).challenge).toEqual({ method: 'ticket', extra: {} });
      expect((await script.waitForLine('welcome')).welcome).toMatchObject({ authid: 'alice', authrole: 'admin', authmethod: 'ticket', authprovider: 'user-directory' });
      expect(await script.exit()).toBe(0);
    } finally {
      await script.stop();
    }
  });

  it('a wrong ticket ends in ABORT wamp.error.authentication_denied', async () => {
    const script = new PythonScript('py_ticket_client.py', [url, 'realm1', 'json', 'alice', 'not-it']);
    try {
      expect((await script.waitForLine('aborted')).aborted).toEqual({ reason: ErrorUri.authenticationDenied, message: 'authentication denied' });
      expect(await script.exit()).toBe(0);
    } finally {
      await script.stop();
    }
  });
});

describe('protocol violations around authentication (hand-made frames)', () => {
  it('an AUTHENTICATE with wrong field types: ABORT wamp.error.protocol_violation and close 1002', async () => {
    const client = await raw();
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'alice' }]);
    expect(await client.nextMessage()).toEqual([4, 'ticket', {}]);
    client.send([5, { ticket: 'alice-ticket' }, {}]);
    const [code, details, reason] = await client.nextMessage();
    expect([code, reason]).toEqual([3, ErrorUri.protocolViolation]);
    expect((details as { message: string }).message).toContain('AUTHENTICATE field 1 must be a string');
    expect((await client.closedWithin()).code).toBe(1002);
  });

  it('an AUTHENTICATE without a CHALLENGE (as the first message) is a protocol violation', async () => {
    const client = await raw();
    client.send([5, 'alice-ticket', {}]);
    expect((await client.nextMessage()).slice(0, 1).concat((await client.closedWithin()).code)).toEqual([3, 1002]);
  });

  it('an AUTHENTICATE replayed after WELCOME is a protocol violation that ends the session', async () => {
    const client = await raw();
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'alice' }]);
    await client.nextMessage();
    client.send([5, 'alice-ticket', {}]);
    const welcome = await client.nextMessage();
    expect(welcome[0]).toBe(2);
    const sessionId = welcome[1] as number;
    client.send([5, 'alice-ticket', {}]);
    expect(await client.nextMessage()).toEqual([3, { message: 'AUTHENTICATE without a CHALLENGE' }, ErrorUri.protocolViolation]);
    await client.closedWithin();
    expect(routerService.sessions().some((session) => session.id === sessionId)).toBe(false);
  });

  it('a request sent before WELCOME is a protocol violation', async () => {
    const client = await raw();
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'alice' }]);
    await client.nextMessage();
    client.send([32, 1, {}, 'com.open.topic']);
    const [code, details, reason] = await client.nextMessage();
    expect([code, reason]).toEqual([3, ErrorUri.protocolViolation]);
    expect((details as { message: string }).message).toBe('SUBSCRIBE before the session is established');
  });

  it('a client that disconnects while the hook decides leaves no session behind', async () => {
    const held = app.get(UserDirectory).holdNextLogin();
    const realm = routerService.defaultRealm;
    const joins: number[] = [];
    const stopWatching = realm.onSessionJoin((session) => joins.push(session.id));
    try {
      // Earlier tests' connections may still be closing on the server side; start from none.
      const openConnections = () => routerService.listeners[0]!.connectionCount;
      await until(() => openConnections() === 0, 'earlier connections to close');
      const sessionsBefore = routerService.sessionCount;
      const client = await raw();
      client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'hesitant' }]);
      await client.nextMessage();
      client.send([5, 'whatever', {}]);
      await held.asked;
      client.terminate();
      await until(() => openConnections() === 0, 'the router to see the connection close');
      held.answer({ authrole: 'admin' });
      await new Promise((resolve) => setImmediate(resolve)); // the connection has seen the hook's answer
      expect(joins).toEqual([]);
      expect(routerService.sessionCount).toBe(sessionsBefore);
      // And the router goes on: the next login works.
      expect((await login('alice')).welcome).toMatchObject({ authid: 'alice' });
    } finally {
      stopWatching();
    }
  });
});

describe('authorization with npm autobahn', () => {
  it('denies each of subscribe, publish, register and call by URI and role with wamp.error.not_authorized', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    await alice.session.register('com.secret.proc', () => 'secret result');

    const denied = [
      await rejectionOf(bob.session.subscribe('com.secret.topic', () => {})),
      await rejectionOf(bob.session.publish('com.secret.topic', ['x'], {}, { acknowledge: true })),
      await rejectionOf(bob.session.register('com.secret.other', () => 'no')),
      await rejectionOf(bob.session.call('com.secret.proc')),
    ];
    expect(denied.map((error) => error.error)).toEqual(Array(4).fill(ErrorUri.notAuthorized));
    expect(denied.map((error) => error.args[0])).toEqual([
      'not authorized to subscribe com.secret.topic',
      'not authorized to publish com.secret.topic',
      'not authorized to register com.secret.other',
      'not authorized to call com.secret.proc',
    ]);
    // The same URIs work for the admin, and bob's session still works for what he may do.
    expect(await alice.session.call('com.secret.proc')).toBe('secret result');
    await bob.session.register('com.open.echo', (args) => args[0]);
    expect(await alice.session.call('com.open.echo', ['ping'])).toBe('ping');
  });

  it('a guest (anonymous) may subscribe and call but not publish or register', async () => {
    const guest = await clients.connect('cbor');
    const alice = await login('alice', 'cbor');
    await alice.session.register('com.open.time', () => 'noon');
    expect(await guest.session.call('com.open.time')).toBe('noon');
    await guest.session.subscribe('com.open.news', () => {});
    expect((await rejectionOf(guest.session.publish('com.open.news', [], {}, { acknowledge: true }))).error).toBe(ErrorUri.notAuthorized);
    expect((await rejectionOf(guest.session.register('com.open.mine', () => 1))).error).toBe(ErrorUri.notAuthorized);
  });

  it('an unacknowledged publish that is denied is dropped; the publisher\'s later events arrive', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const inbox = new Inbox<unknown>();
    await alice.session.subscribe('com', (args) => inbox.push(args[0]), { match: 'prefix' });
    bob.session.publish('com.secret.topic', ['dropped']);
    bob.session.publish('com.open.topic', ['delivered']);
    await bob.session.publish('com.open.topic', ['last'], {}, { acknowledge: true });
    expect(await inbox.waitFor(2)).toEqual(['delivered', 'last']);
  });

  it('an async authorizer with random delays keeps a session\'s 50 publications in order', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const inbox = new Inbox<number>();
    await alice.session.subscribe('com.seq.counter', (args) => inbox.push(args[0] as number));
    for (let i = 0; i < 50; i++) bob.session.publish('com.seq.counter', [i]);
    expect(await inbox.waitFor(50)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
