import type { AggregateState } from './aggregate-state.js';
import type { KeyLevels, Row } from './row-key.js';

/** What the row store keeps under one table and key. */
export interface StoredRow {
  /** The row as clients see it (a `type: object` row as written; an aggregate row as computed). */
  readonly row: Row;
  /**
   * Aggregate rows only: the bookkeeping for exact subtraction (contribution count, running totals, the
   * multisets of `min`/`max`). Never published; it must be stored and read back with the row, atomically,
   * for the views to stay exact across restarts. Plain JSON.
   */
  readonly state?: AggregateState;
}

/**
 * Where the aggregate engine keeps rows: asynchronous, one entry per table and key. Keys are topic levels
 * (`KeyLevels`), so an implementation over the retained store can keep the entry at `<table>.<levels…>`.
 *
 * The engine is the only writer of the tables of its schema and runs one operation at a time; it reads what
 * an operation needs, computes every new row, and only then writes (so an invalid operation writes nothing).
 * `put` and `delete` only store: publishing the changes is the caller's job, from the engine's result.
 */
export interface RowStore {
  get(table: string, key: KeyLevels): Promise<StoredRow | undefined>;
  put(table: string, key: KeyLevels, stored: StoredRow): Promise<void>;
  /** Deleting an absent row is not an error. */
  delete(table: string, key: KeyLevels): Promise<void>;
}
