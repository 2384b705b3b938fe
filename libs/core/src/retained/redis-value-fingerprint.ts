import { createHash } from 'node:crypto';
import type { Payload } from '../router/payload.js';
import { isPlainObject, valueOf } from './retained-value.js';

/**
 * Fingerprints let the Redis store check a `when: {field: x}` condition inside its write script with string
 * comparisons, instead of decoding the stored value in Lua (cjson cannot tell `{}` from `[]`, `0` from `-0`,
 * or bytes from text, and would need its own deep-equality code). The writer stores, beside the entry, one
 * fingerprint per top-level field of an object value; a condition sends the fingerprint of each expected
 * field; the condition holds when they are equal.
 *
 * Two values have the same fingerprint exactly when `isDeepStrictEqual` (what `conditionHolds` uses) says they
 * are equal, for every value a payload can hold: JSON values, byte arrays (a Buffer is not equal to a plain
 * Uint8Array), dates, maps and sets with primitive keys, and plain or null-prototype objects (key order does
 * not matter). Functions, symbols and cyclic structures never equal anything. A canonical form longer than
 * 64 characters is replaced by its SHA-256, so the memory cost per field is bounded.
 */
export function fingerprint(value: unknown): string {
  const canonical = canonicalForm(value, 0);
  return canonical.length <= 64 ? canonical : `#${createHash('sha256').update(canonical).digest('base64')}`;
}

/** What the store keeps beside an entry: whether its value is a plain object, and the fingerprint of each field. */
export interface ValueFingerprints {
  readonly object: boolean;
  /** field, fingerprint, field, fingerprint, ... */
  readonly fields: string[];
}

export function valueFingerprints(payload: Payload): ValueFingerprints {
  const value = valueOf(payload);
  if (!isPlainObject(value)) return { object: false, fields: [] };
  const fields: string[] = [];
  for (const [field, item] of Object.entries(value)) fields.push(field, fingerprint(item));
  return { object: true, fields };
}

/** Deeper than this, a value is treated as cyclic (and equals nothing). */
const MAX_DEPTH = 256;

let uniqueCount = 0;

/** A form that equals nothing else, for what has no canonical form. */
function unique(): string {
  return `X${++uniqueCount}`;
}

/**
 * A string per value, self-delimiting (so the forms of list items and object fields can be concatenated),
 * with a leading tag for the type: `n` null, `u` undefined, `t`/`f` booleans, `d` numbers (`-0` kept apart),
 * `i` bigints, `"` strings (as JSON), `B` Buffers, `V` other byte views, `D` dates, `[` lists, `{` objects.
 */
function canonicalForm(value: unknown, depth: number): string {
  if (value === null) return 'n';
  switch (typeof value) {
    case 'undefined':
      return 'u';
    case 'boolean':
      return value ? 't' : 'f';
    case 'number':
      return Object.is(value, -0) ? 'd-0;' : `d${value};`;
    case 'bigint':
      return `i${value};`;
    case 'string':
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      return unique();
  }
  if (depth > MAX_DEPTH) return unique();
  if (Buffer.isBuffer(value)) return `B${value.toString('base64')};`;
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return `V${value.constructor.name}:${bytes.toString('base64')};`;
  }
  if (Array.isArray(value)) {
    let form = '[';
    for (let i = 0; i < value.length; i++) form += (i in value ? canonicalForm(value[i], depth + 1) : 'h') + ',';
    return `${form}]`;
  }
  if (value instanceof Date) return `D${value.getTime()};`;
  if (value instanceof Map) {
    const items = [...value].map(([key, item]) => `${canonicalForm(key, depth + 1)}=${canonicalForm(item, depth + 1)}`);
    return `M{${items.sort().join(',')}}`;
  }
  if (value instanceof Set) {
    const items = [...value].map((item) => canonicalForm(item, depth + 1));
    return `S{${items.sort().join(',')}}`;
  }
  const prototype = Object.getPrototypeOf(value) as object | null;
  const tag = prototype === Object.prototype ? '' : prototype === null ? 'N' : `O${JSON.stringify(prototype.constructor?.name ?? '')}`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let form = `${tag}{`;
  for (const key of keys) form += `${JSON.stringify(key)}:${canonicalForm(record[key], depth + 1)},`;
  return `${form}}`;
}
