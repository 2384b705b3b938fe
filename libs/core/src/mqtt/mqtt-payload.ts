import { hasKwargs, type MessageProperties, type Payload } from '../router/payload.js';

/**
 * An MQTT message's payload as the router carries it: the bytes as they came, and WAMP's view of them made
 * only when someone asks (a WAMP subscriber, a filter, a `when`): bytes that parse as JSON become
 * `args: [value]`, anything else `args: [bytes]` (never an exception), and no bytes at all mean no args
 * (a retained empty message deletes its key).
 */
export class MqttPayload implements Payload {
  private parsed: unknown[] | undefined;
  private isParsed = false;

  constructor(
    readonly raw: Buffer,
    readonly properties?: MessageProperties,
  ) {}

  get args(): unknown[] | undefined {
    if (!this.isParsed) {
      this.parsed = this.raw.length === 0 ? undefined : [parseJsonOrBytes(this.raw)];
      this.isParsed = true;
    }
    return this.parsed;
  }

  get kwargs(): undefined {
    return undefined;
  }
}

function parseJsonOrBytes(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return bytes;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * The bytes an MQTT subscriber receives for a payload: the original bytes of an MQTT message; for WAMP
 * publications `args: [x]` without kwargs is `JSON(x)` (bytes stay bytes), anything else
 * `JSON({args, kwargs})` (both always present), and an empty payload is empty. Never throws: a value JSON cannot hold (a BigInt,
 * a cycle) is sent as its string form.
 */
export function mqttBytesOf(payload: Payload): Buffer {
  if (payload.raw !== undefined) return payload.raw;
  const withKwargs = hasKwargs(payload);
  const args = payload.args ?? [];
  if (!withKwargs) {
    if (args.length === 0) return EMPTY;
    if (args.length === 1) {
      const only = args[0];
      if (Buffer.isBuffer(only)) return only;
      if (only instanceof Uint8Array) return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
      return jsonBytes(only);
    }
  }
  return jsonBytes({ args, kwargs: withKwargs ? payload.kwargs : {} });
}

function jsonBytes(value: unknown): Buffer {
  try {
    return Buffer.from(JSON.stringify(value, bytesAsBase64) ?? 'null', 'utf8');
  } catch {
    return Buffer.from(String(value), 'utf8');
  }
}

/** Bytes nested inside a JSON document travel as base64 text (the top-level bytes case is handled above). */
function bytesAsBase64(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('base64');
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}
