import { isDeepStrictEqual } from 'node:util';
import { ErrorUri, RouterError } from '../router/errors.js';
import { Sequencer } from '../router/sequencer.js';
import { aggregateRow, EMPTY_AGGREGATE_STATE, withContribution, type AggregateState } from './aggregate-state.js';
import { contributionOf, type Contribution } from './contribution.js';
import type { InformationSchema } from './information-schema.js';
import { keyId, keyLevelOf, keyLevelsOf, type KeyLevels, type KeyValue, type Row } from './row-key.js';
import type { RowStore, StoredRow } from './row-store.js';
import type { AggregateTableDefinition, ObjectTableDefinition, TableDefinition } from './table-definitions.js';

/** One row an operation changed: its new content, or `null` when it was deleted. */
export interface RowChange {
  readonly table: string;
  /** Topic levels: the row's topic is `<table>.<key…>`. */
  readonly key: KeyLevels;
  readonly row: Row | null;
}

/** An aggregate row an operation reads or changes, with its bookkeeping as the operation goes. */
interface TouchedRow {
  readonly key: KeyLevels;
  readonly stored: StoredRow | undefined;
  /** The values of the primary-key fields, as the row shows them. */
  readonly keyValues: Row;
  state: AggregateState;
}

/**
 * The aggregate engine: materialized views over the `type: object` tables of an information schema.
 *
 * `upsert` and `delete` change one row of a `type: object` table and update, incrementally, every
 * aggregate row it propagates to, through chains of aggregate tables: the old row's contribution is
 * subtracted (if it passed the rule's filter), the new one's added (if it passes), so a changed group key
 * moves the contribution from one aggregate row to another. An aggregate row left with no contribution is
 * deleted.
 *
 * Operations run one at a time: the caller may call concurrently, an internal queue keeps them in call
 * order and never lets two interleave. The engine must be the only writer of its tables in the store.
 * An operation first reads and computes everything, then writes; a rejected operation (invalid row, a value
 * a function cannot take) writes nothing. A store that fails half-way through the writes can leave the
 * views out of step with the rows (a store with transactions may wrap the writes of one operation).
 * The stored views follow the schema they were built with: changing the schema over a store that holds rows
 * needs the aggregate tables rebuilt from their sources (not provided here).
 *
 * Each operation resolves with the rows it changed, in this order: first the operation's own row (always,
 * even when it is unchanged or was already absent: it is the publication); then the aggregate rows whose
 * content changed, table by table in `schema.propagationOrder`, and within a table in the order the
 * operation first touched them (for each rule: the old row's group, then the new row's group).
 */
export class AggregateEngine {
  private readonly queue = new Sequencer();

  constructor(
    readonly schema: InformationSchema,
    private readonly store: RowStore,
  ) {}

  /**
   * Validates `row` against its table's JSON Schema, replaces the row with the same primary key and
   * updates the aggregates. An invalid row, an unknown table or an aggregate table is an invalid argument.
   */
  async upsert(table: string, row: unknown): Promise<RowChange[]> {
    const definition = this.writableTable(table);
    const valid = definition.validator.validate(row);
    const key = keyLevelsOf(table, definition.primaryKey, valid);
    return this.queue.run(() => this.apply(definition, key, valid));
  }

  /**
   * Deletes the row with primary key `key` (values in `primary_key` order; strings from a topic are fine:
   * `['5']` is the row whose key field is 5) and subtracts it from the aggregates.
   */
  async delete(table: string, key: readonly KeyValue[]): Promise<RowChange[]> {
    const definition = this.writableTable(table);
    if (key.length !== definition.primaryKey.length) {
      throw new RouterError(
        ErrorUri.invalidArgument,
        `${table} key has ${definition.primaryKey.length} value(s) (${definition.primaryKey.join(', ')}); got ${JSON.stringify(key)}`,
      );
    }
    const levels = key.map((value, index) => keyLevelOf(value, `${table}.${definition.primaryKey[index]}`));
    return this.queue.run(() => this.apply(definition, levels, undefined));
  }

  /** The key levels of `row` in `table` (its topic is `<table>.<levels…>`); an invalid argument if it has none. */
  keyOf(table: string, row: Row): KeyLevels {
    const definition = this.tableNamed(table);
    return keyLevelsOf(table, definition.primaryKey, row);
  }

  private tableNamed(table: string): TableDefinition {
    const definition = this.schema.table(table);
    if (definition === undefined) throw new RouterError(ErrorUri.invalidArgument, `no table ${JSON.stringify(table)} in the information schema`);
    return definition;
  }

  private writableTable(table: string): ObjectTableDefinition {
    const definition = this.tableNamed(table);
    if (definition.kind === 'aggregate') {
      throw new RouterError(ErrorUri.invalidArgument, `${table} is an aggregate table: the engine computes its rows, nobody writes them`);
    }
    return definition;
  }

  private async apply(table: ObjectTableDefinition, key: KeyLevels, row: Row | undefined): Promise<RowChange[]> {
    const previous = await this.store.get(table.name, key);
    const touched = new TouchedRows(this.store);
    await this.propagate(table, previous?.row, row, touched);

    const changes: RowChange[] = [{ table: table.name, key, row: row ?? null }];
    const writes: (() => Promise<void>)[] = [];
    if (row !== undefined) writes.push(() => this.store.put(table.name, key, { row }));
    else if (previous !== undefined) writes.push(() => this.store.delete(table.name, key));

    // In propagation order, every contribution to a table has arrived before its rows propagate further.
    for (const aggregate of this.schema.propagationOrder) {
      for (const entry of touched.of(aggregate.name)) {
        const before = entry.stored?.row;
        const after = entry.state.contributions > 0 ? aggregateRow(aggregate, entry.keyValues, entry.state) : undefined;
        if (!isDeepStrictEqual(before, after)) {
          changes.push({ table: aggregate.name, key: entry.key, row: after ?? null });
          await this.propagate(aggregate, before, after, touched);
        }
        const write = storeWrite(aggregate.name, entry, after);
        if (write !== undefined) writes.push(() => write(this.store));
      }
    }
    for (const write of writes) await write();
    return changes;
  }

  /** Moves the contributions of `table`'s row from its old content to its new one (either may be absent). */
  private async propagate(table: TableDefinition, before: Row | undefined, after: Row | undefined, touched: TouchedRows): Promise<void> {
    for (const rule of table.propagate) {
      const target = this.schema.table(rule.target) as AggregateTableDefinition;
      const removed = before === undefined ? undefined : contributionOf(rule, before);
      const added = after === undefined ? undefined : contributionOf(rule, after);
      if (removed !== undefined) await touched.apply(target, removed, -1);
      if (added !== undefined) await touched.apply(target, added, 1);
    }
  }
}

/** What to write for one touched aggregate row, if anything changed (its row or only its bookkeeping). */
function storeWrite(table: string, entry: TouchedRow, after: Row | undefined): ((store: RowStore) => Promise<void>) | undefined {
  if (after === undefined) return entry.stored === undefined ? undefined : (store) => store.delete(table, entry.key);
  if (entry.stored !== undefined && isDeepStrictEqual(entry.stored, { row: after, state: entry.state })) return undefined;
  const stored: StoredRow = { row: after, state: entry.state };
  return (store) => store.put(table, entry.key, stored);
}

/** The aggregate rows one operation touches, read from the store once each, in first-touch order per table. */
class TouchedRows {
  private readonly tables = new Map<string, Map<string, TouchedRow>>();

  constructor(private readonly store: RowStore) {}

  of(table: string): Iterable<TouchedRow> {
    return this.tables.get(table)?.values() ?? [];
  }

  async apply(table: AggregateTableDefinition, contribution: Contribution, sign: 1 | -1): Promise<void> {
    const entry = await this.touch(table, contribution);
    entry.state = withContribution(table, entry.state, contribution, sign);
  }

  private async touch(table: AggregateTableDefinition, contribution: Contribution): Promise<TouchedRow> {
    let rows = this.tables.get(table.name);
    if (rows === undefined) this.tables.set(table.name, (rows = new Map()));
    const id = keyId(contribution.key);
    let entry = rows.get(id);
    if (entry === undefined) {
      const stored = await this.store.get(table.name, contribution.key);
      if (stored !== undefined && stored.state === undefined) {
        throw new Error(`aggregate row ${table.name}.${id} has no bookkeeping in the store`);
      }
      entry = {
        key: contribution.key,
        stored,
        // An existing row keeps the key values it shows; a new one takes them from its first contribution.
        keyValues: stored?.row ?? contribution.keyValues,
        state: stored?.state ?? EMPTY_AGGREGATE_STATE,
      };
      rows.set(id, entry);
    }
    return entry;
  }
}
