import type { InformationSchemaJson, RealmRoles, StaticUser, UriCheck } from '@fox-wamp/core';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `json`: one JSON object per line; `pretty`: Nest's readable lines; `auto`: pretty on a terminal, JSON otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Everything the standalone server can be told, after flags, env and the config file are merged. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly wampPath: string;
  /** MQTT listeners on (TCP at `mqttPort`, WebSocket at `mqttWsPath` of `port`); `--no-mqtt` turns them off. */
  readonly mqtt: boolean;
  readonly mqttPort: number;
  readonly mqttWsPath: string;
  /** Seconds; a client asking for more (or for none) gets this (MQTT 5) or is refused (3.1.1). */
  readonly mqttMaxKeepalive: number;
  /** Seconds between updates of the `$SYS/broker/...` topics (Mosquitto's `sys_interval`); 0: none. */
  readonly mqttSysInterval: number;
  /** A TCP port of its own for WAMP RawSocket (which always shares `port` too); undefined: none. */
  readonly rawsocketPort: number | undefined;
  readonly realm: string;
  /** Further realms that exist from the start (config file only). */
  readonly realms: readonly string[];
  /** Settings of particular realms (config file only): `{ "iot": { "uriCheck": "strict" } }`. */
  readonly perRealm: Readonly<Record<string, { readonly uriCheck?: UriCheck }>>;
  readonly autoRealms: boolean;
  readonly uriCheck: UriCheck;
  readonly maxMessageSize: number;
  readonly pingInterval: number;
  readonly shutdownTimeout: number;
  /** `memory`, `sqlite:<path>`, or `redis://host:port[/db]` (which makes this process one node of a cluster). */
  readonly store: string;
  /** This process's name in the cluster (with a Redis store); undefined: `<hostname>-<pid>`. */
  readonly nodeId: string | undefined;
  /** Milliseconds a cluster node's lease lasts: a dead node's wills fire within this plus half of it. */
  readonly leaseTime: number;
  /** Events of history kept per realm for `after` replays (0: none). */
  readonly historySize: number;
  /** Seconds an event stays in the history. */
  readonly historyAge: number;
  /** Largest retained value in bytes. */
  readonly maxRetainedSize: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Prometheus metrics at `/metrics` (and MQTT `$SYS` traffic counters); `--no-metrics` turns them off. */
  readonly metrics: boolean;
  /**
   * Users who may join (config file only): `ticket` users with ticket authentication, `secret` users with
   * wampcra, `pubkey`/`pubkeys` users with cryptosign, `scram` users with wamp-scram.
   */
  readonly users: readonly StaticUser[];
  /** Static permissions per realm and role (config file only): realm → role → permissions. */
  readonly roles: RealmRoles;
  /** Whether clients may join anonymously; undefined: yes without users, no with users. */
  readonly anonymous: boolean | undefined;
  /**
   * The default realm's information schema (config file only): its tables are served on their topics by the
   * aggregate engine. Undefined: none (a client may define one with `fox.schema.define`).
   */
  readonly schema: InformationSchemaJson | undefined;
  /**
   * The admin console at `/console` (`--console <authid>`, or `console: { user }` in the file); undefined: off,
   * and `/console` is 404. `user` is one of `users`, with a ticket or a WAMP-CRA secret (what the page can
   * log in with); only that user may join the console's realm (`CONSOLE_REALM`).
   */
  readonly console: ConsoleSetting | undefined;
}

export interface ConsoleSetting {
  /** The authid of the configured user who may use the admin console. */
  readonly user: string;
}

/**
 * The realm the admin console joins: the server registers its `fox.admin.*` procedures and events there, and
 * admits nobody but the console user.
 */
export const CONSOLE_REALM = 'fox.admin';

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 8080,
  wampPath: '/ws',
  mqtt: true,
  mqttPort: 1883,
  mqttWsPath: '/mqtt',
  mqttMaxKeepalive: 65535,
  mqttSysInterval: 10,
  rawsocketPort: undefined,
  realm: 'realm1',
  realms: [],
  perRealm: {},
  autoRealms: false,
  uriCheck: 'loose',
  maxMessageSize: 16 * 1024 * 1024,
  pingInterval: 30_000,
  shutdownTimeout: 2_000,
  store: 'memory',
  nodeId: undefined,
  leaseTime: 5000,
  historySize: 1000,
  historyAge: 3600,
  maxRetainedSize: 256 * 1024,
  logLevel: 'info',
  logFormat: 'auto',
  metrics: true,
  users: [],
  roles: {},
  anonymous: undefined,
  schema: undefined,
  console: undefined,
};

/** A configuration mistake: printed as one line, and the server exits with status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
