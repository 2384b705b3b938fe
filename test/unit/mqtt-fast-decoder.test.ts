import fc from 'fast-check';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { decodeHotPacket, PacketFramer } from '@fox-wamp/core';

/** What mqtt-packet's own parser makes of one packet. */
function codecParse(bytes: Buffer, version: 4 | 5): Packet {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const packets: Packet[] = [];
  parser.on('packet', (packet) => packets.push(packet));
  parser.parse(bytes);
  expect(packets).toHaveLength(1);
  return packets[0]!;
}

const text = fc.string({ unit: 'grapheme', maxLength: 20 });
const publish = fc.record({
  topic: text.filter((topic) => topic.length > 0),
  payload: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
  dup: fc.boolean(),
  retain: fc.boolean(),
  messageId: fc.integer({ min: 1, max: 65535 }),
  properties: fc.record(
    {
      payloadFormatIndicator: fc.boolean(),
      messageExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
      topicAlias: fc.integer({ min: 1, max: 65535 }),
      responseTopic: text,
      correlationData: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
      // At least one: mqtt-packet itself cannot read back the empty user properties it writes for {}.
      userProperties: fc.dictionary(fc.constantFrom('a', 'b', 'trace'), text, { minKeys: 1, maxKeys: 3 }),
      contentType: text,
    },
    { requiredKeys: [] },
  ),
});

describe('the hot-path decoder', () => {
  it('reads PUBLISH packets exactly as mqtt-packet does, for 3.1.1 and 5 (fast-check)', () => {
    fc.assert(
      fc.property(publish, fc.constantFrom(4 as const, 5 as const), (fields, version) => {
        const packet: IPublishPacket = { cmd: 'publish', ...fields, ...(fields.qos === 0 ? { messageId: undefined } : {}) };
        if (version === 4) delete packet.properties;
        const bytes = mqttPacket.generate(packet, { protocolVersion: version });
        const ours = decodeHotPacket(bytes, version) as IPublishPacket;
        const theirs = codecParse(bytes, version) as IPublishPacket;
        expect(ours.topic).toBe(theirs.topic);
        expect(Buffer.from(ours.payload as Buffer).equals(Buffer.from(theirs.payload as Buffer))).toBe(true);
        expect([ours.qos, ours.dup, ours.retain, ours.messageId, ours.length]).toEqual([theirs.qos, theirs.dup, theirs.retain, theirs.messageId, theirs.length]);
        expect(ours.properties?.userProperties).toEqual(theirs.properties?.userProperties === undefined ? undefined : { ...theirs.properties.userProperties });
        const { userProperties: _ours, ...ourRest } = ours.properties ?? {};
        const { userProperties: _theirs, ...theirRest } = theirs.properties ?? {};
        // Symbol-keyed extras (the ordered user property list) are ours alone.
        expect(Object.fromEntries(Object.entries(ourRest))).toEqual(theirRest);
      }),
      { numRuns: 500 },
    );
  });

  it('reads PUBACK, PUBREC, PUBREL, PUBCOMP (with and without a v5 reason code) and PINGREQ', () => {
    for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const) {
      for (const reasonCode of [undefined, 0, 0x10, 0x92]) {
        const bytes = mqttPacket.generate({ cmd, messageId: 513, ...(reasonCode === undefined ? {} : { reasonCode }) }, { protocolVersion: 5 });
        expect(decodeHotPacket(bytes, 5)).toMatchObject({ cmd, messageId: 513, ...(reasonCode ? { reasonCode } : {}) });
      }
      expect(decodeHotPacket(mqttPacket.generate({ cmd, messageId: 7 }, { protocolVersion: 4 }), 4)).toMatchObject({ cmd, messageId: 7 });
    }
    expect(decodeHotPacket(Buffer.from([0xc0, 0x00]), 4)).toMatchObject({ cmd: 'pingreq' });
    expect(decodeHotPacket(Buffer.from([0x82, 0x05, 0, 1, 0, 1, 0x61]), 4)).toBeUndefined();
  });

  it('refuses malformed packets: QoS 3, PUBREL flags, invalid UTF-8 in the topic, a property running past the packet', () => {
    const malformed = (bytes: number[], version: 4 | 5 = 4) => () => decodeHotPacket(Buffer.from(bytes), version);
    expect(malformed([0x36, 0x03, 0, 1, 0x61])).toThrow(/QoS 3/);
    expect(malformed([0x60, 0x02, 0, 1])).toThrow(/flags/);
    expect(malformed([0x30, 0x04, 0, 2, 0xc3, 0x28])).toThrow(/UTF-8/);
    expect(malformed([0x30, 0x05, 0, 1, 0x61, 0x05, 0x01], 5)).toThrow(/past/);
    expect(malformed([0x30, 0x06, 0, 1, 0x61, 0x02, 0x0b, 0x01], 5)).toThrow(/Subscription Identifier/);
  });
});

describe('the packet framer', () => {
  it('cuts a stream into whole packets however it is chunked, and refuses an oversized one from its header', () => {
    const packets = [0, 1, 2, 3].map((n) => mqttPacket.generate({ cmd: 'publish', topic: `t/${n}`, payload: Buffer.alloc(n * 200, n), qos: 0, dup: false, retain: false }));
    const stream = Buffer.concat(packets);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 8 }), (cuts) => {
        const framer = new PacketFramer(1 << 20);
        const got: Buffer[] = [];
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        let start = 0;
        for (const point of [...points, stream.length]) {
          framer.push(stream.subarray(start, point), (packet) => void got.push(Buffer.from(packet)));
          start = point;
        }
        expect(got.map((packet) => packet.toString('hex'))).toEqual(packets.map((packet) => packet.toString('hex')));
      }),
    );
    const framer = new PacketFramer(1000);
    expect(() => framer.push(Buffer.from([0x30, 0x80, 0x80, 0x64]), () => undefined)).toThrow(/over the limit/);
  });
});
