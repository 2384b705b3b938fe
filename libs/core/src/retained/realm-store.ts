import type { Payload } from '../router/payload.js';
import type { TopicPattern } from '../router/topic-pattern.js';
import type { WhenCondition } from './retained-value.js';

/** A retained entry: the whole last publication on a topic (not a merge of them). */
export interface RetainedEntry {
  /** The topic key (`topicKey`: the WAMP URI for WAMP topics); `levelsOfKey` gives the levels back. */
  readonly topic: string;
  readonly payload: Payload;
  /** Session ID of the writer; 0 for the router itself (a will, a reducer...). */
  readonly publisherId: number;
  readonly publicationId: number;
  readonly eventId: number;
  /** Milliseconds since the epoch. */
  readonly updatedAt: number;
  /**
   * Applied when the writer's session ends while this entry is still its write: a payload to store, or
   * `null` to delete the key. Absent: no will.
   */
  readonly will?: Payload | null;
}

/**
 * What may be required of the stored entry for a write to apply: a client's `when` condition, or (inside
 * the router only, never from a client) that the entry is still one particular publication — used to fire
 * a will only if nobody wrote the key since.
 */
export type WriteCondition = WhenCondition | { readonly kind: 'publication'; readonly publicationId: number };

export interface RetainedWrite {
  readonly topic: string;
  /** The new payload; an empty payload deletes the key. */
  readonly payload: Payload;
  readonly condition?: WriteCondition;
  readonly will?: Payload | null;
  readonly publisherId: number;
  readonly publicationId: number;
  readonly eventId: number;
}

export type WriteResult =
  /** Applied: `entry` is the new entry, undefined when the write deleted the key. */
  | { readonly applied: true; readonly entry: RetainedEntry | undefined; readonly previous: RetainedEntry | undefined }
  | { readonly applied: false; readonly current: RetainedEntry | undefined };

/** One publication as the event history keeps it. */
export interface HistoryEvent {
  readonly eventId: number;
  readonly topic: string;
  readonly payload: Payload;
  readonly publisherId: number;
  readonly publicationId: number;
  /** Milliseconds since the epoch. */
  readonly publishedAt: number;
}

export interface HistoryRetention {
  /** Events kept per realm (oldest dropped first). 0 keeps no history. */
  readonly maxEvents: number;
  /** Events older than this many milliseconds are dropped. */
  readonly maxAgeMs: number;
}

export const DEFAULT_HISTORY_RETENTION: HistoryRetention = { maxEvents: 1000, maxAgeMs: 60 * 60 * 1000 };

/**
 * The state of one realm that outlives a publication: retained entries with their wills, the event
 * history, and the event-ID counter. Asynchronous, and atomic per key: `write` checks its condition and
 * writes in one step, so a later implementation on Redis (Lua scripts) keeps the same semantics across
 * several router processes. Implementations: memory (default) and SQLite (durable).
 */
export interface RealmStore {
  /**
   * The first event ID this realm may use; IDs up to `reservedUpTo` are the router's. IDs are never reused
   * across restarts: a durable store persists the reservation before the router hands those IDs out.
   */
  reserveEventIds(count: number): Promise<{ readonly first: number; readonly reservedUpTo: number }>;

  get(topic: string): Promise<RetainedEntry | undefined>;
  /** Entries whose topic matches `pattern`, in topic order. */
  find(pattern: TopicPattern): Promise<RetainedEntry[]>;
  /** Atomic check-and-write. */
  write(write: RetainedWrite): Promise<WriteResult>;
  /** Entries written by `publisherId` that carry a will. */
  willsOf(publisherId: number): Promise<RetainedEntry[]>;
  /** Every entry that carries a will: at startup, all of them belong to sessions that died with the process. */
  allWills(): Promise<RetainedEntry[]>;
  /** Number of retained entries. */
  size(): Promise<number>;

  appendHistory(event: HistoryEvent): Promise<void>;
  /**
   * `appendHistory` for a store that appends synchronously (memory, SQLite): the publication pipeline's fast path
   * then costs no promise per event. Throws where `appendHistory` would reject. Absent: asynchronous only.
   */
  appendHistoryNow?(event: HistoryEvent): void;
  /**
   * The store keeps everything in this process's memory: its synchronous append is a few array operations, so
   * timing it (the store latency metric) would cost more than the append and tell nothing.
   */
  readonly inMemory?: boolean;
  /** Events with an ID above `afterId`, oldest first, at most `limit`. */
  history(afterId: number, limit: number): Promise<HistoryEvent[]>;
  /** The oldest event ID still in the history (undefined when empty): replay from before it has a gap. */
  oldestEventId(): Promise<number | undefined>;
  /** Events in the history now (metrics); optional for a store that cannot count them cheaply. */
  historySize?(): Promise<number>;

  close(): Promise<void>;
}

/** Opens the store of each realm; one per router (a SQLite file, a Redis connection...). */
export interface StoreProvider {
  /** `memory`, `sqlite:<path>`, ... for logs and health. */
  readonly description: string;
  /**
   * Whether the store can serve requests now (a database file open, a connection up), for readiness checks.
   * Absent: always (an in-memory store).
   */
  readonly healthy?: boolean;
  /** Synchronous: opening a realm needs no I/O of its own (the provider connected when it was created). */
  openRealm(realm: string, retention: HistoryRetention): RealmStore;
  close(): Promise<void>;
}
