import { levelsOfKey } from '../router/topic.js';
import type { TopicPattern } from '../router/topic-pattern.js';
import type {
  HistoryEvent,
  HistoryRetention,
  RealmStore,
  RetainedEntry,
  RetainedWrite,
  StoreProvider,
  WriteResult,
} from './realm-store.js';
import { EventRing } from './event-ring.js';
import { isDeletion } from './retained-value.js';
import { TopicTree } from './topic-tree.js';
import { writeConditionHolds } from './write-condition.js';

/**
 * Retained entries in a topic tree and the history in a ring of bounded size: the default store, and the
 * reference model the durable stores are tested against. Everything happens synchronously inside each
 * call, which is what makes `write` atomic.
 */
export class MemoryRealmStore implements RealmStore {
  readonly inMemory = true;
  private readonly entries = new TopicTree<RetainedEntry>();
  private readonly events: EventRing;
  private nextEventId = 1;

  constructor(private readonly retention: HistoryRetention) {
    this.events = new EventRing(retention.maxEvents);
  }

  async reserveEventIds(count: number): Promise<{ first: number; reservedUpTo: number }> {
    const first = this.nextEventId;
    this.nextEventId += count;
    return { first, reservedUpTo: this.nextEventId - 1 };
  }

  async get(topic: string): Promise<RetainedEntry | undefined> {
    return this.entries.get(levelsOfKey(topic));
  }

  async find(pattern: TopicPattern): Promise<RetainedEntry[]> {
    return this.entries.find(pattern).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  }

  async write(write: RetainedWrite): Promise<WriteResult> {
    return this.writeNow(write);
  }

  /** The synchronous core of `write`, for stores that build on this one. */
  protected writeNow(write: RetainedWrite): WriteResult {
    const levels = levelsOfKey(write.topic);
    const previous = this.entries.get(levels);
    if (!writeConditionHolds(write.condition, previous)) return { applied: false, current: previous };
    if (isDeletion(write.payload)) {
      this.entries.delete(levels);
      return { applied: true, entry: undefined, previous };
    }
    const entry: RetainedEntry = {
      topic: write.topic,
      payload: write.payload,
      publisherId: write.publisherId,
      publicationId: write.publicationId,
      eventId: write.eventId,
      updatedAt: Date.now(),
      ...(write.will !== undefined ? { will: write.will } : {}),
    };
    this.entries.set(levels, entry);
    return { applied: true, entry, previous };
  }

  /** Puts an entry back as it was (loading a durable store). */
  protected restore(entry: RetainedEntry): void {
    this.entries.set(levelsOfKey(entry.topic), entry);
  }

  async willsOf(publisherId: number): Promise<RetainedEntry[]> {
    return this.entries.values().filter((entry) => entry.publisherId === publisherId && entry.will !== undefined);
  }

  async allWills(): Promise<RetainedEntry[]> {
    return this.entries.values().filter((entry) => entry.will !== undefined);
  }

  async size(): Promise<number> {
    return this.entries.size;
  }

  async appendHistory(event: HistoryEvent): Promise<void> {
    this.appendHistoryNow(event);
  }

  appendHistoryNow(event: HistoryEvent): void {
    if (this.retention.maxEvents === 0) return;
    this.events.push(event);
    this.trimHistory(event.publishedAt);
  }

  async history(afterId: number, limit: number): Promise<HistoryEvent[]> {
    this.trimHistory(Date.now());
    return this.events.after(afterId, limit);
  }

  async oldestEventId(): Promise<number | undefined> {
    this.trimHistory(Date.now());
    return this.events.size === 0 ? undefined : this.events.at(0).eventId;
  }

  async historySize(): Promise<number> {
    this.trimHistory(Date.now());
    return this.events.size;
  }

  async close(): Promise<void> {}

  /** Drops what is older than the retention's age (the ring itself keeps at most `maxEvents`). */
  private trimHistory(now: number): void {
    this.events.dropOlderThan(now - this.retention.maxAgeMs);
  }
}

export class MemoryStoreProvider implements StoreProvider {
  readonly description = 'memory';

  openRealm(_realm: string, retention: HistoryRetention): RealmStore {
    return new MemoryRealmStore(retention);
  }

  async close(): Promise<void> {}
}
