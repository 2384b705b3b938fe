import type { UserProperty } from './user-property-order.js';

/** What the broker sends in a PUBLISH (MQTT 3.3). */
export interface OutgoingPublish {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly dup: boolean;
  readonly retain: boolean;
  /** Only with QoS 1 and 2. */
  readonly packetId: number;
  /** MQTT 5 properties; ignored for 3.1.1. */
  readonly properties?: PublishProperties;
}

export interface PublishProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  topicAlias?: number;
  responseTopic?: string;
  correlationData?: Buffer;
  /** In order, repeated names included (MQTT-3.3.2-18). */
  userProperties?: readonly UserProperty[];
  subscriptionIdentifiers?: readonly number[];
  contentType?: string;
}

const enum Property {
  payloadFormatIndicator = 0x01,
  messageExpiryInterval = 0x02,
  contentType = 0x03,
  responseTopic = 0x08,
  correlationData = 0x09,
  subscriptionIdentifier = 0x0b,
  topicAlias = 0x23,
  userProperty = 0x26,
}

/**
 * Encodes the broker's PUBLISH packets itself (everything else goes through mqtt-packet): the codec's
 * property form cannot keep repeated User Properties in order, and this is the one packet on the hot path,
 * where a single exact-size allocation beats the general encoder.
 */
export function encodePublish(publish: OutgoingPublish, version: 3 | 4 | 5): Buffer {
  const topicLength = Buffer.byteLength(publish.topic, 'utf8');
  const properties = version === 5 ? publish.properties : undefined;
  const propertiesLength = version === 5 ? propertiesSize(properties) : 0;
  let remaining = 2 + topicLength + (publish.qos > 0 ? 2 : 0) + publish.payload.length;
  if (version === 5) remaining += varIntSize(propertiesLength) + propertiesLength;
  const packet = Buffer.allocUnsafe(1 + varIntSize(remaining) + remaining);
  let at = 0;
  packet[at++] = 0x30 | (publish.dup ? 0x08 : 0) | (publish.qos << 1) | (publish.retain ? 0x01 : 0);
  at = writeVarInt(packet, at, remaining);
  at = packet.writeUInt16BE(topicLength, at);
  at += packet.write(publish.topic, at, 'utf8');
  if (publish.qos > 0) at = packet.writeUInt16BE(publish.packetId, at);
  if (version === 5) {
    at = writeVarInt(packet, at, propertiesLength);
    if (properties !== undefined) at = writeProperties(packet, at, properties);
  }
  publish.payload.copy(packet, at);
  return packet;
}

function propertiesSize(properties: PublishProperties | undefined): number {
  if (properties === undefined) return 0;
  let size = 0;
  if (properties.payloadFormatIndicator !== undefined) size += 2;
  if (properties.messageExpiryInterval !== undefined) size += 5;
  if (properties.contentType !== undefined) size += 3 + Buffer.byteLength(properties.contentType, 'utf8');
  if (properties.responseTopic !== undefined) size += 3 + Buffer.byteLength(properties.responseTopic, 'utf8');
  if (properties.correlationData !== undefined) size += 3 + properties.correlationData.length;
  for (const id of properties.subscriptionIdentifiers ?? []) size += 1 + varIntSize(id);
  if (properties.topicAlias !== undefined) size += 3;
  for (const [name, value] of properties.userProperties ?? []) size += 5 + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  return size;
}

function writeProperties(packet: Buffer, at: number, properties: PublishProperties): number {
  if (properties.payloadFormatIndicator !== undefined) {
    packet[at++] = Property.payloadFormatIndicator;
    packet[at++] = properties.payloadFormatIndicator ? 1 : 0;
  }
  if (properties.messageExpiryInterval !== undefined) {
    packet[at++] = Property.messageExpiryInterval;
    at = packet.writeUInt32BE(properties.messageExpiryInterval, at);
  }
  if (properties.contentType !== undefined) at = writeString(packet, writeByte(packet, at, Property.contentType), properties.contentType);
  if (properties.responseTopic !== undefined) at = writeString(packet, writeByte(packet, at, Property.responseTopic), properties.responseTopic);
  if (properties.correlationData !== undefined) {
    at = writeByte(packet, at, Property.correlationData);
    at = packet.writeUInt16BE(properties.correlationData.length, at);
    at += properties.correlationData.copy(packet, at);
  }
  for (const id of properties.subscriptionIdentifiers ?? []) at = writeVarInt(packet, writeByte(packet, at, Property.subscriptionIdentifier), id);
  if (properties.topicAlias !== undefined) at = packet.writeUInt16BE(properties.topicAlias, writeByte(packet, at, Property.topicAlias));
  for (const [name, value] of properties.userProperties ?? []) {
    at = writeString(packet, writeString(packet, writeByte(packet, at, Property.userProperty), name), value);
  }
  return at;
}

function writeByte(packet: Buffer, at: number, value: number): number {
  packet[at] = value;
  return at + 1;
}

function writeString(packet: Buffer, at: number, value: string): number {
  const length = packet.write(value, at + 2, 'utf8');
  packet.writeUInt16BE(length, at);
  return at + 2 + length;
}

/** The size of a Variable Byte Integer (MQTT 1.5.5). */
export function varIntSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

function writeVarInt(packet: Buffer, at: number, value: number): number {
  do {
    let byte = value % 0x80;
    value = Math.floor(value / 0x80);
    if (value > 0) byte |= 0x80;
    packet[at++] = byte;
  } while (value > 0);
  return at;
}
