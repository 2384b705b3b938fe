import { createRequire } from 'node:module';

/**
 * The npm `autobahn` client (v26) for end-to-end tests: a typed view of the part of its API the tests use,
 * a promise-based connect/close, and small tools for awaiting what a client receives.
 *
 * autobahn ships no type declarations, so it is loaded with `require` and given the interfaces below.
 * Its promises are when.js promises (the `when` package is installed): they are thenables, and `then`
 * takes a third callback for progressive call results.
 */

export type Dict = Record<string, unknown>;

export type SerializerName = 'json' | 'msgpack' | 'cbor';

/** Every serializer autobahn speaks, for `describe.each`. */
export const SERIALIZERS: readonly SerializerName[] = ['json', 'msgpack', 'cbor'];

/** What a call, a publish with acknowledge, etc. return; `then` accepts a progress callback. */
export interface AutobahnPromise<T> extends PromiseLike<T> {
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
    onProgress?: (update: unknown) => void,
  ): PromiseLike<R1 | R2>;
}

/** autobahn's error object: a rejected call/publish/subscribe, or what a callee throws. */
export interface AutobahnError {
  readonly error: string;
  readonly args: unknown[];
  readonly kwargs: Dict;
}

/** A call result with several args or with kwargs (a single arg arrives as itself). */
export interface AutobahnResult {
  readonly args: unknown[];
  readonly kwargs: Dict;
}

/** EVENT details as autobahn hands them to a subscription handler. */
export interface EventDetails {
  readonly publication: number;
  /** The concrete topic (from EVENT details for pattern subscriptions, else the subscribed URI). */
  readonly topic: string;
  readonly publisher?: number;
  readonly publisher_authid?: string;
  readonly publisher_authrole?: string;
  readonly retained: boolean;
}

/** INVOCATION details as autobahn hands them to an endpoint. */
export interface InvocationDetails {
  /** The concrete procedure (from INVOCATION details for pattern registrations, else the registered URI). */
  readonly procedure: string;
  /** Sends a progressive result; null unless the caller asked for progress. */
  readonly progress: ((args?: unknown[], kwargs?: Dict) => void) | null;
  readonly caller?: number;
  readonly caller_authid?: string;
  readonly caller_authrole?: string;
}

export type EventHandler = (args: unknown[], kwargs: Dict, details: EventDetails) => void;
export type Endpoint = (args: unknown[], kwargs: Dict, details: InvocationDetails) => unknown;

export interface AutobahnSubscription {
  readonly id: number;
  readonly topic: string;
  active: boolean;
  unsubscribe(): AutobahnPromise<boolean>;
}

export interface AutobahnRegistration {
  readonly id: number;
  readonly procedure: string;
  unregister(): AutobahnPromise<void>;
}

export interface AutobahnSession {
  readonly id: number;
  readonly realm: string;
  /** The features both sides support, per client role, computed from WELCOME. */
  readonly features: Record<'publisher' | 'subscriber' | 'caller' | 'callee', Record<string, boolean | undefined>>;
  subscribe(topic: string, handler: EventHandler, options?: Dict): AutobahnPromise<AutobahnSubscription>;
  unsubscribe(subscription: AutobahnSubscription): AutobahnPromise<boolean>;
  /** Returns a promise only with `acknowledge: true`. */
  publish(topic: string, args?: unknown[], kwargs?: Dict, options?: Dict): AutobahnPromise<{ id: number }> | undefined;
  register(procedure: string, endpoint: Endpoint, options?: Dict): AutobahnPromise<AutobahnRegistration>;
  unregister(registration: AutobahnRegistration): AutobahnPromise<void>;
  call(procedure: string, args?: unknown[], kwargs?: Dict, options?: Dict): AutobahnPromise<unknown>;
}

/** The second argument of `Connection.onclose`. */
export interface CloseDetails {
  /** The WAMP reason: GOODBYE's or ABORT's reason URI, null when the transport just went away. */
  readonly reason: string | null;
  readonly message: string | null;
  readonly will_retry: boolean;
}

export interface AutobahnConnection {
  onopen: ((session: AutobahnSession, welcomeDetails: Dict) => void) | null;
  onclose: ((reason: string, details: CloseDetails) => boolean | void) | null;
  open(): void;
  close(reason?: string, message?: string): void;
  readonly isOpen: boolean;
  readonly isConnected: boolean;
  /** The current transport; `close()` on it drops the WebSocket without a WAMP GOODBYE. */
  readonly transport: { close(code?: number, reason?: string): void; info: { protocol: string | null } };
}

interface Serializer {
  readonly SERIALIZER_ID: SerializerName;
}

interface AutobahnModule {
  readonly version: string;
  readonly Connection: new (options: Dict) => AutobahnConnection;
  readonly Error: new (error: string, args?: unknown[], kwargs?: Dict) => AutobahnError;
  readonly Result: new (args?: unknown[], kwargs?: Dict) => AutobahnResult;
  readonly Subscription: new (
    topic: string,
    handler: EventHandler,
    options: Dict,
    session: AutobahnSession,
    id: number,
  ) => AutobahnSubscription;
  readonly serializer: {
    readonly JSONSerializer: new () => Serializer;
    readonly MsgpackSerializer: new () => Serializer;
    readonly CBORSerializer: new () => Serializer;
  };
  readonly log: { warn: (...args: unknown[]) => void };
  /** WAMP-CRA: `sign(key, challenge)` and, for salted secrets, `derive_key(password, salt, iterations, keylen)`. */
  readonly auth_cra: {
    sign(key: string, challenge: string): string;
    derive_key(password: string, salt: string, iterations?: number, keylen?: number): string;
  };
}

export const autobahn = createRequire(import.meta.url)('autobahn') as AutobahnModule;

// autobahn warns on the console at every close ("connection closed", "auto-reconnect disabled!"); in tests
// that close hundreds of connections this buries real output. Failures surface through onclose instead.
autobahn.log.warn = () => {};

function newSerializer(name: SerializerName): Serializer {
  switch (name) {
    case 'json':
      return new autobahn.serializer.JSONSerializer();
    case 'msgpack':
      return new autobahn.serializer.MsgpackSerializer();
    case 'cbor':
      return new autobahn.serializer.CBORSerializer();
  }
}

/** How long `close()` waits for the router's GOODBYE reply and the transport to close. */
const CLOSE_TIMEOUT_MS = 5_000;

/** The connection ended before WELCOME: ABORT (`reason` = its URI) or a transport that failed. */
export class ConnectionClosedError extends Error {
  constructor(
    readonly closeReason: string,
    readonly details: CloseDetails,
  ) {
    super(`autobahn connection closed before WELCOME: ${closeReason} (${details.reason ?? 'no WAMP reason'}${details.message ? `: ${details.message}` : ''})`);
  }
}

export interface CloseInfo {
  /** autobahn's transport-level reason: `closed`, `lost` or `unreachable`. */
  readonly reason: string;
  readonly details: CloseDetails;
}

export interface AutobahnClient {
  readonly session: AutobahnSession;
  readonly connection: AutobahnConnection;
  /** WELCOME.Details as received (autobahn adds `transport`). */
  readonly welcome: Dict;
  readonly serializer: SerializerName;
  /** Settles when the connection has closed, for whatever reason. */
  readonly closed: Promise<CloseInfo>;
  /** Leaves with GOODBYE and resolves once the transport has closed. A no-op after the connection closed. */
  close(): Promise<CloseInfo>;
  /** Closes the WebSocket without a GOODBYE (a lost client, as far as WAMP is concerned). */
  drop(): Promise<CloseInfo>;
}

/**
 * Connects an autobahn client with one serializer. Resolves on `onopen` (WELCOME), rejects with
 * `ConnectionClosedError` if the connection closes first (ABORT, unreachable). Never retries.
 */
export function connectAutobahn(
  url: string,
  serializerName: SerializerName,
  realm = 'realm1',
  extra: Dict = {},
): Promise<AutobahnClient> {
  const connection = new autobahn.Connection({
    url,
    realm,
    serializers: [newSerializer(serializerName)],
    max_retries: 0,
    retry_if_unreachable: false,
    // Exceptions thrown by endpoints are part of several tests (autobahn turns them into ERROR replies);
    // autobahn would print each one.
    on_user_error: () => {},
    ...extra,
  });
  return new Promise<AutobahnClient>((resolve, reject) => {
    let resolveClosed!: (info: CloseInfo) => void;
    const closed = new Promise<CloseInfo>((done) => (resolveClosed = done));
    let isClosed = false;
    connection.onclose = (reason, details) => {
      isClosed = true;
      resolveClosed({ reason, details });
      reject(new ConnectionClosedError(reason, details));
      return true; // never retry
    };
    connection.onopen = (session, welcome) => {
      const client: AutobahnClient = {
        session,
        connection,
        welcome,
        serializer: serializerName,
        closed,
        close() {
          if (isClosed) return closed;
          connection.close();
          return withTimeout(closed, CLOSE_TIMEOUT_MS, 'the GOODBYE handshake and transport close').catch((error: unknown) => {
            connection.transport.close();
            throw error;
          });
        },
        drop() {
          if (isClosed) return closed;
          connection.transport.close();
          return withTimeout(closed, CLOSE_TIMEOUT_MS, 'the transport close');
        },
      };
      resolve(client);
    };
    connection.open();
  });
}

/**
 * Connects clients for one test file and closes them all in `afterEach`, so no test leaves sessions (and
 * their subscriptions and registrations) behind for the next one.
 */
export class AutobahnClients {
  private readonly open = new Set<AutobahnClient>();

  constructor(private readonly url: () => string) {}

  async connect(serializer: SerializerName, realm = 'realm1', extra: Dict = {}): Promise<AutobahnClient> {
    const client = await connectAutobahn(this.url(), serializer, realm, extra);
    this.open.add(client);
    return client;
  }

  /** Connects `count` clients with the same serializer. */
  connectMany(serializer: SerializerName, count: number): Promise<AutobahnClient[]> {
    return Promise.all(Array.from({ length: count }, () => this.connect(serializer)));
  }

  async closeAll(): Promise<void> {
    const clients = [...this.open];
    this.open.clear();
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** The reason a promise rejected; fails (with what it resolved to) if it resolved. */
/**
 * Connects to `url` (JSON, realm1) with the given connection options and expects the router to refuse the
 * session: resolves to the ABORT reason URI, and fails the test if the client is welcomed instead.
 */
export async function refusalReasonOf(url: string, extra: Record<string, unknown>): Promise<string | null> {
  const error = await connectAutobahn(url, 'json', 'realm1', extra).then(
    async (client) => {
      await client.close();
      throw new Error(`the server welcomed the client as ${JSON.stringify(client.welcome)}`);
    },
    (failure: unknown) => failure,
  );
  if (!(error instanceof ConnectionClosedError)) throw error;
  return error.details.reason;
}

export async function rejectionOf(promise: PromiseLike<unknown> | undefined): Promise<AutobahnError> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error as AutobahnError;
  }
  throw new Error(`expected a rejection, but the promise resolved with ${JSON.stringify(value)}`);
}

/**
 * Calls with `receive_progress: true` and collects the progressive results in arrival order. The final
 * result comes from `result`.
 */
export function callWithProgress(
  session: AutobahnSession,
  procedure: string,
  args: unknown[] = [],
  kwargs: Dict = {},
  options: Dict = {},
): { progress: unknown[]; result: Promise<unknown> } {
  const progress: unknown[] = [];
  const pending = session.call(procedure, args, kwargs, { ...options, receive_progress: true });
  const result = Promise.resolve(pending.then((value) => value, undefined, (update) => progress.push(update)));
  return { progress, result };
}

/** Rejects with a clear message if `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

/** A promise with its resolve function outside: a manual trigger for handlers that must wait. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * Collects what a handler receives (events, invocations) so a test can await "the N-th arrival" instead of
 * sleeping. Waits are bounded and fail with the items received so far.
 */
export class Inbox<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<{ check(): void }>();

  push = (item: T): void => {
    this.items.push(item);
    for (const waiter of [...this.waiters]) waiter.check();
  };

  /** Resolves with the items once `predicate(items)` holds. */
  waitUntil(predicate: (items: readonly T[]) => boolean, what: string, timeoutMs = 5_000): Promise<T[]> {
    return new Promise<T[]>((resolve, reject) => {
      const waiter = {
        check: () => {
          if (!predicate(this.items)) return;
          this.waiters.delete(waiter);
          clearTimeout(timer);
          resolve(this.items);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${summarize(this.items)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
      waiter.check();
    });
  }

  /** Resolves with the items once at least `count` have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<T[]> {
    return this.waitUntil((items) => items.length >= count, `${count} item(s)`, timeoutMs);
  }
}

function summarize(items: readonly unknown[]): string {
  try {
    return `${items.length}: ${JSON.stringify(items)}`;
  } catch {
    return `${items.length} item(s)`;
  }
}

/**
 * Makes autobahn send UNSUBSCRIBE for a subscription ID it no longer tracks. autobahn refuses a second
 * unsubscribe locally ("subscription not active") without asking the router, so to see the router's answer
 * the test re-creates autobahn's bookkeeping for the ID and unsubscribes that.
 */
export function unsubscribeById(session: AutobahnSession, topic: string, subscriptionId: number): AutobahnPromise<boolean> {
  const subscription = new autobahn.Subscription(topic, () => {}, {}, session, subscriptionId);
  (session as unknown as { _subscriptions: Record<number, AutobahnSubscription[]> })._subscriptions[subscriptionId] = [subscription];
  return session.unsubscribe(subscription);
}
