import { deserialize, serialize } from 'node:v8';
import type { Redis } from 'ioredis';
import { plainPayload, type Payload } from '../router/payload.js';
import { levelsOfKey } from '../router/topic.js';
import type { TopicPattern } from '../router/topic-pattern.js';
import type { HistoryEvent, HistoryRetention, RealmStore, RetainedEntry, RetainedWrite, StoreProvider, WriteResult } from './realm-store.js';
import { RedisConnection, parseRedisUrl, type HealthListener, type RedisConnectionOptions } from './redis-connection.js';
import { RedisRealmKeys, retainedTopicMatches, topicScanOf } from './redis-keys.js';
import {
  APPEND_HISTORY_SCRIPT,
  ENTRIES_IN_SET_SCRIPT,
  HISTORY_SIZE_SCRIPT,
  OLDEST_EVENT_SCRIPT,
  READ_HISTORY_SCRIPT,
  WRITE_SCRIPT,
} from './redis-scripts.js';
import { fingerprint, valueFingerprints } from './redis-value-fingerprint.js';
import { isDeletion } from './retained-value.js';

export type RedisStoreOptions = RedisConnectionOptions;

/** A script as ioredis runs it (EVALSHA, EVAL once per connection), answering with Buffers for bulk strings. */
type ScriptCall = (...args: (string | Buffer | number)[]) => Promise<unknown>;

const SCRIPTS = {
  foxWrite: { lua: WRITE_SCRIPT, numberOfKeys: 4 },
  foxEntriesInSet: { lua: ENTRIES_IN_SET_SCRIPT, numberOfKeys: 1 },
  foxAppendHistory: { lua: APPEND_HISTORY_SCRIPT, numberOfKeys: 1 },
  foxReadHistory: { lua: READ_HISTORY_SCRIPT, numberOfKeys: 1 },
  foxOldestEvent: { lua: OLDEST_EVENT_SCRIPT, numberOfKeys: 1 },
  foxHistorySize: { lua: HISTORY_SIZE_SCRIPT, numberOfKeys: 1 },
} as const;

type ScriptName = keyof typeof SCRIPTS;

/** How many topics `find` reads per round trip. */
const FIND_PAGE = 1000;

/**
 * The shared store: every realm's retained entries, wills, event history and event-ID counter in Redis, so
 * that several router processes can share them (`--store redis://host:port[/db]`). Each state transition is
 * one Lua script (`redis-scripts.ts`), atomic per key across every process that uses the same Redis.
 *
 * Nothing is cached in this process: reads go to Redis, so another process's writes are seen at once.
 * Durability is Redis's own: run it with `appendonly yes` (and `appendfsync always` or `everysec`) for
 * acknowledged writes to survive a crash of Redis itself.
 *
 * Losing Redis is loud: operations reject with a `StoreUnavailableError` naming the store, `healthy` turns
 * false and `onHealthChange` listeners are told; when Redis is back (ioredis reconnects), operations work again.
 */
export class RedisStoreProvider implements StoreProvider {
  readonly description: string;
  private readonly scripts: Record<ScriptName, ScriptCall>;

  private constructor(private readonly connection: RedisConnection) {
    this.description = connection.location.description;
    const client = connection.client;
    const scripts = {} as Record<ScriptName, ScriptCall>;
    for (const [name, definition] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
      client.defineCommand(name, definition);
      // defineCommand adds `<name>` and `<name>Buffer` methods that TypeScript does not know of.
      const call = (client as unknown as Record<string, ScriptCall>)[`${name}Buffer`]!;
      scripts[name] = call.bind(client);
    }
    this.scripts = scripts;
  }

  /**
   * Returns a provider at once, connecting in the background: operations wait for the first connection
   * attempt, and reject if it fails. For startup code that cannot wait (`openStore`); prefer `connect`.
   */
  static create(url: string, options: RedisStoreOptions = {}): RedisStoreProvider {
    return new RedisStoreProvider(new RedisConnection(parseRedisUrl(url), options));
  }

  /** Connects to Redis at `url`; rejects with a one-line message if it cannot be reached. */
  static async connect(url: string, options: RedisStoreOptions = {}): Promise<RedisStoreProvider> {
    const provider = RedisStoreProvider.create(url, options);
    try {
      await provider.connection.connected();
    } catch {
      const reason = provider.connection.unavailableReason();
      await provider.close();
      throw new Error(`cannot connect to the redis store ${provider.description}: ${reason}`);
    }
    return provider;
  }

  /** Whether Redis is reachable now (for health checks). */
  get healthy(): boolean {
    return this.connection.healthy;
  }

  /** Calls `listener(healthy, error)` whenever reachability changes; returns the function that removes it. */
  onHealthChange(listener: HealthListener): () => void {
    return this.connection.onHealthChange(listener);
  }

  openRealm(realm: string, retention: HistoryRetention): RealmStore {
    return new RedisRealmStore(this.connection, this.scripts, new RedisRealmKeys(this.connection.location.prefix, realm), retention);
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

class RedisRealmStore implements RealmStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly scripts: Record<ScriptName, ScriptCall>,
    private readonly keys: RedisRealmKeys,
    private readonly retention: HistoryRetention,
  ) {}

  reserveEventIds(count: number): Promise<{ first: number; reservedUpTo: number }> {
    return this.run(async (client) => {
      const reservedUpTo = await client.incrby(this.keys.eventIds, count);
      return { first: reservedUpTo - count + 1, reservedUpTo };
    });
  }

  get(topic: string): Promise<RetainedEntry | undefined> {
    return this.run(async (client) => {
      const [bytes, eventId] = await client.hmgetBuffer(this.keys.entry(topic), 'entry', 'event-id');
      return bytes === null || bytes === undefined ? undefined : decodeEntry(topic, bytes, eventId);
    });
  }

  /**
   * A concrete topic costs one hash read. Any other pattern scans the realm's sorted set of topics under its
   * literal leading levels (ZRANGEBYLEX: O(log N + M), M = the topics under that prefix), or the whole set
   * when it starts with a wildcard (O(N), N = the realm's retained topics), a page of 1000 per round trip,
   * filters them with the topic-tree rules, then reads the matching entries. Each entry is read atomically;
   * the whole is not a point-in-time snapshot: an entry changed meanwhile is read as it is now (its event ID
   * tells the replay which live events it already reflects).
   */
  async find(pattern: TopicPattern): Promise<RetainedEntry[]> {
    const scan = topicScanOf(pattern);
    if ('exact' in scan) {
      const entry = await this.get(scan.exact);
      return entry === undefined ? [] : [entry];
    }
    const found: RetainedEntry[] = [];
    // Bytes, not a string: no UTF-8 topic contains the byte 0xFF, so `prefix + 0xFF` bounds everything below it.
    const last = Buffer.concat([Buffer.from(`[${scan.prefix}`), Buffer.from([0xff])]);
    let from: Buffer = Buffer.from(scan.prefix === '' ? '-' : `[${scan.prefix}`);
    for (;;) {
      const topics = await this.run((client) => client.zrangebylex(this.keys.topics, from, scan.prefix === '' ? '+' : last, 'LIMIT', 0, FIND_PAGE));
      const matching = topics.filter((topic) => retainedTopicMatches(pattern, levelsOfKey(topic)));
      if (matching.length > 0) {
        const entries = await this.run((client) => Promise.all(matching.map((topic) => client.hmgetBuffer(this.keys.entry(topic), 'entry', 'event-id'))));
        entries.forEach(([bytes, eventId], i) => {
          if (bytes !== null && bytes !== undefined) found.push(decodeEntry(matching[i]!, bytes, eventId));
        });
      }
      if (topics.length < FIND_PAGE) break;
      from = Buffer.from(`(${topics[topics.length - 1]!}`);
    }
    // The order of the memory store (UTF-16 code units), which differs from Redis's byte order above U+FFFF.
    return found.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  }

  async write(write: RetainedWrite): Promise<WriteResult> {
    const deletes = isDeletion(write.payload);
    const entry: RetainedEntry | undefined = deletes
      ? undefined
      : {
          topic: write.topic,
          payload: write.payload,
          publisherId: write.publisherId,
          publicationId: write.publicationId,
          eventId: write.eventId,
          updatedAt: Date.now(),
          ...(write.will !== undefined ? { will: write.will } : {}),
        };
    const value = deletes ? { object: false, fields: [] } : valueFingerprints(write.payload);
    const condition = write.condition;
    let kind = '';
    let conditionArgument = '';
    const conditionPairs: string[] = [];
    if (condition?.kind === 'absent') kind = 'absent';
    else if (condition?.kind === 'publication') {
      kind = 'publication';
      conditionArgument = String(condition.publicationId);
    } else if (condition?.kind === 'contains') {
      kind = 'contains';
      for (const [field, expected] of Object.entries(condition.fields)) conditionPairs.push(field, fingerprint(expected));
      conditionArgument = String(conditionPairs.length / 2);
    }
    const reply = (await this.run(() =>
      this.scripts.foxWrite(
        this.keys.entry(write.topic),
        this.keys.topics,
        this.keys.willed,
        this.keys.willsOf(write.publisherId),
        write.topic,
        kind,
        conditionArgument,
        this.keys.willsPrefix,
        deletes ? '1' : '0',
        entry === undefined ? '' : encodeStoredEntry(entry),
        String(write.publicationId),
        String(write.publisherId),
        entry?.will !== undefined ? '1' : '0',
        value.object ? '1' : '0',
        value.fields.length / 2,
        ...value.fields,
        ...conditionPairs,
      ),
    )) as [number, Buffer | null];
    const [applied, before] = reply;
    const previous = before === null ? undefined : decodeEntry(write.topic, before);
    if (applied !== 1) return { applied: false, current: previous };
    return { applied: true, entry, previous };
  }

  willsOf(publisherId: number): Promise<RetainedEntry[]> {
    return this.entriesInSet(this.keys.willsOf(publisherId));
  }

  allWills(): Promise<RetainedEntry[]> {
    return this.entriesInSet(this.keys.willed);
  }

  size(): Promise<number> {
    return this.run((client) => client.zcard(this.keys.topics));
  }

  async appendHistory(event: HistoryEvent): Promise<void> {
    if (this.retention.maxEvents === 0) return;
    const { eventId, topic, publisherId, publicationId, publishedAt } = event;
    const bytes = serialize({ eventId, topic, payload: plainPayload(event.payload), publisherId, publicationId, publishedAt });
    await this.run(() =>
      this.scripts.foxAppendHistory(
        this.keys.history,
        event.eventId,
        event.publishedAt,
        bytes,
        this.retention.maxEvents,
        Date.now() - this.retention.maxAgeMs,
      ),
    );
  }

  async history(afterId: number, limit: number): Promise<HistoryEvent[]> {
    if (this.retention.maxEvents === 0 || limit <= 0) return [];
    const items = (await this.run(() =>
      this.scripts.foxReadHistory(this.keys.history, this.retention.maxEvents, this.oldestAllowed(), Math.max(0, Math.floor(afterId)), limit),
    )) as [Buffer, Buffer[]][];
    // The stream ID is the event ID (a cluster's events are stored before the engine assigned it).
    return items.map(([id, fields]) => ({ ...(deserialize(fields[3]!) as HistoryEvent), eventId: Number.parseInt(id.toString('latin1'), 10) }));
  }

  async oldestEventId(): Promise<number | undefined> {
    if (this.retention.maxEvents === 0) return undefined;
    const id = (await this.run(() => this.scripts.foxOldestEvent(this.keys.history, this.retention.maxEvents, this.oldestAllowed()))) as Buffer | null;
    return id === null ? undefined : Number.parseInt(id.toString('latin1'), 10);
  }

  /** Events in the history now (metrics). */
  async historySize(): Promise<number> {
    if (this.retention.maxEvents === 0) return 0;
    return (await this.run(() => this.scripts.foxHistorySize(this.keys.history, this.retention.maxEvents, this.oldestAllowed()))) as number;
  }

  /** Realms share the provider's connection, which the provider closes. */
  async close(): Promise<void> {}

  private oldestAllowed(): number {
    return Date.now() - this.retention.maxAgeMs;
  }

  private async entriesInSet(set: string): Promise<RetainedEntry[]> {
    const flat = (await this.run(() => this.scripts.foxEntriesInSet(set, this.keys.entryPrefix))) as Buffer[];
    const entries: RetainedEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push(decodeEntry(flat[i]!.toString('utf8'), flat[i + 1]!));
    return entries.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  }

  private run<T>(operation: (client: Redis) => Promise<T>): Promise<T> {
    return this.connection.run(operation);
  }
}

/** What an entry hash's `entry` field holds: the entry without its topic (the key names it). */
interface StoredEntry {
  readonly payload: Payload;
  readonly publisherId: number;
  readonly publicationId: number;
  readonly eventId: number;
  readonly updatedAt: number;
  /** Present only when the entry has a will (`null`: delete the key). */
  readonly will?: Payload | null;
}

/** node:v8 serialization, as the SQLite store does: Buffers, `raw` bytes and `properties` come back as they went in. */
export function encodeStoredEntry(entry: RetainedEntry): Buffer {
  const stored: StoredEntry = {
    payload: plainPayload(entry.payload),
    publisherId: entry.publisherId,
    publicationId: entry.publicationId,
    eventId: entry.eventId,
    updatedAt: entry.updatedAt,
    ...(entry.will !== undefined ? { will: entry.will === null ? null : plainPayload(entry.will) } : {}),
  };
  return serialize(stored);
}

/** `eventIdField`: the entry hash's `event-id`, which a cluster's engine writes (the bytes then hold 0). */
function decodeEntry(topic: string, bytes: Buffer, eventIdField?: Buffer | null): RetainedEntry {
  const stored = deserialize(bytes) as StoredEntry;
  if (eventIdField !== undefined && eventIdField !== null) return { topic, ...stored, eventId: Number(eventIdField.toString('latin1')) };
  return { topic, ...stored };
}
