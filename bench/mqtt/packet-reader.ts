/**
 * A lean MQTT framer for the load generator: it only splits the byte stream into packets (fixed header and
 * Remaining Length) and hands each one over as a slice of the chunk it arrived in, without decoding fields
 * or allocating per packet. Receivers read the few bytes they need (packet type, packet identifier, the
 * timestamp in a PUBLISH payload) themselves, so a generator can take in far more packets per second than
 * the broker sends.
 */
export type PacketHandler = (type: number, flags: number, buffer: Buffer, bodyStart: number, bodyEnd: number) => void;

export class PacketReader {
  /** The start of a packet that did not arrive whole yet. */
  private rest: Buffer | undefined;

  constructor(private readonly onPacket: PacketHandler) {}

  push(chunk: Buffer): void {
    let buffer = chunk;
    if (this.rest !== undefined) {
      buffer = Buffer.concat([this.rest, chunk]);
      this.rest = undefined;
    }
    let offset = 0;
    const end = buffer.length;
    while (offset < end) {
      // Remaining Length: 1 to 4 bytes, 7 bits each (MQTT 2.2.3).
      let length = 0;
      let multiplier = 1;
      let cursor = offset + 1;
      let complete = false;
      while (cursor < end && cursor <= offset + 4) {
        const byte = buffer[cursor++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || cursor + length > end) break;
      const header = buffer[offset]!;
      this.onPacket(header >> 4, header & 0x0f, buffer, cursor, cursor + length);
      offset = cursor + length;
    }
    if (offset < end) this.rest = buffer.subarray(offset);
  }
}

/** MQTT control packet types (MQTT 2.2.1). */
export const PacketType = {
  connack: 2,
  publish: 3,
  puback: 4,
  suback: 9,
  pingresp: 13,
  disconnect: 14,
} as const;

/** Where the payload of a PUBLISH body starts (MQTT 3.1.1: topic, then the packet identifier when QoS > 0). */
export function publishPayloadStart(flags: number, buffer: Buffer, bodyStart: number): number {
  const topicLength = buffer.readUInt16BE(bodyStart);
  return bodyStart + 2 + topicLength + ((flags & 0x06) === 0 ? 0 : 2);
}

/** The packet identifier of a QoS 1/2 PUBLISH. */
export function publishPacketId(buffer: Buffer, bodyStart: number): number {
  return buffer.readUInt16BE(bodyStart + 2 + buffer.readUInt16BE(bodyStart));
}
