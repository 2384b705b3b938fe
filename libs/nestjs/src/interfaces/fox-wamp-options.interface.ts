import type { RouterLogger, UriCheck } from '@fox-wamp/core';

/** WAMP over WebSocket. */
export interface WampListenerOptions {
  /** Path of the WebSocket endpoint (default `/ws`). */
  readonly path?: string;
  /**
   * Own port for this endpoint. Absent: attach to Nest's own HTTP server and share its port with the
   * application's controllers. `0` picks a free port.
   */
  readonly port?: number;
  /** Interface for an own port (default `127.0.0.1`). */
  readonly host?: string;
  /** Largest accepted message in bytes (default 16 MiB). */
  readonly maxMessageSize?: number;
  /** WebSocket ping interval in ms (default 30 000; 0 turns pings off). */
  readonly pingIntervalMs?: number;
}

export interface FoxWampModuleOptions {
  /** Realms that exist from the start (default `['realm1']`). */
  readonly realms?: readonly string[];
  /** The realm `RealmService` works in (default: the first of `realms`). */
  readonly defaultRealm?: string;
  /** Create realms on demand when a client asks for one that does not exist (default false). */
  readonly autoRealms?: boolean;
  /** URI checks: `loose` (default) or `strict`. */
  readonly uriCheck?: UriCheck;
  /** WAMP-over-WebSocket listener; `false` for none (in-process use only). */
  readonly wamp?: WampListenerOptions | false;
  /** How long shutdown waits for clients to answer GOODBYE before closing their connections (ms, default 2000). */
  readonly shutdownTimeoutMs?: number;
  /** Engine logger; default: Nest's `Logger` with context `FoxWamp`. */
  readonly logger?: RouterLogger;
}
