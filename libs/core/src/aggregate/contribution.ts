import { ErrorUri, RouterError } from '../router/errors.js';
import { aggregateFunction } from './aggregate-functions.js';
import { keyLevelOf, type KeyLevels, type KeyValue, type Row } from './row-key.js';
import { ROW_COUNT, type PropagateRule } from './table-definitions.js';

/** What one source row adds to one aggregate row through one propagate rule. */
export interface Contribution {
  /** The aggregate row it goes to. */
  readonly key: KeyLevels;
  /** The target's primary-key fields with the source's values, to create the aggregate row with. */
  readonly keyValues: Readonly<Record<string, KeyValue>>;
  /** Per target aggregate field fed by the rule and given a value (a missing or null source value gives none). */
  readonly values: readonly (readonly [field: string, value: unknown])[];
}

/**
 * The contribution of `row` through `rule`, or undefined when the rule's filter leaves the row out. Throws
 * an invalid argument when a key value cannot be a topic level or a value does not suit the target field's
 * function (a string into a `sum`): the engine checks every contribution before it writes anything.
 */
export function contributionOf(rule: PropagateRule, row: Row): Contribution | undefined {
  if (rule.filter !== undefined && !rule.filter(row)) return undefined;
  const keyValues: Record<string, KeyValue> = {};
  const key = rule.key.map(({ target, source }) => {
    const level = keyLevelOf(row[source], `${rule.source}.${source} (the key ${rule.target}.${target} of ${rule.path})`);
    keyValues[target] = row[source] as KeyValue;
    return level;
  });
  const values = rule.fields.flatMap(({ target, source, fn }) => {
    const value = source === ROW_COUNT ? true : row[source];
    if (value === undefined || value === null) return [];
    const problem = aggregateFunction(fn).rejects(value);
    if (problem !== undefined) {
      throw new RouterError(
        ErrorUri.invalidArgument,
        `${rule.source}.${source} ${problem} to be the ${fn} ${rule.target}.${target} (${rule.path}); got ${JSON.stringify(value)}`,
      );
    }
    return [[target, value] as const];
  });
  return { key, keyValues, values };
}
