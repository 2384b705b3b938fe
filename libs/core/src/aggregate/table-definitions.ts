import type { ValueFilter } from '../retained/retained-value.js';
import type { AggregateFunctionName } from './aggregate-functions.js';
import type { RowValidator } from './row-validator.js';

/**
 * The tables of a parsed information schema (see `information-schema.ts` for the JSON they come from).
 * Everything here is checked: names exist, functions agree, propagation has no cycle.
 */
export type TableDefinition = ObjectTableDefinition | AggregateTableDefinition;

/** A table whose rows clients write (`type: object`): validated by its JSON Schema, keyed by `primaryKey`. */
export interface ObjectTableDefinition {
  readonly kind: 'object';
  readonly name: string;
  readonly primaryKey: readonly string[];
  readonly validator: RowValidator;
  readonly propagate: readonly PropagateRule[];
}

/** A table the engine computes (`type: aggregate`): one row per group key, holding its aggregate fields. */
export interface AggregateTableDefinition {
  readonly kind: 'aggregate';
  readonly name: string;
  readonly primaryKey: readonly string[];
  /** In declaration order; a row lists its primary-key fields, then these. */
  readonly fields: readonly AggregateFieldDefinition[];
  readonly propagate: readonly PropagateRule[];
}

export interface AggregateFieldDefinition {
  readonly name: string;
  readonly fn: AggregateFunctionName;
}

/** The source "field" of a count that counts rows: `{ invoices: { count: '*' } }`, as SQL's `COUNT(*)`. */
export const ROW_COUNT = '*';

/** How rows of `source` feed the aggregate table `target`. */
export interface PropagateRule {
  readonly source: string;
  readonly target: string;
  /** Where the rule is written, for messages: `invoice.propagate.detail[0]`. */
  readonly path: string;
  /** For each of the target's primary-key fields, in its order: the source field that gives its value. */
  readonly key: readonly FieldMapping[];
  /** The target's aggregate fields this rule feeds; a field not listed gets nothing from this rule. */
  readonly fields: readonly AggregateFieldMapping[];
  /** Only source rows that pass count; absent: every row. */
  readonly filter?: ValueFilter;
}

export interface FieldMapping {
  readonly target: string;
  readonly source: string;
}

export interface AggregateFieldMapping extends FieldMapping {
  /** The target field's function (declared on the target table or in the rule). */
  readonly fn: AggregateFunctionName;
}
