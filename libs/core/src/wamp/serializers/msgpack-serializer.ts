import { addExtension, Packr, Unpackr } from 'msgpackr';
import type { WampMessage } from '../message-codes.js';
import type { WampSerializer } from '../serializer.js';
import { asWampMessage, binaryFrame, mapLeaves, wrapError } from './common.js';

/**
 * `wamp.2.msgpack`: plain MessagePack as every other WAMP implementation reads it: maps (no msgpackr records),
 * `bin` for binary values, integers as integers.
 *
 * The last point needs help: msgpackr writes any number outside the 32-bit range as float64, and WAMP IDs go up
 * to 2^53, so a session ID would reach a Python peer as a float. A BigInt would come out as int64 (0xd3), but
 * the reference implementations and the WAMP test vectors write non-negative values as uint64 (0xcf). So the
 * encoder wraps such whole numbers in `Int64` and a msgpackr extension writes them as plain uint64 / int64.
 */
export class MsgpackSerializer implements WampSerializer {
  readonly name = 'msgpack' as const;
  readonly subprotocol = 'wamp.2.msgpack';
  readonly binary = true;

  private readonly packr = new Packr({
    useRecords: false,
    // Smallest map header for the size (fixmap for <16 keys), as other implementations write; msgpackr's default
    // is a map16 header on every object.
    variableMapSize: true,
    // msgpackr's default for undefined is its own extension 0, which other decoders do not know.
    encodeUndefinedAsNil: true,
    // A BigInt beyond 64 bits (only from application code or a forwarded CBOR bignum) becomes a float, as it
    // would in JSON, rather than failing the whole message.
    largeBigIntToFloat: true,
  });

  private readonly unpackr = new Unpackr({
    useRecords: false,
    mapsAsObjects: true,
    // 64-bit integers as numbers: exact up to 2^53, the WAMP ID range; beyond that they round as they would in
    // JSON. A BigInt would surprise application code and make JSON.stringify throw when forwarded to a JSON peer.
    int64AsType: 'number',
    // `bin` values as copies, not views of the frame: they may outlive it (a transport may reuse its receive
    // buffer) and a small view would otherwise keep the whole frame in memory.
    copyBuffers: true,
  });

  /** @throws SerializationError when msgpackr cannot encode a value (a cycle, for one). */
  encode(message: WampMessage): Buffer {
    try {
      return this.packr.pack(mapLeaves(message, toMsgpackLeaf));
    } catch (error) {
      throw wrapError('Cannot encode WAMP message as msgpack', error);
    }
  }

  decode(frame: Buffer | string): WampMessage {
    const bytes = binaryFrame(frame, 'msgpack');
    let value: unknown;
    try {
      // Throws on truncated data and on trailing bytes after the first value.
      value = this.unpackr.unpack(bytes);
    } catch (error) {
      throw wrapError('msgpack frame is not valid MessagePack', error);
    }
    return asWampMessage(value, 'msgpack');
  }
}

const TWO_POW_32 = 2 ** 32;

/** A whole number outside the 32-bit range that msgpackr would write as float64; see `writeInt64`. */
class Int64 {
  constructor(readonly value: number) {}
}

function toMsgpackLeaf(value: unknown): unknown {
  if (
    typeof value === 'number' &&
    (value >= TWO_POW_32 || value < -(2 ** 31)) &&
    Number.isInteger(value) &&
    value < 2 ** 64 &&
    value >= -(2 ** 63)
  ) {
    return new Int64(value);
  }
  return value;
}

/** What msgpackr passes its extensions' `pack` to reserve bytes in its output (its built-in Date packer uses it). */
type AllocateForWrite = (size: number) => { target: Uint8Array; targetView: DataView; position: number };

/** Writes uint64 (0xcf) for positive values and int64 (0xd3) for negative ones, big-endian as msgpack wants. */
function writeInt64(int64: Int64, allocateForWrite: AllocateForWrite): undefined {
  const { target, targetView, position } = allocateForWrite(9);
  const value = int64.value;
  // Exact in float64: dividing by 2^32 only shifts the exponent, and the remainder is below 2^32.
  const high = Math.floor(value / TWO_POW_32);
  target[position] = value < 0 ? 0xd3 : 0xcf;
  targetView.setUint32(position + 1, high >>> 0); // two's complement for the negative high word
  targetView.setUint32(position + 5, value - high * TWO_POW_32);
  return undefined; // nothing more for msgpackr to write: no extension header, the bytes above are the value
}

/**
 * msgpackr requires an extension type code; it never reaches the wire because `writeInt64` writes a plain
 * integer. Registration is process-wide in msgpackr: a decoder meeting this ext type would get our `unpack`,
 * so pick a code no other extension in the process uses (msgpackr's own are 0, 66, and 98 upward).
 */
const INT64_EXTENSION_TYPE = 0x57;

addExtension({
  Class: Int64,
  type: INT64_EXTENSION_TYPE,
  // msgpackr's typings declare only `pack(value): bytes`; the extra `allocateForWrite` argument and returning
  // nothing (meaning "already written") are what its built-in extensions rely on.
  pack: writeInt64 as unknown as (value: unknown) => Uint8Array,
  unpack() {
    throw new Error(`msgpack extension type ${INT64_EXTENSION_TYPE} is not part of WAMP`);
  },
});
