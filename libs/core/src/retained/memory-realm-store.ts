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
import { isDeletion } from './retained-value.js';
import { TopicTree } from './topic-tree.js';
import { writeConditionHolds } from './write-condition.js';

/**
 * Retained entries in a topic tree and the history in a bounded array: the default store, and the
 * reference model the durable stores are tested against. Everything happens synchronously inside each
 * call, which is what makes `write` atomic.
 */
export class MemoryRealmStore implements RealmStore {
  readonly inMemory = true;
  private readonly entries = new TopicTree<RetainedEntry>();
  private readonly events: HistoryEvent[] = [];
  /** Index of the oldest live event in `events` (dropping from the front without shifting every time). */
  private head = 0;
  private nextEventId = 1;

  constructor(private readonly retention: HistoryRetention) {}

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
    // Event IDs increase along the array: binary search for the first one above `afterId`.
    let low = this.head;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.events[middle]!.eventId <= afterId) low = middle + 1;
      else high = middle;
    }
    return this.events.slice(low, low + limit);
  }

  async oldestEventId(): Promise<number | undefined> {
    this.trimHistory(Date.now());
    return this.events[this.head]?.eventId;
  }

  async historySize(): Promise<number> {
    this.trimHistory(Date.now());
    return this.events.length - this.head;
  }

  async close(): Promise<void> {}

  private trimHistory(now: number): void {
    const oldestAllowed = now - this.retention.maxAgeMs;
    while (
      this.head < this.events.length &&
      (this.events.length - this.head > this.retention.maxEvents || this.events[this.head]!.publishedAt < oldestAllowed)
    ) {
      this.head++;
    }
    // Compact once the dead front is as large as the live part, so memory stays proportional to the retention.
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events.splice(0, this.head);
      this.head = 0;
    }
  }
}

export class MemoryStoreProvider implements StoreProvider {
  readonly description = 'memory';

  openRealm(_realm: string, retention: HistoryRetention): RealmStore {
    return new MemoryRealmStore(retention);
  }

  async close(): Promise<void> {}
}
