/**
 * The aggregate functions of `type: aggregate` tables, each incremental: a contribution's value is added
 * when a source row starts to count and subtracted, exactly, when it stops. Their bookkeeping is a plain
 * JSON value (`FieldState`) so that a durable store keeps it beside the aggregate row.
 *
 * Like SQL, a function ignores missing and `null` values (the engine never passes them here); the row
 * still counts as a contribution of its group. Sums of integers are exact (up to 2^53); sums of fractions
 * carry the rounding of any running total, reset to exactly 0 whenever a field's last value leaves.
 */

export const AGGREGATE_FUNCTIONS = ['sum', 'count', 'min', 'max', 'avg'] as const;
export type AggregateFunctionName = (typeof AGGREGATE_FUNCTIONS)[number];

export function isAggregateFunctionName(name: unknown): name is AggregateFunctionName {
  return (AGGREGATE_FUNCTIONS as readonly unknown[]).includes(name);
}

/** A value `min` and `max` can order: numbers sort before strings, strings by UTF-16 code units. */
export type OrderedValue = number | string;

/** What one aggregate field keeps to add and subtract exactly. */
export interface FieldState {
  /** Values currently aggregated (non-null values of the contributing rows). */
  readonly count: number;
  /** `sum` and `avg`: the running total of the values. */
  readonly sum?: number;
  /** `min` and `max`: the multiset of values, ascending, as `[value, multiplicity]` pairs. */
  readonly values?: readonly (readonly [OrderedValue, number])[];
}

export const EMPTY_FIELD_STATE: FieldState = Object.freeze({ count: 0 });

export interface AggregateFunction {
  /** Why this function cannot aggregate `value` (never null or undefined); undefined when it can. */
  rejects(value: unknown): string | undefined;
  add(state: FieldState, value: unknown): FieldState;
  subtract(state: FieldState, value: unknown): FieldState;
  /** The field's value in the aggregate row. */
  result(state: FieldState): unknown;
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function outOfSync(what: string): never {
  throw new Error(`aggregate bookkeeping out of sync: ${what} (the row store changed behind the engine?)`);
}

/** One value fewer; an empty state drops the running total so that rounding errors cannot linger. */
function decremented(state: FieldState): number {
  if (state.count <= 0) outOfSync('a value was subtracted from an empty field');
  return state.count - 1;
}

const sum: AggregateFunction = {
  rejects: (value) => (isFiniteNumber(value) ? undefined : 'must be a finite number'),
  add: (state, value) => ({ count: state.count + 1, sum: (state.sum ?? 0) + (value as number) }),
  subtract: (state, value) => {
    const count = decremented(state);
    return count === 0 ? EMPTY_FIELD_STATE : { count, sum: (state.sum ?? 0) - (value as number) };
  },
  // The sum of no values is 0 (SQL says NULL; a view of totals reads better with 0).
  result: (state) => state.sum ?? 0,
};

const avg: AggregateFunction = {
  ...sum,
  result: (state) => (state.count === 0 ? null : (state.sum ?? 0) / state.count),
};

const count: AggregateFunction = {
  rejects: () => undefined,
  add: (state) => ({ count: state.count + 1 }),
  subtract: (state) => {
    const remaining = decremented(state);
    return remaining === 0 ? EMPTY_FIELD_STATE : { count: remaining };
  },
  result: (state) => state.count,
};

function compareOrdered(a: OrderedValue, b: OrderedValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Index of `value` in the ascending multiset, or of where it would go (binary search). */
function positionOf(values: readonly (readonly [OrderedValue, number])[], value: OrderedValue): { index: number; found: boolean } {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = compareOrdered(values[middle]![0], value);
    if (order === 0) return { index: middle, found: true };
    if (order < 0) low = middle + 1;
    else high = middle;
  }
  return { index: low, found: false };
}

/** `min` and `max` keep every value with its multiplicity, so removing the current extreme finds the next. */
function extreme(pick: 'first' | 'last'): AggregateFunction {
  return {
    rejects: (value) => (isFiniteNumber(value) || typeof value === 'string' ? undefined : 'must be a finite number or a string'),
    add: (state, value) => {
      const values = [...(state.values ?? [])];
      const { index, found } = positionOf(values, value as OrderedValue);
      if (found) values[index] = [values[index]![0], values[index]![1] + 1];
      else values.splice(index, 0, [value as OrderedValue, 1]);
      return { count: state.count + 1, values };
    },
    subtract: (state, value) => {
      const remaining = decremented(state);
      const values = [...(state.values ?? [])];
      const { index, found } = positionOf(values, value as OrderedValue);
      if (!found) outOfSync(`${JSON.stringify(value)} is not among the values`);
      const multiplicity = values[index]![1] - 1;
      if (multiplicity === 0) values.splice(index, 1);
      else values[index] = [values[index]![0], multiplicity];
      return remaining === 0 ? EMPTY_FIELD_STATE : { count: remaining, values };
    },
    result: (state) => {
      const values = state.values ?? [];
      if (values.length === 0) return null;
      return (pick === 'first' ? values[0]! : values[values.length - 1]!)[0];
    },
  };
}

const FUNCTIONS: Readonly<Record<AggregateFunctionName, AggregateFunction>> = {
  sum,
  count,
  min: extreme('first'),
  max: extreme('last'),
  avg,
};

export function aggregateFunction(name: AggregateFunctionName): AggregateFunction {
  return FUNCTIONS[name];
}
