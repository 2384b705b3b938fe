import { describe, expect, it } from 'vitest';
import { checkLinearizability, holdIntervals, mutexModel, overlappingHolds, type MutexInput, type Operation } from '../support/linearizability.js';

// The checker the cluster's mutex test relies on must say no when no legal order exists, not only yes.

function op(process: string, input: MutexInput, invokedAt: number, completedAt: number | undefined): Operation<MutexInput> {
  return { process, input, invokedAt, completedAt };
}

describe('the mutex linearizability checker', () => {
  it('accepts a sequential history and one where concurrent acquires have an order', () => {
    const sequential = [op('a', 'acquire', 0, 1), op('a', 'release', 2, 3), op('b', 'acquire', 4, 5), op('b', 'release', 6, 7)];
    expect(checkLinearizability(sequential, mutexModel).linearizable).toBe(true);
    // b's acquire is invoked while a holds, and completes after a's release: b waited.
    const waited = [op('a', 'acquire', 0, 1), op('b', 'acquire', 1.5, 6), op('a', 'release', 2, 3), op('b', 'release', 7, 8)];
    const result = checkLinearizability(waited, mutexModel);
    expect(result.linearizable && result.order.map((o) => `${o.process} ${o.input}`)).toEqual(['a acquire', 'a release', 'b acquire', 'b release']);
  });

  it('rejects two acquires that both completed before either holder released', () => {
    const history = [op('a', 'acquire', 0, 1), op('b', 'acquire', 0.5, 2), op('a', 'release', 3, 4), op('b', 'release', 5, 6)];
    expect(checkLinearizability(history, mutexModel).linearizable).toBe(false);
    expect(overlappingHolds(holdIntervals(history))).toHaveLength(1);
  });

  it('rejects an acquire that completed before the holder released, even though the release was in flight', () => {
    // a's release is invoked at 3 and completes at 10; b's acquire completed at 2.5, before a even started releasing.
    const history = [op('a', 'acquire', 0, 1), op('b', 'acquire', 2, 2.5), op('a', 'release', 3, 10)];
    expect(checkLinearizability(history, mutexModel).linearizable).toBe(false);
  });

  it('lets an operation without a response take effect, or not', () => {
    // a died holding the lock while releasing: its release may have happened (so b could take the lock) ...
    const released = [op('a', 'acquire', 0, 1), op('a', 'release', 2, undefined), op('b', 'acquire', 3, 4)];
    expect(checkLinearizability(released, mutexModel).linearizable).toBe(true);
    // ... or not: an acquire without a response need not have taken the lock.
    const abandoned = [op('a', 'acquire', 0, undefined), op('b', 'acquire', 1, 2), op('b', 'release', 3, 4)];
    expect(checkLinearizability(abandoned, mutexModel).linearizable).toBe(true);
    // A pending operation is still held to the model: a release by a non-holder frees nothing.
    const illegal = [op('a', 'acquire', 0, 1), op('b', 'release', 2, undefined), op('c', 'acquire', 3, 4)];
    expect(checkLinearizability(illegal, mutexModel).linearizable).toBe(false);
  });

  it('rejects a release by a process that does not hold the lock', () => {
    const history = [op('a', 'acquire', 0, 1), op('b', 'release', 2, 3)];
    expect(checkLinearizability(history, mutexModel).linearizable).toBe(false);
  });
});
