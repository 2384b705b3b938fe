import { Redis, type RedisOptions } from 'ioredis';
import { SILENT_LOGGER, type RouterLogger } from '../router/logger.js';

/** Where the Redis store lives, read from `redis://[user:password@]host[:port][/db][?prefix=name]` (or `rediss://` for TLS). */
export interface RedisLocation {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
  /** First part of every key (`<prefix>:{realm}:...`); default `fox`. */
  readonly prefix: string;
  /** The location without credentials, for logs and health. */
  readonly description: string;
}

export const DEFAULT_KEY_PREFIX = 'fox';

/** Parses a `--store redis://...` value; throws an `Error` with a one-line message when it is not one. */
export function parseRedisUrl(spec: string): RedisLocation {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new Error(`invalid redis store URL "${spec}" (use redis://host:port[/db])`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`invalid redis store URL "${spec}": the scheme must be redis:// or rediss://`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = url.port === '' ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  if (!/^\d*$/.test(path)) throw new Error(`invalid redis store URL "${spec}": the path must be a database number`);
  const db = path === '' ? 0 : Number(path);
  const prefix = url.searchParams.get('prefix') ?? DEFAULT_KEY_PREFIX;
  if (prefix === '' || /[{}\s]/.test(prefix)) throw new Error(`invalid redis key prefix "${prefix}": no braces or spaces`);
  for (const name of url.searchParams.keys()) {
    if (name !== 'prefix') throw new Error(`invalid redis store URL "${spec}": unknown parameter "${name}" (only prefix)`);
  }
  const tls = url.protocol === 'rediss:';
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const location: RedisLocation = {
    host,
    port,
    db,
    tls,
    prefix,
    description: `${url.protocol}//${shownHost}:${port}/${db}${prefix === DEFAULT_KEY_PREFIX ? '' : `?prefix=${prefix}`}`,
  };
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return { ...location, ...(username !== '' ? { username } : {}), ...(password !== '' ? { password } : {}) };
}

/** An operation refused or failed because Redis cannot be reached: the store is down, not the data wrong. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE';
}

export interface RedisConnectionOptions {
  readonly logger?: RouterLogger;
  /** How long a command may wait for its reply before it fails (default 10 s). */
  readonly commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts (default 1 s). */
  readonly maxReconnectDelayMs?: number;
  /** How long the first connection may take (default 5 s). */
  readonly connectTimeoutMs?: number;
  /**
   * Sends the commands issued in one tick as one write (default off: it delays every command to the next tick,
   * which costs one-at-a-time writes more than it saves). On for the cluster's busy many-in-flight connection.
   */
  readonly autoPipelining?: boolean;
}

export type HealthListener = (healthy: boolean, error: Error | undefined) => void;

/**
 * One ioredis connection with the store's failure policy: loud and fast rather than silent and queued.
 * - An operation while Redis is unreachable rejects at once with a `StoreUnavailableError` naming the store,
 *   instead of waiting in ioredis's offline queue; until the first connection has been tried, operations
 *   wait for that attempt.
 * - A command whose connection drops before its reply rejects (it is not sent again on reconnect: a
 *   conditional write must not be applied twice behind the caller's back). Such a write may or may not have
 *   been applied.
 * - ioredis keeps reconnecting in the background; once Redis answers again, operations work again.
 * - `healthy` and `onHealthChange` report the state for health checks; the logger gets one line per change.
 */
export class RedisConnection {
  readonly client: Redis;
  /** `connecting` until the first attempt is over; then `up` or `down`. */
  private state: 'connecting' | 'up' | 'down' = 'connecting';
  private lastError: Error | undefined;
  /** Settles with the first connection attempt. */
  private readonly firstAttempt: Promise<void>;
  private firstAttemptDone = false;
  private closing = false;
  private readonly listeners = new Set<HealthListener>();
  private readonly logger: RouterLogger;

  constructor(
    readonly location: RedisLocation,
    options: RedisConnectionOptions = {},
  ) {
    this.logger = options.logger ?? SILENT_LOGGER;
    const maxDelay = options.maxReconnectDelayMs ?? 1000;
    const settings: RedisOptions = {
      host: location.host,
      port: location.port,
      db: location.db,
      ...(location.username !== undefined ? { username: location.username } : {}),
      ...(location.password !== undefined ? { password: location.password } : {}),
      ...(location.tls ? { tls: {} } : {}),
      connectionName: 'fox-wamp-store',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // Off unless asked: it delays each command to the next tick, which costs the one-at-a-time retained writes more than batching saves.
      enableAutoPipelining: options.autoPipelining ?? false,
      commandTimeout: options.commandTimeoutMs ?? 10_000,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      retryStrategy: (attempt) => Math.min(attempt * 100, maxDelay),
    };
    this.client = new Redis(settings);
    let settleFirst!: (error?: Error) => void;
    this.firstAttempt = new Promise<void>((resolve, reject) => {
      settleFirst = (error) => {
        if (this.firstAttemptDone) return;
        this.firstAttemptDone = true;
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    // Nobody may be waiting for the first attempt: its failure is reported through the operations.
    this.firstAttempt.catch(() => undefined);
    this.client.on('ready', () => {
      settleFirst();
      this.setHealth(true, undefined);
    });
    this.client.on('error', (error: Error) => {
      this.lastError = error;
    });
    this.client.on('close', () => {
      if (this.closing) return;
      const error = this.unavailable();
      settleFirst(error);
      this.setHealth(false, error);
    });
  }

  /** Whether Redis answered the last connection attempt and the connection is up. */
  get healthy(): boolean {
    return this.state === 'up';
  }

  /** Calls `listener` on every change of `healthy`; returns the function that removes it. */
  onHealthChange(listener: HealthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once connected; rejects with the first attempt's failure (the connection keeps retrying). */
  async connected(): Promise<void> {
    await this.firstAttempt;
  }

  /**
   * Runs `operation` on the client if Redis is reachable, and turns connection failures into a
   * `StoreUnavailableError`; errors Redis itself answered (a script error) keep their message, with the store named.
   */
  run<T>(operation: (client: Redis) => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new StoreUnavailableError(`the redis store ${this.location.description} is closed`));
    if (this.client.status === 'ready') return operation(this.client).catch((error: unknown) => this.fail(error));
    if (!this.firstAttemptDone) return this.firstAttempt.then(() => this.run(operation));
    return Promise.reject(this.unavailable());
  }

  /** Quits gracefully (pending replies arrive first) when connected; otherwise stops reconnecting. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.setHealth(false, undefined);
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }

  private fail(error: unknown): never {
    if (error instanceof Error && error.name === 'ReplyError') {
      throw new Error(`redis store ${this.location.description}: ${error.message}`);
    }
    const cause = error instanceof Error ? error : new Error(String(error));
    throw new StoreUnavailableError(`the redis store ${this.location.description} is unavailable: ${this.explain(cause)}`, { cause });
  }

  /** ioredis's words for a failed command, in the store's terms. */
  private explain(error: Error): string {
    if (error.name === 'MaxRetriesPerRequestError' || error.message === 'Connection is closed.') {
      const why = this.lastError === undefined ? '' : ` (${describe(this.lastError)})`;
      return `the connection was lost before Redis answered${why}; the operation may or may not have been applied`;
    }
    if (error.message === 'Command timed out') return 'Redis did not answer in time; the operation may or may not have been applied';
    if (error.message.startsWith("Stream isn't writeable")) return this.lastError === undefined ? 'not connected' : describe(this.lastError);
    return describe(error);
  }

  /** Why Redis cannot be reached, in a few words (the last connection error). */
  unavailableReason(): string {
    return this.lastError === undefined ? 'the connection is closed' : describe(this.lastError);
  }

  private unavailable(): StoreUnavailableError {
    return new StoreUnavailableError(`the redis store ${this.location.description} is unavailable: ${this.unavailableReason()}`, { cause: this.lastError });
  }

  private setHealth(healthy: boolean, error: Error | undefined): void {
    const state = healthy ? 'up' : 'down';
    if (state === this.state) return;
    this.state = state;
    if (healthy) {
      this.lastError = undefined;
      this.logger.info('redis store connected', { store: this.location.description });
    } else if (!this.closing) {
      this.logger.error('redis store unavailable', { store: this.location.description, error: error?.message });
    }
    for (const listener of this.listeners) listener(healthy, error);
  }
}

/** An ioredis error in a few words (its aggregate errors carry the useful part in `code`). */
function describe(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (error.message !== '') return error.message;
  return code ?? error.name;
}
