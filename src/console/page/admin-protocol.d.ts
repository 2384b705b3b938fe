/**
 * What the server's admin procedures and events carry (`src/console/admin-api.ts` sends them, the console page
 * reads them). Declarations only, shared by the server build and the page build: neither emits this file.
 *
 * Procedures (in the console realm, for the console user only):
 *   fox.admin.snapshot                    → [Snapshot]
 *   fox.admin.kill [realm, session]       → []            (GOODBYE / DISCONNECT "killed" to that session)
 *   fox.admin.retained.list [realm, filter?] → [RetainedList]
 *   fox.admin.retained.delete [realm, key]   → []         (a retained publish with an empty payload)
 * Events:
 *   fox.admin.on_change [ChangeBatch]     what changed since the last batch (rows as they are now)
 *   fox.admin.on_stats [Stats]            every second while someone is in the console realm
 */

/** A subscription or registration as a session holds it. */
export interface HeldUri {
  readonly id: number;
  readonly uri: string;
  readonly match: string;
}

export interface SessionRow {
  readonly realm: string;
  readonly session: number;
  /** `wamp`, `mqtt` or `local` (the server's own in-process sessions). */
  readonly protocol: string;
  /** `websocket`, `rawsocket`, `tcp`, `local`. */
  readonly transport: string;
  readonly serializer?: string;
  readonly authid: string;
  readonly authrole: string;
  readonly authmethod: string;
  readonly address?: string;
  /** MQTT: the client identifier. */
  readonly clientId?: string;
  /** Milliseconds since the epoch. */
  readonly joinedAt: number;
  readonly subscriptions: readonly HeldUri[];
  readonly registrations: readonly HeldUri[];
  /** Whether the console may kick it (not the console's own session, not an in-process one). */
  readonly kickable: boolean;
}

export interface SubscriptionRow {
  readonly realm: string;
  readonly id: number;
  readonly uri: string;
  readonly match: string;
  readonly subscribers: number;
  /** The subscription's `filter`, as canonical JSON. */
  readonly filter?: string;
  /** MQTT shared subscriptions (`$share/group/…`). */
  readonly shareGroup?: string;
  readonly createdAt: number;
}

export interface CalleeRow {
  readonly session: number;
  /** Invocations it serves at once; null: no limit. */
  readonly concurrency: number | null;
}

export interface RegistrationRow {
  readonly realm: string;
  readonly id: number;
  readonly uri: string;
  readonly match: string;
  /** The invocation policy: `single`, `roundrobin`, … */
  readonly policy: string;
  readonly callees: readonly CalleeRow[];
  readonly createdAt: number;
}

/** A row's identity in the change batches: its realm and its ID there. */
export interface RowKey {
  readonly realm: string;
  readonly id: number;
}

export interface ChangeBatch {
  readonly sessions: readonly SessionRow[];
  readonly sessionsGone: readonly RowKey[];
  readonly subscriptions: readonly SubscriptionRow[];
  readonly subscriptionsGone: readonly RowKey[];
  readonly registrations: readonly RegistrationRow[];
  readonly registrationsGone: readonly RowKey[];
}

export interface Snapshot {
  readonly realms: readonly string[];
  /** The realm the console itself is in. */
  readonly consoleRealm: string;
  readonly sessions: readonly SessionRow[];
  readonly subscriptions: readonly SubscriptionRow[];
  readonly registrations: readonly RegistrationRow[];
  /** Whether the server counts traffic (`--no-metrics` turns the rates off). */
  readonly metrics: boolean;
  readonly startedAt: number;
}

/** What changes all the time without an event: sampled each second, sent only where not zero. */
export interface SessionLoad {
  readonly realm: string;
  readonly session: number;
  /** Calls this session made that are not answered yet. */
  readonly calls: number;
  /** Invocations it is serving as a callee. */
  readonly invocations: number;
  /** Bytes waiting in its connection's send buffer. */
  readonly bufferedBytes: number;
  /** Messages waiting in its session queue (MQTT: client away, or over its Receive Maximum). */
  readonly queuedMessages: number;
  /** MQTT: a persistent session whose client is not connected. */
  readonly away?: boolean;
}

export interface RegistrationLoad {
  readonly realm: string;
  readonly id: number;
  /** Invocations in flight at its callees. */
  readonly inFlight: number;
  /** Calls waiting for a callee with free capacity. */
  readonly queued: number;
}

/** Monotonic counters since the server started; the page turns two samples into rates. */
export interface Counters {
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly publications: number;
  readonly events: number;
  readonly calls: number;
}

export interface RealmStats {
  readonly realm: string;
  readonly sessions: number;
  readonly subscriptions: number;
  readonly registrations: number;
  /** Undefined when the store could not answer. */
  readonly retainedKeys?: number;
  readonly counters?: Pick<Counters, 'publications' | 'events' | 'calls'>;
}

/** How many events one subscription has delivered so far (the page turns successive samples into rates). */
export interface TopicLoad {
  readonly realm: string;
  readonly id: number;
  readonly delivered: number;
}

export interface Stats {
  /** Milliseconds since the epoch, on the server. */
  readonly time: number;
  /** Undefined with `--no-metrics`. */
  readonly counters?: Counters;
  readonly realms: readonly RealmStats[];
  readonly sessions: readonly SessionLoad[];
  readonly registrations: readonly RegistrationLoad[];
  readonly topics: readonly TopicLoad[];
}

export interface RetainedRow {
  /** The topic as WAMP shows it (levels joined with `.`). */
  readonly topic: string;
  /** The topic as MQTT shows it (levels joined with `/`). */
  readonly mqttTopic: string;
  /** The store's key: what `fox.admin.retained.delete` takes. */
  readonly key: string;
  /** The stored value: kwargs if any, else the one arg, else the args (bytes as WAMP JSON's "\0"+base64). */
  readonly value: unknown;
  /** The writer's session ID; 0 for the router. */
  readonly publisher: number;
  readonly updatedAt: number;
  /** Whether a will is attached (applied when the writer's session ends). */
  readonly will: boolean;
}

export interface RetainedList {
  readonly entries: readonly RetainedRow[];
  /** More entries matched than were sent. */
  readonly truncated: boolean;
}
