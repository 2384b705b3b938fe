import type { HistoryEvent } from './realm-store.js';

/**
 * The in-memory event history: a ring of at most `capacity` events in event-ID order. Appending to a full
 * ring overwrites the oldest event, so the ring never holds more than the retention allows. That matters
 * for latency, not only memory: every event the ring holds is copied by each young-generation collection
 * that finds it, and an array trimmed by advancing a head index (compacted now and then) kept up to twice
 * the retention reachable (see docs/performance.md).
 */
export class EventRing {
  /** Physical slots: filled by appending until `capacity`, then reused in place. */
  private readonly slots: (HistoryEvent | undefined)[] = [];
  /** Physical index of the oldest event. */
  private start = 0;
  private count = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.count;
  }

  /** The `index`-th event from the oldest (0 ≤ index < size). */
  at(index: number): HistoryEvent {
    return this.slots[(this.start + index) % this.capacity]!;
  }

  /** Appends an event (its ID above every held one); drops the oldest when full. */
  push(event: HistoryEvent): void {
    if (this.capacity === 0) return;
    if (this.count === this.capacity) {
      this.slots[this.start] = event;
      this.start = (this.start + 1) % this.capacity;
      return;
    }
    const at = (this.start + this.count) % this.capacity;
    // Before the first wrap `at` is the array's length (an append); after it, a slot already there.
    if (at === this.slots.length) this.slots.push(event);
    else this.slots[at] = event;
    this.count++;
  }

  /** Drops events published before `oldestAllowed` (ms since the epoch) from the old end. */
  dropOlderThan(oldestAllowed: number): void {
    while (this.count > 0 && this.slots[this.start]!.publishedAt < oldestAllowed) {
      this.slots[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  /** Up to `limit` events with an ID above `afterId`, oldest first. */
  after(afterId: number, limit: number): HistoryEvent[] {
    // Event IDs increase from the oldest: binary search for the first one above `afterId`.
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.at(middle).eventId <= afterId) low = middle + 1;
      else high = middle;
    }
    const end = Math.min(this.count, low + limit);
    const events: HistoryEvent[] = [];
    for (let index = low; index < end; index++) events.push(this.at(index));
    return events;
  }
}
