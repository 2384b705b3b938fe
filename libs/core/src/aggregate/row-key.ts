import { ErrorUri, RouterError } from '../router/errors.js';

/** A row as the engine stores and publishes it: a plain JSON object. */
export type Row = Readonly<Record<string, unknown>>;

/** One primary-key value as a row holds it. */
export type KeyValue = string | number | boolean;

/**
 * A row's primary key as topic levels, in `primary_key` order: the row lives at `<table>.<level1>.<level2>…`
 * (MQTT: `<table>/<level1>/…`). The string form is the key's identity, so `{id: 5}` and `{id: '5'}` are the
 * same row, as they are the same topic.
 */
export type KeyLevels = readonly string[];

// Characters that separate or match topic levels in WAMP (`.`, `#`, `*`) or MQTT (`/`, `+`, `#`), whitespace
// (not allowed in a WAMP URI) and NUL (not allowed in an MQTT topic).
const NOT_IN_A_LEVEL = /[\s.#+/*\u0000]/;

/** Why `level` cannot be one topic level in both protocols; undefined when it can. */
export function topicLevelProblem(level: string): string | undefined {
  if (level.length === 0) return 'is empty';
  if (NOT_IN_A_LEVEL.test(level)) return 'contains whitespace or one of . # + / * (they separate or match topic levels)';
  return undefined;
}

/**
 * The topic level of one key value: a string that is a valid level, a safe integer (no `.` in its string
 * form) or a boolean. Throws an invalid argument naming `what` otherwise.
 */
export function keyLevelOf(value: unknown, what: string): string {
  if (typeof value === 'string') {
    const problem = topicLevelProblem(value);
    if (problem !== undefined) throw new RouterError(ErrorUri.invalidArgument, `${what} ${problem}: ${JSON.stringify(value)}`);
    return value;
  }
  if (typeof value === 'boolean' || Number.isSafeInteger(value)) return String(value);
  const shown = value === undefined ? 'missing' : `not a key value: ${JSON.stringify(value)}`;
  throw new RouterError(
    ErrorUri.invalidArgument,
    `${what} is ${shown} (a primary-key value is a non-empty string, an integer or a boolean)`,
  );
}

/** The key levels of `row` under `primaryKey`; an invalid argument naming the field when one is unusable. */
export function keyLevelsOf(table: string, primaryKey: readonly string[], row: Row): KeyLevels {
  return primaryKey.map((field) => keyLevelOf(row[field], `${table}.${field}`));
}

/** A map key for a row key: levels never contain `.`, so joining them is unambiguous. */
export function keyId(levels: KeyLevels): string {
  return levels.join('.');
}
