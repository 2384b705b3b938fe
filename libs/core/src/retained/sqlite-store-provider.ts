import { createRequire } from 'node:module';
import { deserialize, serialize } from 'node:v8';
import type BetterSqlite3 from 'better-sqlite3';
import { plainPayload, type Payload } from '../router/payload.js';
import { MemoryRealmStore } from './memory-realm-store.js';
import type { HistoryEvent, HistoryRetention, RealmStore, RetainedEntry, RetainedWrite, StoreProvider, WriteResult } from './realm-store.js';

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS retained (
    realm TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    publisher_id INTEGER NOT NULL,
    publication_id INTEGER NOT NULL,
    event_id INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    will BLOB,
    PRIMARY KEY (realm, topic)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS history (
    realm TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    publisher_id INTEGER NOT NULL,
    publication_id INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (realm, event_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS event_ids (
    realm TEXT PRIMARY KEY,
    reserved_up_to INTEGER NOT NULL
  );
`;

/** How often (in appended events) the history is trimmed to its retention. */
const TRIM_EVERY = 256;

/**
 * The durable embedded store: one SQLite file (better-sqlite3, WAL) for every realm of the router.
 * Retained entries are also held in memory (read at open), so reads cost no I/O; every write goes to SQLite
 * synchronously before its promise resolves, which makes an acknowledged write survive a crash of the
 * process. Values are bound parameters, never SQL text.
 */
export class SqliteStoreProvider implements StoreProvider {
  readonly description: string;
  private readonly db: Database;

  private constructor(readonly path: string, db: Database) {
    this.description = `sqlite:${path}`;
    this.db = db;
  }

  /** Opens (creating if needed) the database at `path`. better-sqlite3 is an optional peer dependency. */
  static open(path: string): SqliteStoreProvider {
    let Driver: typeof BetterSqlite3;
    try {
      Driver = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    } catch {
      throw new Error('the sqlite store needs the better-sqlite3 package (npm install better-sqlite3@12)');
    }
    const db = new Driver(path);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed write survives a crash of the process (it is in the WAL file); only a
    // power loss may take the last transactions.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    return new SqliteStoreProvider(path, db);
  }

  /** The database is open (it closes only with the provider). */
  get healthy(): boolean {
    return this.db.open;
  }

  openRealm(realm: string, retention: HistoryRetention): RealmStore {
    return new SqliteRealmStore(this.db, realm, retention);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

class SqliteRealmStore extends MemoryRealmStore {
  private readonly upsert: Statement;
  private readonly remove: Statement;
  private readonly insertEvent: Statement;
  private readonly selectEvents: Statement;
  private readonly selectOldest: Statement;
  private readonly countEvents: Statement;
  private readonly trimByCount: Statement;
  private readonly trimByAge: Statement;
  private readonly reserve: Statement;
  private appendedSinceTrim = 0;

  constructor(
    private readonly db: Database,
    private readonly realm: string,
    private readonly historyRetention: HistoryRetention,
  ) {
    super(historyRetention);
    this.upsert = db.prepare(
      `INSERT INTO retained (realm, topic, payload, publisher_id, publication_id, event_id, updated_at, will)
       VALUES (@realm, @topic, @payload, @publisherId, @publicationId, @eventId, @updatedAt, @will)
       ON CONFLICT (realm, topic) DO UPDATE SET payload = excluded.payload, publisher_id = excluded.publisher_id,
         publication_id = excluded.publication_id, event_id = excluded.event_id, updated_at = excluded.updated_at,
         will = excluded.will`,
    );
    this.remove = db.prepare('DELETE FROM retained WHERE realm = ? AND topic = ?');
    this.insertEvent = db.prepare(
      `INSERT INTO history (realm, event_id, topic, payload, publisher_id, publication_id, published_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectEvents = db.prepare(
      `SELECT event_id, topic, payload, publisher_id, publication_id, published_at FROM history
       WHERE realm = ? AND event_id > ? AND published_at >= ? ORDER BY event_id LIMIT ?`,
    );
    this.selectOldest = db.prepare('SELECT MIN(event_id) AS id FROM history WHERE realm = ? AND published_at >= ?');
    this.countEvents = db.prepare('SELECT COUNT(*) AS count FROM history WHERE realm = ? AND published_at >= ?');
    this.trimByCount = db.prepare(
      `DELETE FROM history WHERE realm = ? AND event_id <= (
         SELECT event_id FROM history WHERE realm = ? ORDER BY event_id DESC LIMIT 1 OFFSET ?)`,
    );
    this.trimByAge = db.prepare('DELETE FROM history WHERE realm = ? AND published_at < ?');
    this.reserve = db.prepare(
      `INSERT INTO event_ids (realm, reserved_up_to) VALUES (?, ?)
       ON CONFLICT (realm) DO UPDATE SET reserved_up_to = reserved_up_to + excluded.reserved_up_to
       RETURNING reserved_up_to`,
    );
    for (const row of db.prepare('SELECT * FROM retained WHERE realm = ?').iterate(realm) as Iterable<RetainedRow>) {
      this.restore(entryOf(row));
    }
  }

  override async reserveEventIds(count: number): Promise<{ first: number; reservedUpTo: number }> {
    const { reserved_up_to: reservedUpTo } = this.reserve.get(this.realm, count) as { reserved_up_to: number };
    return { first: reservedUpTo - count + 1, reservedUpTo };
  }

  protected override writeNow(write: RetainedWrite): WriteResult {
    const result = super.writeNow(write);
    if (!result.applied) return result;
    try {
      if (result.entry === undefined) this.remove.run(this.realm, write.topic);
      else this.upsert.run(rowOf(this.realm, result.entry));
    } catch (error) {
      // Keep memory and disk in step: undo the in-memory write, and fail the publish.
      if (result.previous !== undefined) this.restore(result.previous);
      else super.writeNow({ ...write, payload: {}, condition: undefined });
      throw error;
    }
    return result;
  }

  override async appendHistory(event: HistoryEvent): Promise<void> {
    this.appendHistoryNow(event);
  }

  /** Synchronous (better-sqlite3): the row is in the database when this returns. */
  override appendHistoryNow(event: HistoryEvent): void {
    if (this.historyRetention.maxEvents === 0) return;
    this.insertEvent.run(
      this.realm,
      event.eventId,
      event.topic,
      serialize(plainPayload(event.payload)),
      event.publisherId,
      event.publicationId,
      event.publishedAt,
    );
    if (++this.appendedSinceTrim >= TRIM_EVERY) {
      this.appendedSinceTrim = 0;
      this.trim();
    }
  }

  override async history(afterId: number, limit: number): Promise<HistoryEvent[]> {
    // Appends trim only every TRIM_EVERY events: trim first, so that a replay (limit = maxEvents) gets the
    // newest events, not the oldest ones with a gap after them, and agrees with `oldestEventId`.
    this.trim();
    const rows = this.selectEvents.all(this.realm, afterId, this.oldestAllowed(), limit) as HistoryRow[];
    return rows.map((row) => ({
      eventId: row.event_id,
      topic: row.topic,
      payload: deserialize(row.payload) as Payload,
      publisherId: row.publisher_id,
      publicationId: row.publication_id,
      publishedAt: row.published_at,
    }));
  }

  override async oldestEventId(): Promise<number | undefined> {
    this.trim();
    const row = this.selectOldest.get(this.realm, this.oldestAllowed()) as { id: number | null };
    return row.id ?? undefined;
  }

  override async historySize(): Promise<number> {
    // Trimming by count runs every TRIM_EVERY appends, so up to that many events over the limit may still be there.
    const { count } = this.countEvents.get(this.realm, this.oldestAllowed()) as { count: number };
    return Math.min(count, this.historyRetention.maxEvents);
  }

  private oldestAllowed(): number {
    return Date.now() - this.historyRetention.maxAgeMs;
  }

  private trim(): void {
    this.trimByAge.run(this.realm, this.oldestAllowed());
    this.trimByCount.run(this.realm, this.realm, this.historyRetention.maxEvents);
  }
}

interface RetainedRow {
  topic: string;
  payload: Buffer;
  publisher_id: number;
  publication_id: number;
  event_id: number;
  updated_at: number;
  will: Buffer | null;
}

interface HistoryRow {
  event_id: number;
  topic: string;
  payload: Buffer;
  publisher_id: number;
  publication_id: number;
  published_at: number;
}

/** A will is stored serialized, with `{ none: true }` distinguishing "no will" from a `null` (delete) will. */
function rowOf(realm: string, entry: RetainedEntry) {
  return {
    realm,
    topic: entry.topic,
    payload: serialize(plainPayload(entry.payload)),
    publisherId: entry.publisherId,
    publicationId: entry.publicationId,
    eventId: entry.eventId,
    updatedAt: entry.updatedAt,
    will: entry.will === undefined ? null : serialize({ will: entry.will }),
  };
}

function entryOf(row: RetainedRow): RetainedEntry {
  const entry: RetainedEntry = {
    topic: row.topic,
    payload: deserialize(row.payload) as Payload,
    publisherId: row.publisher_id,
    publicationId: row.publication_id,
    eventId: row.event_id,
    updatedAt: row.updated_at,
  };
  if (row.will === null) return entry;
  return { ...entry, will: (deserialize(row.will) as { will: Payload | null }).will };
}
