import type { WampMessage } from './message-codes.js';

/** Names of the serializers we ship; the WebSocket subprotocol is `wamp.2.<name>`. */
export type SerializerName = 'json' | 'msgpack' | 'cbor';

/**
 * Turns WAMP messages into frames and back. Binary application values (Uint8Array / Buffer) survive every
 * serializer: msgpack `bin`, CBOR byte strings, and in JSON the spec's "\0" + base64 string.
 */
export interface WampSerializer {
  readonly name: SerializerName;
  /** `wamp.2.json`, `wamp.2.msgpack`, `wamp.2.cbor`. */
  readonly subprotocol: string;
  /** Whether frames are binary (WebSocket binary frames) or text. */
  readonly binary: boolean;
  /** Encodes one message. JSON returns a string (sent as a text frame), binary serializers a Buffer. */
  encode(message: WampMessage): string | Buffer;
  /**
   * Decodes one frame. Throws `SerializationError` when the bytes are not a valid encoding or do not decode
   * to an array whose first element is an integer; any other validation is the session's job.
   */
  decode(frame: Buffer | string): WampMessage;
}

export class SerializationError extends Error {
  override readonly name = 'SerializationError';
}
