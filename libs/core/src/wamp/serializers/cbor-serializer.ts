import { Decoder, Encoder, type Options } from 'cbor-x';
import type { WampMessage } from '../message-codes.js';
import type { WampSerializer } from '../serializer.js';
import { asBuffer, asWampMessage, binaryFrame, mapLeaves, wrapError } from './common.js';

/**
 * `wamp.2.cbor`: plain CBOR (RFC 8949) as other WAMP implementations read it: maps (no cbor-x record tags),
 * untagged byte strings for binary values, integers as major types 0/1.
 *
 * cbor-x writes numbers outside the 32-bit range as float64; WAMP IDs go up to 2^53, so the encoder turns such
 * whole numbers into BigInt, which cbor-x writes as a 64-bit integer (0x1b / 0x3b).
 */
export class CborSerializer implements WampSerializer {
  readonly name = 'cbor' as const;
  readonly subprotocol = 'wamp.2.cbor';
  readonly binary = true;

  private readonly encoder = new Encoder({
    useRecords: false,
    // Smallest map header for the size, as other implementations write; cbor-x's default is a 2-byte length on
    // every map.
    variableMapSize: true,
    // In Node cbor-x tags a Uint8Array that is not a Buffer with tag 64; peers expect a bare byte string.
    tagUint8Array: false,
  });

  private readonly decoder = new Decoder(decoderOptions());

  /** @throws SerializationError when cbor-x cannot encode a value (a cycle, for one). */
  encode(message: WampMessage): Buffer {
    try {
      return this.encoder.encode(mapLeaves(message, toCborLeaf));
    } catch (error) {
      throw wrapError('Cannot encode WAMP message as CBOR', error);
    }
  }

  decode(frame: Buffer | string): WampMessage {
    const bytes = binaryFrame(frame, 'cbor');
    let value: unknown;
    try {
      // Throws on truncated data and on trailing bytes after the first item.
      value = this.decoder.decode(bytes);
    } catch (error) {
      throw wrapError('cbor frame is not valid CBOR', error);
    }
    // Byte strings come out as Buffers, but a byte string tagged 64 (what cbor-x in Node writes for a plain
    // Uint8Array) comes out as a Uint8Array. Only frames holding the tag's header bytes need the walk.
    if (bytes.includes(TAG_64_HEADER)) value = mapLeaves(value, uint8ArrayToBuffer);
    return asWampMessage(value, 'cbor');
  }
}

/** CBOR tag 64 ("uint8 typed array"): major type 6 with a one-byte argument. */
const TAG_64_HEADER = Buffer.from([0xd8, 0x40]);

function decoderOptions(): Options {
  // `int64AsNumber` is a cbor-x option its typings leave out. 64-bit integers as numbers: exact up to 2^53, the
  // WAMP ID range; beyond that they round as in JSON. A BigInt would surprise application code and make
  // JSON.stringify throw when forwarded to a JSON peer.
  const options: Options & { int64AsNumber: boolean } = {
    useRecords: false,
    mapsAsObjects: true,
    int64AsNumber: true,
    // Byte strings as copies, not views of the frame: they may outlive it (a transport may reuse its receive
    // buffer) and a small view would otherwise keep the whole frame in memory.
    copyBuffers: true,
  };
  return options;
}

function toCborLeaf(value: unknown): unknown {
  if (
    typeof value === 'number' &&
    (value > 0xffff_ffff || value < -0x1_0000_0000) &&
    Number.isInteger(value) &&
    value < 2 ** 64 &&
    value > -(2 ** 64)
  ) {
    return BigInt(value);
  }
  return value;
}

function uint8ArrayToBuffer(value: unknown): unknown {
  return value instanceof Uint8Array ? asBuffer(value) : value;
}
