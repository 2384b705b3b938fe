/**
 * RawSocket framing (WAMP spec, "RawSocket Transport", Framing): every message is prefixed with four octets
 *
 *     RRRR XTTT  LLLLLLLL LLLLLLLL LLLLLLLL
 *
 * `TTT` is the frame type, the 24 `L` bits the payload length, and `X` a 25th length bit that is set only for
 * a payload of exactly 16 MiB (with the `L` bits zero). `RRRR` is reserved and must be zero.
 */
export const FRAME_HEADER_LENGTH = 4;

export const FrameType = {
  /** A serialized WAMP message. */
  message: 0,
  /** Must be answered at once with one PONG echoing the payload. */
  ping: 1,
  pong: 2,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const SIXTEEN_MIB = 2 ** 24;

/** The peer broke the framing rules; the spec's answer is to fail the connection. */
export class RawSocketProtocolError extends Error {
  override readonly name = 'RawSocketProtocolError';
}

/** Writes the four-octet prefix of a frame with `length` payload octets (at most 16 MiB) at `target[0..3]`. */
export function writeFrameHeader(target: Buffer, type: FrameType, length: number): void {
  if (length === SIXTEEN_MIB) {
    target[0] = 0x08 | type;
    target.writeUIntBE(0, 1, 3);
  } else {
    target[0] = type;
    target.writeUIntBE(length, 1, 3);
  }
}

/** Where decoded frames go. */
export interface FrameSink {
  frame(type: FrameType, payload: Buffer): void;
}

/**
 * Cuts a TCP byte stream into frames, whatever the chunking: a frame split over many chunks (down to one byte
 * each), or many frames in one chunk. A frame that lies within one chunk is handed on as a view of it; a split
 * one is copied into a buffer of exactly its length. A frame longer than `maxPayload` is refused as soon as its
 * header arrives, so a peer cannot make the decoder hold more than one frame of at most that size.
 */
export class RawSocketFrameDecoder {
  /** A header split across chunks, as far as it has arrived. */
  private readonly header = Buffer.alloc(FRAME_HEADER_LENGTH);
  private headerFill = 0;
  /** The frame whose payload is split across chunks: its type, its buffer and how much of it has arrived. */
  private split: { readonly type: FrameType; readonly payload: Buffer; filled: number } | undefined;
  private stopped = false;

  constructor(
    private readonly maxPayload: number,
    private readonly sink: FrameSink,
  ) {}

  /**
   * Feeds one chunk and hands every frame it completes to the sink, in order.
   * @throws RawSocketProtocolError for reserved bits, an unknown frame type, or a frame over the limit; the
   *   decoder then ignores further input.
   */
  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.stopped) {
      const split = this.split;
      if (split !== undefined) {
        const copied = chunk.copy(split.payload, split.filled, offset);
        split.filled += copied;
        offset += copied;
        if (split.filled < split.payload.length) return;
        this.split = undefined;
        this.sink.frame(split.type, split.payload);
        continue;
      }
      let type: FrameType;
      let length: number;
      if (this.headerFill === 0 && chunk.length - offset >= FRAME_HEADER_LENGTH) {
        ({ type, length } = this.parseHeader(chunk, offset));
        offset += FRAME_HEADER_LENGTH;
      } else {
        const copied = chunk.copy(this.header, this.headerFill, offset, offset + FRAME_HEADER_LENGTH - this.headerFill);
        this.headerFill += copied;
        offset += copied;
        if (this.headerFill < FRAME_HEADER_LENGTH) return;
        this.headerFill = 0;
        ({ type, length } = this.parseHeader(this.header, 0));
      }
      if (chunk.length - offset >= length) {
        const payload = chunk.subarray(offset, offset + length);
        offset += length;
        this.sink.frame(type, payload);
      } else {
        this.split = { type, payload: Buffer.allocUnsafe(length), filled: 0 };
      }
    }
  }

  /** Drops what is buffered and ignores further input (the connection is closing). */
  stop(): void {
    this.stopped = true;
    this.split = undefined;
  }

  private parseHeader(bytes: Buffer, at: number): { type: FrameType; length: number } {
    const first = bytes[at]!;
    if ((first & 0xf0) !== 0) this.fail(`reserved bits set in a frame header (0x${first.toString(16).padStart(2, '0')})`);
    const type = first & 0x07;
    if (type !== FrameType.message && type !== FrameType.ping && type !== FrameType.pong) this.fail(`unknown frame type ${type}`);
    let length = bytes.readUIntBE(at + 1, 3);
    if ((first & 0x08) !== 0) {
      if (length !== 0) this.fail('a frame length over 16 MiB');
      length = SIXTEEN_MIB;
    }
    if (length > this.maxPayload) this.fail(`a ${length}-byte frame exceeds the negotiated maximum of ${this.maxPayload} bytes`);
    return { type: type as FrameType, length };
  }

  private fail(reason: string): never {
    this.stop();
    throw new RawSocketProtocolError(reason);
  }
}
