import { isUtf8 } from 'node:buffer';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { MqttProtocolError, Reason } from './reason-codes.js';
import { USER_PROPERTY_LIST, type UserProperty } from './user-property-order.js';

/**
 * Decodes the packets of an established session's hot path itself — PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP,
 * PINGREQ — into the codec's packet shapes, from one whole packet (see `PacketFramer`). Returns undefined for
 * any other type, which goes through mqtt-packet. The general decoder allocates several objects and a buffer
 * list per packet; this reads the bytes in place and copies only the payload.
 *
 * Each packet is built as one object literal, never `{ ...decoded, length }`: on Node 20's V8 an object made by
 * a spread followed by more properties survives young-generation collections (every such packet was promoted,
 * and each scavenge copied megabytes and paused the server for 5–10 ms; see `docs/performance.md`).
 */
export function decodeHotPacket(packet: Buffer, version: 3 | 4 | 5): Packet | undefined {
  const type = packet[0]! >> 4;
  const flags = packet[0]! & 0x0f;
  let at = 1;
  while (packet[at++]! & 0x80);
  // `length` is the remaining length, as the codec reports it (metrics count wire bytes from it).
  const length = packet.length - at;
  switch (type) {
    case 3:
      return decodePublish(packet, at, flags, version, length);
    case 4:
    case 5:
    case 6:
    case 7:
      return decodeAcknowledgement(packet, at, type, flags, version, length);
    case 12:
      if (flags !== 0 || at !== packet.length) throw malformed('PINGREQ with flags or a body');
      return { cmd: 'pingreq', length };
    default:
      return undefined;
  }
}

const ACK_NAMES = { 4: 'puback', 5: 'pubrec', 6: 'pubrel', 7: 'pubcomp' } as const;

function decodeAcknowledgement(packet: Buffer, at: number, type: 4 | 5 | 6 | 7, flags: number, version: number, length: number): Packet {
  // MQTT-3.6.1-1: PUBREL's flags are 0010; the others' 0000.
  if (flags !== (type === 6 ? 2 : 0)) throw malformed(`${ACK_NAMES[type].toUpperCase()} with invalid flags`);
  if (packet.length - at < 2) throw malformed(`${ACK_NAMES[type].toUpperCase()} without a packet identifier`);
  const messageId = packet.readUInt16BE(at);
  at += 2;
  let reasonCode: number | undefined;
  if (version === 5 && at < packet.length) {
    reasonCode = packet[at++]!;
    if (at < packet.length) at = skipProperties(packet, at);
  }
  if (at !== packet.length) throw malformed(`${ACK_NAMES[type].toUpperCase()} longer than its fields`);
  const result = { cmd: ACK_NAMES[type], messageId, length } as Packet & { reasonCode?: number };
  if (reasonCode !== undefined) result.reasonCode = reasonCode;
  return result;
}

function decodePublish(packet: Buffer, at: number, flags: number, version: number, length: number): IPublishPacket {
  const qos = (flags >> 1) & 0x03;
  if (qos === 3) throw malformed('PUBLISH with QoS 3');
  const topicLength = readLength(packet, at, 'topic');
  at += 2;
  const topicBytes = packet.subarray(at, at + topicLength);
  // MQTT-1.5.4-1: a UTF-8 string that is not well-formed is a malformed packet.
  if (!isUtf8(topicBytes)) throw malformed('the topic name is not well-formed UTF-8');
  const topic = topicBytes.toString('utf8');
  at += topicLength;
  let messageId: number | undefined;
  if (qos > 0) {
    if (packet.length - at < 2) throw malformed('PUBLISH without a packet identifier');
    messageId = packet.readUInt16BE(at);
    at += 2;
  }
  let properties: IPublishPacket['properties'];
  if (version === 5) [properties, at] = readPublishProperties(packet, at);
  const result: IPublishPacket = {
    cmd: 'publish',
    qos: qos as 0 | 1 | 2,
    dup: (flags & 0x08) !== 0,
    retain: (flags & 0x01) !== 0,
    topic,
    payload: Buffer.from(packet.subarray(at)),
    length,
  };
  if (messageId !== undefined) result.messageId = messageId;
  if (properties !== undefined) result.properties = properties;
  return result;
}

type PublishProperties = NonNullable<IPublishPacket['properties']> & { [USER_PROPERTY_LIST]?: UserProperty[] };

function readPublishProperties(packet: Buffer, at: number): [PublishProperties | undefined, number] {
  const [length, start] = readVarInt(packet, at);
  const end = start + length;
  if (end > packet.length) throw malformed('PUBLISH properties run past the packet');
  if (length === 0) return [undefined, end];
  const properties: PublishProperties = {};
  const seen = new Set<number>();
  let pairs: UserProperty[] | undefined;
  at = start;
  while (at < end) {
    const id = packet[at++]!;
    if (id !== 0x26 && id !== 0x0b) {
      if (seen.has(id)) throw new MqttProtocolError(Reason.protocolError, `property 0x${id.toString(16)} given twice`);
      seen.add(id);
    }
    switch (id) {
      case 0x01:
        properties.payloadFormatIndicator = packet[at++] === 1;
        break;
      case 0x02:
        properties.messageExpiryInterval = packet.readUInt32BE(at);
        at += 4;
        break;
      case 0x03:
        [properties.contentType, at] = readString(packet, at, 'content type');
        break;
      case 0x08:
        [properties.responseTopic, at] = readString(packet, at, 'response topic');
        break;
      case 0x09: {
        const size = readLength(packet, at, 'correlation data');
        properties.correlationData = Buffer.from(packet.subarray(at + 2, at + 2 + size));
        at += 2 + size;
        break;
      }
      case 0x23:
        properties.topicAlias = packet.readUInt16BE(at);
        at += 2;
        break;
      case 0x26: {
        let name: string;
        let value: string;
        [name, at] = readString(packet, at, 'user property name');
        [value, at] = readString(packet, at, 'user property value');
        (pairs ??= []).push([name, value]);
        break;
      }
      case 0x0b:
        // MQTT-3.3.4-6: a client does not send a Subscription Identifier in PUBLISH.
        throw new MqttProtocolError(Reason.protocolError, 'a PUBLISH from a client with a Subscription Identifier');
      default:
        throw malformed(`PUBLISH with an unknown property 0x${id.toString(16)}`);
    }
    if (at > end) throw malformed('a PUBLISH property runs past the properties');
  }
  if (pairs !== undefined) {
    // The codec's object form beside the ordered list (see `user-property-order.ts`).
    const byName: Record<string, string | string[]> = {};
    for (const [name, value] of pairs) {
      const existing = byName[name];
      byName[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    properties.userProperties = byName;
    properties[USER_PROPERTY_LIST] = pairs;
  }
  return [properties, end];
}

function skipProperties(packet: Buffer, at: number): number {
  const [length, start] = readVarInt(packet, at);
  if (start + length > packet.length) throw malformed('properties run past the packet');
  return start + length;
}

function readVarInt(packet: Buffer, at: number): [number, number] {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    if (at >= packet.length) throw malformed('a Variable Byte Integer runs past the packet');
    const byte = packet[at++]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return [value, at];
    multiplier *= 128;
  }
  throw malformed('a Variable Byte Integer longer than four bytes');
}

function readLength(packet: Buffer, at: number, what: string): number {
  if (packet.length - at < 2) throw malformed(`the ${what} runs past the packet`);
  const length = packet.readUInt16BE(at);
  if (packet.length - at - 2 < length) throw malformed(`the ${what} runs past the packet`);
  return length;
}

function readString(packet: Buffer, at: number, what: string): [string, number] {
  const length = readLength(packet, at, what);
  const bytes = packet.subarray(at + 2, at + 2 + length);
  if (!isUtf8(bytes)) throw malformed(`the ${what} is not well-formed UTF-8`);
  return [bytes.toString('utf8'), at + 2 + length];
}

function malformed(message: string): MqttProtocolError {
  return new MqttProtocolError(Reason.malformedPacket, message);
}
