import type { AuthOptions, Backplane, HistoryRetention, InformationSchemaJson, MqttOptions, RouterLogger, RouterMetrics, StoreProvider, UriCheck } from '@fox-wamp/core';

/** Key and certificate (PEM) for a listener with a port of its own: it then speaks `wss://`. */
export interface WampTlsOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** Further `node:https` server options (ca, passphrase, ...). */
  readonly [option: string]: unknown;
}

/** WAMP over WebSocket. */
export interface WampListenerOptions {
  /** Path of the WebSocket endpoint (default `/ws`). */
  readonly path?: string;
  /**
   * Own port for this endpoint. Absent: attach to Nest's own HTTP server and share its port with the
   * application's controllers (Express or Fastify; `wss://` when Nest serves https). `0` picks a free port.
   */
  readonly port?: number;
  /** Interface for an own port (default `127.0.0.1`). */
  readonly host?: string;
  /** TLS for an own port: the endpoint is then `wss://`. Ignored when sharing Nest's server. */
  readonly https?: WampTlsOptions;
  /** Largest accepted message in bytes (default 16 MiB). */
  readonly maxMessageSize?: number;
  /** WebSocket ping interval in ms (default 30 000; 0 turns pings off). */
  readonly pingIntervalMs?: number;
}

/** WAMP over RawSocket (plain TCP; JSON, MessagePack and CBOR). */
export interface RawSocketListenerOptions {
  /**
   * Own TCP port for RawSocket. Absent: share Nest's plain HTTP server port; each connection's first octet
   * decides (0x7F is RawSocket, anything else HTTP). `0` picks a free port.
   */
  readonly port?: number;
  /** Interface for an own port (default `127.0.0.1`). */
  readonly host?: string;
  /**
   * Largest accepted message in bytes (default 16 MiB). The handshake announces (and we enforce) the largest
   * power of two not above it, at most 16 MiB; it must be at least 512.
   */
  readonly maxMessageSize?: number;
  /** RawSocket PING interval in ms (default 0: off, since autobahn-python's client cannot answer PINGs). */
  readonly pingIntervalMs?: number;
}

/** MQTT 3.1.1 / 5.0 on the same realms as WAMP (the realm: the username's `user@realm`, else `defaultRealm`). */
export interface MqttListenerOptions extends MqttOptions {
  /** MQTT over TCP on this port (MQTT's own is 1883; `0` picks a free one). Absent: no TCP listener. */
  readonly port?: number;
  /** Interface for the TCP port (default `127.0.0.1`). */
  readonly host?: string;
  /** WebSocket path on Nest's HTTP server (default `/mqtt`); `false`: no MQTT over WebSocket. */
  readonly path?: string | false;
}

export interface FoxWampModuleOptions {
  /** Realms that exist from the start (default `['realm1']`). Each can be injected with `@InjectRealm(name)`. */
  readonly realms?: readonly string[];
  /** The realm `RealmService` and the decorators work in (default: the first of `realms`). */
  readonly defaultRealm?: string;
  /** Create realms on demand when a client asks for one that does not exist (default false). */
  readonly autoRealms?: boolean;
  /** URI checks: `loose` (default) or `strict`. */
  readonly uriCheck?: UriCheck;
  /** Settings of particular realms over the ones above, e.g. `{ iot: { uriCheck: 'strict' } }`. */
  readonly perRealm?: Readonly<
    Record<string, { readonly uriCheck?: UriCheck; readonly maxRetainedSize?: number; readonly history?: HistoryRetention; readonly schema?: InformationSchemaJson }>
  >;
  /**
   * The information schema of the default realm (another realm's goes in `perRealm`): tables of rows that
   * clients publish (`type: object`) and views the aggregate engine keeps (`type: aggregate`), each served
   * on its topics (`<table>`, `<table>.<key…>`). Absent: none, unless defined at runtime with `fox.schema.define`.
   */
  readonly schema?: InformationSchemaJson;
  /**
   * Where retained state and event history live: `'memory'` (default), `'sqlite:<path>'` (durable), or a
   * `StoreProvider`. The module opens it at startup and closes it at shutdown.
   */
  readonly store?: string | StoreProvider;
  /**
   * The cluster this router is one process of (`await RedisBackplane.connect('redis://…', { nodeId })`), with
   * `store` on the same Redis: realms then span every router process on that Redis. The module closes it at
   * shutdown. Absent: this process alone.
   */
  readonly cluster?: Backplane;
  /** Event history kept per realm for `after` replays (default 1000 events, one hour). */
  readonly history?: HistoryRetention;
  /** Largest retained payload in bytes (default 256 KiB). */
  readonly maxRetainedSize?: number;
  /**
   * WAMP-over-WebSocket listener(s): one, several (e.g. Nest's port and an own `wss` port), or `false` for
   * none (in-process use only). Default: one at `/ws` of Nest's HTTP server.
   */
  readonly wamp?: WampListenerOptions | readonly WampListenerOptions[] | false;
  /**
   * WAMP-over-RawSocket listener(s): on a port of their own, or sharing Nest's HTTP port. Default: none.
   */
  readonly rawsocket?: RawSocketListenerOptions | readonly RawSocketListenerOptions[] | false;
  /**
   * MQTT: a TCP port and/or a WebSocket path of Nest's HTTP server, sharing realms, retained state and
   * authentication with WAMP. Default: none. `defaultRealm` of the MQTT options defaults to the module's.
   */
  readonly mqtt?: MqttListenerOptions | false;
  /** How long shutdown waits for in-flight calls to finish before it says GOODBYE (ms, default 10 000). */
  readonly drainTimeoutMs?: number;
  /** How long shutdown waits for clients to answer GOODBYE before closing their connections (ms, default 2000). */
  readonly shutdownTimeoutMs?: number;
  /** Engine logger; default: Nest's `Logger` with context `FoxWamp`. */
  readonly logger?: RouterLogger;
  /**
   * Router metrics: `true` for `PrometheusMetrics` in a registry of the router's own (`RouterService.prometheus`
   * renders it for a `/metrics` endpoint; MQTT `$SYS` then reports traffic too), or a `RouterMetrics` of the
   * application's (e.g. `new PrometheusMetrics({ registry })`). Default: off.
   */
  readonly metrics?: boolean | RouterMetrics;
  /**
   * Authentication and authorization of remote clients: `authenticate` (ticket, or deciding on anonymous
   * clients), `methods` offered, `authorize` (each publish, subscribe, register, call), `timeoutMs`.
   * Absent: anonymous clients only, everything allowed. In-process sessions (`RealmService`, decorated
   * handlers) are trusted and never asked about.
   */
  readonly auth?: AuthOptions;
}
