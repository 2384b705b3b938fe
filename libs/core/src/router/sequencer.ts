/**
 * Runs asynchronous operations one at a time, in the order they were queued. The realm's publication
 * pipeline uses it so that store writes, deliveries, history and event IDs all follow one order even
 * when the store answers asynchronously. `idle` lets callers take a synchronous fast path.
 */
export class Sequencer {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  get idle(): boolean {
    return this.pending === 0;
  }

  run<T>(operation: () => T | Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(operation);
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }
}
