import type { SerializerName } from '../../wamp/serializer.js';

/**
 * The RawSocket opening handshake (WAMP spec, "RawSocket Transport"): four octets each way.
 *
 *     request / success reply:  0x7F  LLLL SSSS  0x00 0x00
 *     error reply:              0x7F  EEEE 0000  0x00 0x00
 *
 * `LLLL` says the largest message the sender is willing to receive, 2^(9 + LLLL) octets (512 B .. 16 MiB);
 * `SSSS` is the serializer; `EEEE` an error code. No valid HTTP request starts with 0x7F, which is what lets
 * RawSocket share a port with HTTP.
 */
export const RAWSOCKET_MAGIC = 0x7f;
export const HANDSHAKE_LENGTH = 4;

/** Smallest and largest maximum message length a handshake can express. */
export const MIN_RAWSOCKET_MESSAGE = 2 ** 9;
export const MAX_RAWSOCKET_MESSAGE = 2 ** 24;

/** The spec's serializer codes for the serializers we ship (4 UBJSON and 5 FlatBuffers are not among them). */
const SERIALIZER_CODES: Readonly<Record<SerializerName, number>> = { json: 1, msgpack: 2, cbor: 3 };
const SERIALIZER_BY_CODE = new Map<number, SerializerName>(
  Object.entries(SERIALIZER_CODES).map(([name, code]) => [code, name as SerializerName]),
);

/** Error codes of a handshake error reply. */
export const HandshakeError = {
  serializerUnsupported: 1,
  maxLengthUnacceptable: 2,
  reservedBitsUsed: 3,
  maxConnectionsReached: 4,
} as const;
export type HandshakeErrorCode = (typeof HandshakeError)[keyof typeof HandshakeError];

export type HandshakeRequest =
  | { readonly ok: true; readonly serializer: SerializerName; readonly serializerCode: number; readonly peerMaxMessage: number }
  /** `notRawSocket`: the first octet is not 0x7F, so this is no RawSocket client at all (no reply is due). */
  | { readonly ok: false; readonly notRawSocket: true }
  | { readonly ok: false; readonly notRawSocket: false; readonly error: HandshakeErrorCode; readonly reason: string };

/** Reads a client's four handshake octets. */
export function parseHandshakeRequest(octets: Buffer): HandshakeRequest {
  if (octets[0] !== RAWSOCKET_MAGIC) return { ok: false, notRawSocket: true };
  if (octets[2] !== 0 || octets[3] !== 0) {
    return { ok: false, notRawSocket: false, error: HandshakeError.reservedBitsUsed, reason: 'reserved handshake octets are not zero' };
  }
  const serializerCode = octets[1]! & 0x0f;
  const serializer = SERIALIZER_BY_CODE.get(serializerCode);
  if (serializer === undefined) {
    return {
      ok: false,
      notRawSocket: false,
      error: HandshakeError.serializerUnsupported,
      reason: `serializer ${serializerCode} is not supported (1 JSON, 2 MessagePack and 3 CBOR are)`,
    };
  }
  return { ok: true, serializer, serializerCode, peerMaxMessage: 2 ** ((octets[1]! >> 4) + 9) };
}

/** The success reply: the client's serializer echoed, and the largest message we accept. */
export function handshakeReply(serializerCode: number, lengthExponent: number): Buffer {
  return Buffer.from([RAWSOCKET_MAGIC, (lengthExponent << 4) | serializerCode, 0, 0]);
}

export function handshakeErrorReply(error: HandshakeErrorCode): Buffer {
  return Buffer.from([RAWSOCKET_MAGIC, error << 4, 0, 0]);
}

/**
 * The `LLLL` we announce for a message size limit: the largest power of two that does not exceed it (the
 * handshake can only say powers of two), capped at the protocol's 16 MiB.
 * @throws RangeError for a limit below 512 bytes, which the handshake cannot express.
 */
export function lengthExponentFor(maxMessageSize: number): number {
  if (!(maxMessageSize >= MIN_RAWSOCKET_MESSAGE)) {
    throw new RangeError(`a RawSocket maximum message size must be at least ${MIN_RAWSOCKET_MESSAGE} bytes; got ${maxMessageSize}`);
  }
  const exponent = Math.floor(Math.log2(Math.min(maxMessageSize, MAX_RAWSOCKET_MESSAGE)));
  return exponent - 9;
}

/** The message size an `LLLL` value stands for. */
export function maxMessageForExponent(lengthExponent: number): number {
  return 2 ** (lengthExponent + 9);
}
