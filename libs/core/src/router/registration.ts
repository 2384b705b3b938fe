import type { Call } from './call.js';
import type { InvokePolicy } from './options.js';
import type { Session } from './session.js';
import type { MatchPolicy, TopicPattern } from './topic-pattern.js';

/** One session serving a registration, with its own concurrency limit. */
export class Callee {
  inFlight = 0;
  /**
   * Calls forwarded by another router process of the cluster for this callee in particular, waiting for a
   * free slot (each process picks callees by its own view; this callee's own process enforces its limit).
   */
  readonly waiting: Call[] = [];

  constructor(
    readonly session: Session,
    readonly registration: Registration,
    /** Invocations served at once; `Infinity` when the callee set no limit. */
    readonly concurrency: number,
  ) {}

  get hasCapacity(): boolean {
    return this.inFlight < this.concurrency;
  }
}

/**
 * A procedure URI under one match policy, served by one callee (`single`) or shared by several under an
 * invocation policy. Calls that find every callee at its concurrency limit wait here, first in first out.
 */
export class Registration {
  readonly callees: Callee[] = [];
  readonly queue: Call[] = [];
  readonly createdAt = Date.now();
  private nextRoundRobin = 0;

  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: MatchPolicy,
    readonly pattern: TopicPattern,
    readonly policy: InvokePolicy,
  ) {}

  calleeOf(session: Session): Callee | undefined {
    return this.callees.find((callee) => callee.session === session);
  }

  /** Picks the callee for the next invocation by the policy, among callees with free capacity. */
  pickCallee(): Callee | undefined {
    const callees = this.callees;
    const n = callees.length;
    if (n === 0) return undefined;
    switch (this.policy) {
      case 'single':
      case 'first':
        return callees.find((callee) => callee.hasCapacity);
      case 'last':
        return callees.findLast((callee) => callee.hasCapacity);
      case 'roundrobin':
        for (let step = 0; step < n; step++) {
          const index = (this.nextRoundRobin + step) % n;
          if (callees[index]!.hasCapacity) {
            this.nextRoundRobin = (index + 1) % n;
            return callees[index];
          }
        }
        return undefined;
      case 'random': {
        const free = callees.filter((callee) => callee.hasCapacity);
        return free.length === 0 ? undefined : free[Math.floor(Math.random() * free.length)];
      }
    }
  }

  removeCallee(callee: Callee): void {
    const index = this.callees.indexOf(callee);
    if (index < 0) return;
    this.callees.splice(index, 1);
    if (this.nextRoundRobin > index) this.nextRoundRobin--;
    if (this.nextRoundRobin >= this.callees.length) this.nextRoundRobin = 0;
  }
}
