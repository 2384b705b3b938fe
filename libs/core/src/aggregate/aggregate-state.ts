import { aggregateFunction, EMPTY_FIELD_STATE, type FieldState } from './aggregate-functions.js';
import type { Contribution } from './contribution.js';
import type { Row } from './row-key.js';
import type { AggregateTableDefinition } from './table-definitions.js';

/**
 * The bookkeeping of one aggregate row: enough to subtract any contribution exactly. Plain JSON, stored with
 * the row (`StoredRow.state`) so that it survives a restart of a durable store.
 */
export interface AggregateState {
  /** Contributions (source row × propagate rule) counted in this row; the row exists while this is > 0. */
  readonly contributions: number;
  /** Per aggregate field holding at least one value; a field without values is left out. */
  readonly fields: Readonly<Record<string, FieldState>>;
}

export const EMPTY_AGGREGATE_STATE: AggregateState = Object.freeze({ contributions: 0, fields: Object.freeze({}) });

/** `state` with `contribution` added (`sign` 1) or subtracted (`sign` -1). */
export function withContribution(
  table: AggregateTableDefinition,
  state: AggregateState,
  contribution: Contribution,
  sign: 1 | -1,
): AggregateState {
  const contributions = state.contributions + sign;
  if (contributions < 0) throw new Error(`aggregate bookkeeping out of sync: ${table.name} row ${contribution.key.join('.')} has no contribution to subtract`);
  const fields: Record<string, FieldState> = { ...state.fields };
  for (const [field, value] of contribution.values) {
    const fn = aggregateFunction(functionOf(table, field));
    const before = fields[field] ?? EMPTY_FIELD_STATE;
    const after = sign === 1 ? fn.add(before, value) : fn.subtract(before, value);
    if (after.count === 0) delete fields[field];
    else fields[field] = after;
  }
  return { contributions, fields };
}

/** The aggregate row as subscribers see it: its primary-key fields, then each aggregate field's result. */
export function aggregateRow(table: AggregateTableDefinition, keyValues: Row, state: AggregateState): Row {
  const row: Record<string, unknown> = {};
  for (const field of table.primaryKey) row[field] = keyValues[field];
  for (const { name, fn } of table.fields) row[name] = aggregateFunction(fn).result(state.fields[name] ?? EMPTY_FIELD_STATE);
  return row;
}

function functionOf(table: AggregateTableDefinition, field: string) {
  const definition = table.fields.find((candidate) => candidate.name === field);
  if (definition === undefined) throw new Error(`${table.name} has no aggregate field ${field}`);
  return definition.fn;
}
