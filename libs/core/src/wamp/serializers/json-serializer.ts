import type { WampMessage } from '../message-codes.js';
import { SerializationError, type WampSerializer } from '../serializer.js';
import { asBuffer, asWampMessage, mapLeaves, wrapError } from './common.js';

/**
 * `wamp.2.json`. Binary values travel as the spec's string "\u0000" + base64 (WAMP spec, "JSON" serialization).
 *
 * Encoding walks the message once and only rebuilds the containers that hold binary values, then calls
 * JSON.stringify without a replacer (a replacer costs a call per value inside the native stringifier, and
 * would see Buffer's own toJSON output `{type:'Buffer',data:[…]}` instead of the bytes).
 */
export class JsonSerializer implements WampSerializer {
  readonly name = 'json' as const;
  readonly subprotocol = 'wamp.2.json';
  readonly binary = false;

  /** @throws SerializationError when the message holds something JSON cannot carry (a cycle, for one). */
  encode(message: WampMessage): string {
    try {
      return JSON.stringify(mapLeaves(message, toJsonLeaf));
    } catch (error) {
      throw wrapError('Cannot encode WAMP message as JSON', error);
    }
  }

  decode(frame: Buffer | string): WampMessage {
    let text: string;
    if (typeof frame === 'string') text = frame;
    else if (frame instanceof Uint8Array) text = asBuffer(frame).toString('utf8');
    else throw new SerializationError('json expects a text or byte frame');

    let value: unknown;
    try {
      // An encoded binary value always appears in the text as the escape \u0000 (JSON forbids a raw NUL in a
      // string), so frames without it, nearly all of them, skip the reviver and its call per value.
      value = text.includes('\\u0000') ? JSON.parse(text, reviveBinary) : JSON.parse(text);
    } catch (error) {
      throw wrapError('json frame is not valid JSON', error);
    }
    return asWampMessage(value, 'json');
  }
}

function toJsonLeaf(value: unknown): unknown {
  if (value instanceof Uint8Array) return '\u0000' + asBuffer(value).toString('base64');
  // Our decoders return 64-bit integers as numbers, but a CBOR bignum (tag 2/3) decodes to a BigInt, which
  // JSON.stringify rejects; JSON has one number type, so it goes as that (precise up to 2^53, like any JSON peer).
  if (typeof value === 'bigint') return Number(value);
  return value;
}

function reviveBinary(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.charCodeAt(0) === 0) return Buffer.from(value.slice(1), 'base64');
  return value;
}
