import { keyId, type KeyLevels } from './row-key.js';
import type { RowStore, StoredRow } from './row-store.js';

/** One entry of a `MemoryRowStore` listing. */
export interface RowStoreEntry extends StoredRow {
  readonly key: KeyLevels;
}

/**
 * A `RowStore` in memory, for tests and embedding. It keeps each entry as JSON text, as a durable store
 * would, so nothing the engine stores may depend on object identity or on values JSON cannot carry, and
 * callers can never mutate a stored row through a reference.
 */
export class MemoryRowStore implements RowStore {
  private readonly tables = new Map<string, Map<string, { readonly key: KeyLevels; readonly json: string }>>();

  async get(table: string, key: KeyLevels): Promise<StoredRow | undefined> {
    const entry = this.tables.get(table)?.get(keyId(key));
    return entry === undefined ? undefined : (JSON.parse(entry.json) as StoredRow);
  }

  async put(table: string, key: KeyLevels, stored: StoredRow): Promise<void> {
    let rows = this.tables.get(table);
    if (rows === undefined) this.tables.set(table, (rows = new Map()));
    rows.set(keyId(key), { key: [...key], json: JSON.stringify(stored) });
  }

  async delete(table: string, key: KeyLevels): Promise<void> {
    this.tables.get(table)?.delete(keyId(key));
  }

  /** Every entry of `table`, ordered by key (its levels joined by `.`). */
  entries(table: string): RowStoreEntry[] {
    const rows = [...(this.tables.get(table)?.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return rows.map(([, entry]) => ({ key: entry.key, ...(JSON.parse(entry.json) as StoredRow) }));
  }
}
