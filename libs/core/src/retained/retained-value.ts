import { isDeepStrictEqual } from 'node:util';
import siftModule from 'sift';
import { ErrorUri, RouterError } from '../router/errors.js';
import { hasKwargs, type Payload } from '../router/payload.js';

/**
 * The value `when` and `filter` look at: kwargs when present and non-empty, else `args[0]` when there is
 * exactly one arg, else the args list (DESIGN.md, "Retained state"). Undefined for an empty payload.
 */
export function valueOf(payload: Payload): unknown {
  if (hasKwargs(payload)) return payload.kwargs;
  const args = payload.args;
  if (args === undefined || args.length === 0) return undefined;
  return args.length === 1 ? args[0] : args;
}

/** A retained publish with neither args nor kwargs (MQTT: an empty payload) deletes its key. */
export function isDeletion(payload: Payload): boolean {
  return !hasKwargs(payload) && (payload.args === undefined || payload.args.length === 0);
}

/**
 * A `when` condition: `absent` = apply only if the key has no entry (`when: null`); `contains` = apply only if
 * the stored value is an object holding these fields with equal values (`when: {...}`).
 */
export type WhenCondition = { readonly kind: 'absent' } | { readonly kind: 'contains'; readonly fields: Readonly<Record<string, unknown>> };

/** Reads a client's `when` option; anything but null or a plain object is an invalid argument. */
export function parseWhen(when: unknown): WhenCondition {
  if (when === null) return { kind: 'absent' };
  if (isPlainObject(when)) return { kind: 'contains', fields: when };
  throw new RouterError(ErrorUri.invalidArgument, `when must be null (key absent) or an object of fields; got ${JSON.stringify(when)}`);
}

/** Whether `condition` holds for the currently stored payload (undefined = no entry). Never throws. */
export function conditionHolds(condition: WhenCondition, current: Payload | undefined): boolean {
  if (condition.kind === 'absent') return current === undefined;
  if (current === undefined) return false;
  const value = valueOf(current);
  // An object condition against a scalar, a list or nothing simply does not hold.
  if (!isPlainObject(value)) return false;
  for (const [field, expected] of Object.entries(condition.fields)) {
    if (!(field in value) || !isDeepStrictEqual(value[field], expected)) return false;
  }
  return true;
}

// sift is CommonJS with a `default` property; under `nodenext` TypeScript types the default import as the
// module object, so the query function is its `default`.
const sift = siftModule.default as (query: Record<string, unknown>) => (value: unknown) => boolean;

/** A compiled subscription filter: true when an event's value passes. Never throws. */
export type ValueFilter = (value: unknown) => boolean;

/**
 * Compiles a subscription `filter`: MongoDB-style queries through `sift`, which covers fox-wamp's
 * subset-equality (`{type: 'post'}` matches any object whose `type` is `'post'`) and adds operators
 * (`$gt`, `$in`, `$exists`, `$regex`, ...). A value of another shape does not match: a filter on fields
 * never matches a scalar, while a filter of operators only (`{$gt: 5}`) tests the value itself. An unknown operator
 * or a filter that is not an object is an invalid argument.
 */
export function compileFilter(filter: unknown): ValueFilter {
  if (!isPlainObject(filter)) {
    throw new RouterError(ErrorUri.invalidArgument, `filter must be an object; got ${JSON.stringify(filter)}`);
  }
  let test: (value: unknown) => boolean;
  try {
    test = sift(filter);
  } catch (error) {
    throw new RouterError(ErrorUri.invalidArgument, `invalid filter: ${(error as Error).message}`);
  }
  // A filter on fields needs an object; one made only of operators (`{$gt: 5}`) also tests scalars.
  const onFields = Object.keys(filter).some((key) => !key.startsWith('$'));
  return (value) => {
    if (onFields && !isPlainObject(value)) return false;
    try {
      return test(value);
    } catch {
      return false;
    }
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) && !(value instanceof Uint8Array);
}
