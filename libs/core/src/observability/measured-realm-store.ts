import type { TopicPattern } from '../router/topic-pattern.js';
import type { HistoryEvent, RealmStore, RetainedEntry, RetainedWrite, WriteResult } from '../retained/realm-store.js';

/** Where a measured store reports each operation: its name, how long it took, and whether it failed. */
export type StoreOperationObserver = (operation: string, seconds: number, failed: boolean) => void;

/**
 * A realm store that times every operation of the store it wraps (the store latency metric). It adds one
 * promise step per operation and changes nothing else: each call reaches the wrapped store at once, so the
 * atomicity of its writes is untouched.
 */
export class MeasuredRealmStore implements RealmStore {
  /** The wrapped store's `historySize`, timed; absent when the wrapped store has none. */
  readonly historySize?: () => Promise<number>;
  /** The wrapped store's synchronous append, timed unless in memory; absent when the wrapped store has none. */
  readonly appendHistoryNow?: (event: HistoryEvent) => void;

  constructor(
    readonly inner: RealmStore,
    private readonly observe: StoreOperationObserver,
  ) {
    const historySize = inner.historySize;
    if (historySize !== undefined) this.historySize = () => this.timed('historySize', () => historySize.call(inner));
    const appendNow = inner.appendHistoryNow;
    // An in-memory append is not timed: the clock reads would cost more than the append itself.
    if (appendNow !== undefined && inner.inMemory === true) this.appendHistoryNow = appendNow.bind(inner);
    else if (appendNow !== undefined) {
      this.appendHistoryNow = (event) => {
        const started = performance.now();
        let failed = true;
        try {
          appendNow.call(inner, event);
          failed = false;
        } finally {
          this.observe('appendHistory', (performance.now() - started) / 1000, failed);
        }
      };
    }
  }

  reserveEventIds(count: number): Promise<{ readonly first: number; readonly reservedUpTo: number }> {
    return this.timed('reserveEventIds', () => this.inner.reserveEventIds(count));
  }

  get(topic: string): Promise<RetainedEntry | undefined> {
    return this.timed('get', () => this.inner.get(topic));
  }

  find(pattern: TopicPattern): Promise<RetainedEntry[]> {
    return this.timed('find', () => this.inner.find(pattern));
  }

  write(write: RetainedWrite): Promise<WriteResult> {
    return this.timed('write', () => this.inner.write(write));
  }

  willsOf(publisherId: number): Promise<RetainedEntry[]> {
    return this.timed('willsOf', () => this.inner.willsOf(publisherId));
  }

  allWills(): Promise<RetainedEntry[]> {
    return this.timed('allWills', () => this.inner.allWills());
  }

  size(): Promise<number> {
    return this.timed('size', () => this.inner.size());
  }

  appendHistory(event: HistoryEvent): Promise<void> {
    return this.timed('appendHistory', () => this.inner.appendHistory(event));
  }

  history(afterId: number, limit: number): Promise<HistoryEvent[]> {
    return this.timed('history', () => this.inner.history(afterId, limit));
  }

  oldestEventId(): Promise<number | undefined> {
    return this.timed('oldestEventId', () => this.inner.oldestEventId());
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let pending: Promise<T>;
    try {
      pending = run();
    } catch (error) {
      this.observe(operation, (performance.now() - started) / 1000, true);
      return Promise.reject(error);
    }
    return pending.then(
      (value) => {
        this.observe(operation, (performance.now() - started) / 1000, false);
        return value;
      },
      (error: unknown) => {
        this.observe(operation, (performance.now() - started) / 1000, true);
        throw error;
      },
    );
  }
}
