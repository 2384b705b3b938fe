import type { WampMessage } from '../message-codes.js';
import { SerializationError } from '../serializer.js';

/**
 * Checks the one thing every decoder guarantees: a non-empty array whose first element is a non-negative
 * integer (the message code). Everything else is validated by the session, which knows the message layouts.
 */
export function asWampMessage(value: unknown, format: string): WampMessage {
  if (!Array.isArray(value)) {
    throw new SerializationError(`${format} frame does not hold a WAMP message: expected an array, got ${typeName(value)}`);
  }
  if (value.length === 0) {
    throw new SerializationError(`${format} frame holds an empty array, not a WAMP message`);
  }
  const code: unknown = value[0];
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 0) {
    throw new SerializationError(
      `${format} frame does not start with a message code: expected a non-negative integer, got ${typeName(code)}`,
    );
  }
  return value as WampMessage;
}

/** Wraps a library's parse/encode failure, keeping its text (it usually names the offending byte) and cause. */
export function wrapError(what: string, error: unknown): SerializationError {
  const detail = error instanceof Error ? error.message : String(error);
  return new SerializationError(`${what}: ${detail}`, { cause: error });
}

/** A zero-copy Buffer view of any byte array, so callers always see the Node type. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Binary serializers only take bytes; a text frame on a binary subprotocol is a peer error, not a crash. */
export function binaryFrame(frame: unknown, format: string): Buffer {
  if (frame instanceof Uint8Array) return asBuffer(frame);
  throw new SerializationError(`${format} expects a binary frame, got ${typeName(frame)}`);
}

/**
 * Rebuilds `value` with `leaf` applied to every value that is not a string, an array or a plain object (no
 * serializer needs to change strings, and skipping them saves a call on most values), copying only the
 * containers on the path to a change: messages are shared (one EVENT goes to many sessions, each possibly with
 * another serializer), so encoders must never modify them. Returns `value` itself when nothing changed, which
 * is the common case and costs one walk without allocation.
 *
 * `undefined` gets JSON's treatment in every format (dropped from objects, `null` in arrays) so that a field
 * left unset by router code looks the same to JSON, msgpack and CBOR peers.
 */
export function mapLeaves(value: unknown, leaf: (value: unknown) => unknown): unknown {
  if (typeof value !== 'object' || value === null) return leaf(value);
  if (Array.isArray(value)) return mapArray(value, leaf);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return mapObject(value as Record<string, unknown>, leaf);
  return leaf(value);
}

function mapArray(array: unknown[], leaf: (value: unknown) => unknown): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (typeof item === 'string') continue; // most of a payload, and no leaf changes strings
    let mapped = mapLeaves(item, leaf);
    if (mapped === undefined) mapped = null;
    if (mapped !== item) {
      copy ??= array.slice();
      copy[i] = mapped;
    }
  }
  return copy ?? array;
}

function mapObject(object: Record<string, unknown>, leaf: (value: unknown) => unknown): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  // for…in rather than Object.keys: no key array per object on every encode. The objects here are plain (or
  // null-prototype), whose only enumerable keys are their own.
  for (const key in object) {
    const item = object[key];
    if (typeof item === 'string') continue;
    const mapped = mapLeaves(item, leaf);
    if (mapped === item && mapped !== undefined) continue;
    copy ??= { ...object };
    if (mapped === undefined) delete copy[key];
    // Defined, not assigned: a decoded "__proto__" key is an own property and assignment would hit the setter.
    else Object.defineProperty(copy, key, { value: mapped, writable: true, enumerable: true, configurable: true });
  }
  return copy ?? object;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? `integer ${value}` : `number ${value}`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value;
}
