import { performance } from 'node:perf_hooks';

// A linearizability checker (Wing & Gong's search, with Lowe's memoization of visited configurations) and a
// history recorder for clients that all live in the test process, so one clock (`performance.now()`) orders
// every invocation and response.
//
// A history is linearizable iff its operations can be put in one total order that (a) respects real time: an
// operation that completed before another was invoked comes first, and (b) is a legal run of the sequential
// model. An operation that never completed may have taken effect at any point after its invocation, or never.

/** One operation of a history: who did what, when it was invoked, and when its response arrived. */
export interface Operation<Input> {
  readonly process: string;
  readonly input: Input;
  readonly invokedAt: number;
  /** Undefined: no response (the operation is pending, or its client died): it may or may not have taken effect. */
  readonly completedAt: number | undefined;
}

/** A sequential specification: the states an object goes through, one operation at a time. */
export interface SequentialModel<State, Input> {
  readonly initial: State;
  /** The state after `process` applies `input` in `state`; undefined if that is not a legal step. */
  step(state: State, process: string, input: Input): State | undefined;
  /** A key equal for equal states (for memoization). */
  key(state: State): string;
}

export type LinearizabilityResult<Input> =
  | { readonly linearizable: true; /** A witness: the history's operations in a legal total order. */ readonly order: readonly Operation<Input>[] }
  | { readonly linearizable: false; /** The longest legal prefix the search found, to explain the failure. */ readonly longestPrefix: readonly Operation<Input>[] };

/**
 * Searches for a linearization of `history` under `model`. Exhaustive (with memoization), so a `false` answer
 * means no order exists; fine for histories of a few hundred operations of a small model such as a mutex.
 */
export function checkLinearizability<State, Input>(history: readonly Operation<Input>[], model: SequentialModel<State, Input>): LinearizabilityResult<Input> {
  const ops = [...history].sort((a, b) => a.invokedAt - b.invokedAt);
  const done = new Array<boolean>(ops.length).fill(false);
  const completedTotal = ops.filter((op) => op.completedAt !== undefined).length;
  const visited = new Set<string>();
  const order: Operation<Input>[] = [];
  let longestPrefix: Operation<Input>[] = [];

  const search = (state: State, completedLinearized: number): boolean => {
    if (completedLinearized === completedTotal) return true;
    if (order.length > longestPrefix.length) longestPrefix = [...order];
    // The next operation must have been invoked before the earliest response among those not yet placed:
    // otherwise the operation that responded first would come after one that started later.
    let horizon = Infinity;
    for (let i = 0; i < ops.length; i++) if (!done[i] && ops[i]!.completedAt !== undefined) horizon = Math.min(horizon, ops[i]!.completedAt!);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.invokedAt > horizon) break; // sorted by invocation: no later one qualifies either
      if (done[i]) continue;
      const next = model.step(state, op.process, op.input);
      if (next === undefined) continue;
      done[i] = true;
      const key = `${model.key(next)}|${done.map((placed) => (placed ? '1' : '0')).join('')}`;
      if (!visited.has(key)) {
        visited.add(key);
        order.push(op);
        if (search(next, completedLinearized + (op.completedAt === undefined ? 0 : 1))) return true;
        order.pop();
      }
      done[i] = false;
    }
    return false;
  };

  return search(model.initial, 0) ? { linearizable: true, order: [...order] } : { linearizable: false, longestPrefix };
}

export type MutexInput = 'acquire' | 'release';

/** A mutex: free, or held by one process; only a free mutex can be acquired, only its holder releases it. */
export const mutexModel: SequentialModel<string | null, MutexInput> = {
  initial: null,
  step(holder, process, input) {
    if (input === 'acquire') return holder === null ? process : undefined;
    return holder === process ? null : undefined;
  },
  key: (holder) => holder ?? '',
};

/** Records a history on the test process's clock: `invoke()` before sending, `ok()` when the response is in. */
export class HistoryRecorder<Input> {
  private readonly records: { process: string; input: Input; invokedAt: number; completedAt: number | undefined }[] = [];

  invoke(process: string, input: Input): { ok(): number } {
    const record = { process, input, invokedAt: performance.now(), completedAt: undefined as number | undefined };
    this.records.push(record);
    return {
      ok: () => (record.completedAt = performance.now()),
    };
  }

  get history(): readonly Operation<Input>[] {
    return this.records.map((record) => ({ ...record }));
  }
}

/** The interval during which a process certainly held the mutex: from its acquire's response to its release's invocation. */
export interface HoldInterval {
  readonly process: string;
  readonly from: number;
  readonly to: number;
}

/** Each completed acquire paired with the same process's next release (invocation time), in history order. */
export function holdIntervals(history: readonly Operation<MutexInput>[]): HoldInterval[] {
  const intervals: HoldInterval[] = [];
  const acquiredAt = new Map<string, number>();
  for (const op of [...history].sort((a, b) => a.invokedAt - b.invokedAt)) {
    if (op.input === 'acquire' && op.completedAt !== undefined) acquiredAt.set(op.process, op.completedAt);
    if (op.input === 'release') {
      const from = acquiredAt.get(op.process);
      if (from === undefined) continue;
      acquiredAt.delete(op.process);
      intervals.push({ process: op.process, from, to: op.invokedAt });
    }
  }
  return intervals;
}

/** Pairs of hold intervals of different processes that overlap in time (empty for a correct mutex). */
export function overlappingHolds(intervals: readonly HoldInterval[]): [HoldInterval, HoldInterval][] {
  const sorted = [...intervals].sort((a, b) => a.from - b.from);
  const overlaps: [HoldInterval, HoldInterval][] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.from < sorted[i]!.to; j++) {
      if (sorted[j]!.process !== sorted[i]!.process) overlaps.push([sorted[i]!, sorted[j]!]);
    }
  }
  return overlaps;
}

/** A history in a readable form, for assertion messages. */
export function describeHistory(history: readonly Operation<unknown>[]): string {
  return history
    .map((op) => `${op.process} ${String(op.input)} [${op.invokedAt.toFixed(1)}, ${op.completedAt === undefined ? 'pending' : op.completedAt.toFixed(1)}]`)
    .join('\n');
}
