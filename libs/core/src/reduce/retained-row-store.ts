import type { KeyLevels } from '../aggregate/row-key.js';
import type { RowStore, StoredRow } from '../aggregate/row-store.js';
import type { InformationSchema } from '../aggregate/information-schema.js';
import { isPlainObject, valueOf } from '../retained/retained-value.js';
import { EMPTY_PAYLOAD } from '../router/payload.js';
import type { PublicationPipeline } from '../router/publication-pipeline.js';
import { topicKey } from '../router/topic.js';
import { aggregateStateKey } from './hidden-topics.js';

/**
 * The aggregate engine's rows in the realm's retained store, so that the views live where subscribers read
 * them and a durable store keeps them across restarts.
 *
 * - A row of a `type: object` table is the retained entry `<table>.<key…>` that its publication wrote
 *   (the row is the entry's value). `put` and `delete` store nothing for these rows: `RealmTables`
 *   publishes each change as a retained write, which is what stores it.
 * - An aggregate row is also published at `<table>.<key…>`, for subscribers; what the engine reads and
 *   writes here is its hidden companion `$fox.aggregate.<table>.<key…>`, holding `{ row, state }` in one
 *   entry, so the row and its bookkeeping are always written together (see `hidden-topics.ts`).
 *
 * Reads and writes go through the publication pipeline, in order with the publications of earlier
 * operations: a read always sees what the operation before it published.
 */
export class RetainedRowStore implements RowStore {
  constructor(
    private readonly pipeline: PublicationPipeline,
    private readonly schema: InformationSchema,
  ) {}

  async get(table: string, key: KeyLevels): Promise<StoredRow | undefined> {
    if (this.isAggregate(table)) {
      const entry = await this.pipeline.get(aggregateStateKey(table, key));
      return entry === undefined ? undefined : (valueOf(entry.payload) as StoredRow);
    }
    const entry = await this.pipeline.get(topicKey([table, ...key]));
    const row = entry === undefined ? undefined : valueOf(entry.payload);
    // A value that is not a row was not written by the engine (a publish from before the schema existed).
    return isPlainObject(row) ? { row } : undefined;
  }

  async put(table: string, key: KeyLevels, stored: StoredRow): Promise<void> {
    if (stored.state === undefined) return;
    await this.pipeline.storeInternal(aggregateStateKey(table, key), { args: [{ row: stored.row, state: stored.state }] });
  }

  async delete(table: string, key: KeyLevels): Promise<void> {
    if (this.isAggregate(table)) await this.pipeline.storeInternal(aggregateStateKey(table, key), EMPTY_PAYLOAD);
  }

  private isAggregate(table: string): boolean {
    return this.schema.table(table)?.kind === 'aggregate';
  }
}
