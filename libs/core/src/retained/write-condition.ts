import type { RetainedEntry, WriteCondition } from './realm-store.js';
import { conditionHolds } from './retained-value.js';

/** Whether a write's condition holds for the current entry (undefined = none). Shared by the stores. */
export function writeConditionHolds(condition: WriteCondition | undefined, current: RetainedEntry | undefined): boolean {
  if (condition === undefined) return true;
  if (condition.kind === 'publication') return current !== undefined && current.publicationId === condition.publicationId;
  return conditionHolds(condition, current?.payload);
}
