import type { LocalEvent } from '@fox-wamp/core';

/** Collects the events an in-process subscriber (`LocalClient`) gets; `count(n)` waits for the n-th. */
export class LocalEvents {
  readonly received: LocalEvent[] = [];
  private waiters: (() => void)[] = [];

  readonly handler = (event: LocalEvent) => {
    this.received.push(event);
    for (const wake of this.waiters.splice(0)) wake();
  };

  async count(n: number): Promise<LocalEvent[]> {
    while (this.received.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.received;
  }

  /** The first argument of each event, in order. */
  get args(): unknown[] {
    return this.received.map((event) => event.args[0]);
  }
}
