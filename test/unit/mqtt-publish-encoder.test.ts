import fc from 'fast-check';
import mqttPacket, { type IPublishPacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { encodePublish, recordUserPropertyOrder, userPropertiesOf, type OutgoingPublish } from '@fox-wamp/core';

/** Decodes one packet with mqtt-packet's parser (with the arrival order of user properties recorded). */
function decode(bytes: Buffer, version: 4 | 5): IPublishPacket {
  const parser = mqttPacket.parser({ protocolVersion: version });
  recordUserPropertyOrder(parser);
  const packets: IPublishPacket[] = [];
  parser.on('packet', (packet) => packets.push(packet as IPublishPacket));
  parser.on('error', (error) => {
    throw error;
  });
  parser.parse(bytes);
  expect(packets).toHaveLength(1);
  return packets[0]!;
}

const text = fc.string({ unit: 'grapheme', maxLength: 20 });
const publish: fc.Arbitrary<OutgoingPublish> = fc.record({
  topic: text.filter((topic) => topic.length > 0),
  payload: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
  dup: fc.boolean(),
  retain: fc.boolean(),
  packetId: fc.integer({ min: 1, max: 65535 }),
  properties: fc.record(
    {
      payloadFormatIndicator: fc.boolean(),
      messageExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
      topicAlias: fc.integer({ min: 1, max: 65535 }),
      responseTopic: text,
      correlationData: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
      userProperties: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'trace'), text), { maxLength: 5 }),
      subscriptionIdentifiers: fc.array(fc.integer({ min: 1, max: 268435455 }), { minLength: 1, maxLength: 3 }),
      contentType: text,
    },
    { requiredKeys: [] },
  ),
});

describe('the PUBLISH encoder', () => {
  it('writes what mqtt-packet decodes back, field by field, for 3.1.1 and 5 (fast-check)', () => {
    fc.assert(
      fc.property(publish, fc.constantFrom(4 as const, 5 as const), (sent, version) => {
        const got = decode(encodePublish(sent, version), version);
        expect(got.topic).toBe(sent.topic);
        expect(Buffer.from(got.payload as Buffer).equals(sent.payload)).toBe(true);
        expect([got.qos, got.dup, got.retain]).toEqual([sent.qos, sent.dup, sent.retain]);
        if (sent.qos > 0) expect(got.messageId).toBe(sent.packetId);
        if (version === 4) return;
        const expected = sent.properties ?? {};
        const properties = got.properties ?? {};
        expect(properties.payloadFormatIndicator).toBe(expected.payloadFormatIndicator);
        expect(properties.messageExpiryInterval).toBe(expected.messageExpiryInterval);
        expect(properties.topicAlias).toBe(expected.topicAlias);
        expect(properties.responseTopic).toBe(expected.responseTopic);
        expect(properties.contentType).toBe(expected.contentType);
        if (expected.correlationData !== undefined) expect(Buffer.from(properties.correlationData!).equals(expected.correlationData)).toBe(true);
        const ids = properties.subscriptionIdentifier;
        expect(ids === undefined ? undefined : [ids].flat()).toEqual(expected.subscriptionIdentifiers);
        const pairs = userPropertiesOf(properties);
        expect(pairs ?? []).toEqual(expected.userProperties ?? []);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps repeated user property names in their order (MQTT-3.3.2-18)', () => {
    const bytes = encodePublish(
      { topic: 't', payload: Buffer.alloc(0), qos: 0, dup: false, retain: false, packetId: 0, properties: { userProperties: [['a', '1'], ['b', '2'], ['a', '3']] } },
      5,
    );
    expect(userPropertiesOf(decode(bytes, 5).properties)).toEqual([['a', '1'], ['b', '2'], ['a', '3']]);
  });
});
