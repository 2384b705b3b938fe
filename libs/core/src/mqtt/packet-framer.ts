import { MqttProtocolError, Reason } from './reason-codes.js';

/**
 * Cuts the byte stream of one connection into whole MQTT packets (fixed header: a type byte and a Variable Byte
 * Integer remaining length, MQTT 2.1). A packet announcing more than `maxPacketSize` is refused from its
 * header, before its body is buffered. Chunks that hold whole packets are not copied: packets are views of them.
 */
export class PacketFramer {
  private held: Buffer | undefined;

  constructor(private readonly maxPacketSize: number) {}

  /** Calls `onPacket` for each whole packet in `chunk` (and what was held before); keeps the rest. */
  push(chunk: Buffer, onPacket: (packet: Buffer) => boolean | void): void {
    const buffer = this.held === undefined ? chunk : Buffer.concat([this.held, chunk]);
    this.held = undefined;
    let offset = 0;
    while (buffer.length - offset >= 2) {
      let remaining = 0;
      let multiplier = 1;
      let at = offset + 1;
      let complete = false;
      for (let i = 0; i < 4 && at < buffer.length; i++) {
        const byte = buffer[at++]!;
        remaining += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
        if (i === 3) throw new MqttProtocolError(Reason.malformedPacket, 'the remaining length takes more than four bytes');
      }
      if (!complete) break;
      if (remaining > this.maxPacketSize) {
        throw new MqttProtocolError(Reason.packetTooLarge, `a packet of ${remaining} bytes is over the limit of ${this.maxPacketSize}`);
      }
      const end = at + remaining;
      if (end > buffer.length) break;
      const stop = onPacket(buffer.subarray(offset, end));
      offset = end;
      if (stop === false) return;
    }
    if (offset < buffer.length) {
      // Copied, so a small tail does not pin a large chunk.
      this.held = Buffer.from(buffer.subarray(offset));
    }
  }

  /** Whether nothing of a packet is held (the next chunk starts a packet). */
  get atPacketStart(): boolean {
    return this.held === undefined;
  }
}
