/**
 * Sizes of messages as they travel, for the byte counters: what a WebSocket frame carries (its payload; the
 * frame header is not counted), a RawSocket frame (the transport adds its 4-octet prefix) and an MQTT packet
 * (fixed header included).
 */

/** The bytes of a frame: a text frame's UTF-8 encoding, or the buffer itself. */
export function frameBytes(frame: string | Buffer): number {
  return typeof frame === 'string' ? Buffer.byteLength(frame, 'utf8') : frame.length;
}

/**
 * The size of a whole MQTT packet whose Remaining Length is `remainingLength`: one octet of packet type and
 * flags, the Remaining Length itself (a variable byte integer of 1 to 4 octets), then that many octets.
 */
export function mqttPacketSize(remainingLength: number): number {
  const lengthOctets = remainingLength < 128 ? 1 : remainingLength < 16_384 ? 2 : remainingLength < 2_097_152 ? 3 : 4;
  return 1 + lengthOctets + remainingLength;
}

/** MQTT control packet types by their code (the high nibble of the first octet), named as mqtt-packet names them. */
const MQTT_PACKET_TYPES = [
  'reserved',
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'pingreq',
  'pingresp',
  'disconnect',
  'auth',
] as const;

/** The type of an encoded MQTT packet, read from its first octet. */
export function mqttPacketType(packet: Buffer): string {
  return MQTT_PACKET_TYPES[(packet[0] ?? 0) >> 4]!;
}
