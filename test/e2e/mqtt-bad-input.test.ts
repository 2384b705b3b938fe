import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectedBrokers, startBroker, type RunningBroker } from '../support/mqtt-brokers.js';
import { MqttTestClients, receivedBeforeMarker, uniqueName, type ConnectedClient, type ReceivedMessage } from '../support/mqtt-client.js';
import { handMadeConnect, mqttString, rawPacket, RawMqttSocket, remainingLength, type MqttVersion } from '../support/raw-mqtt-socket.js';

// Bad input on the MQTT TCP listener. Each case checks two things: the offending connection gets the answer the
// OASIS text of its version prescribes (a CONNACK with a return / reason code, a DISCONNECT with a reason code, or
// simply a closed connection), and a bystander client that was connected before is still served afterwards (a
// new client publishes, the bystander receives) — so the bad input cost only its own connection.
// Titles start with the statement ids (3.1.1 numbering for 3.1.1 framing, 5.0 numbering for 5.0).

/** How long the broker may take to close a connection it must close. */
const CLOSE_WITHIN_MS = 3_000;

/**
 * Mosquitto accepts packets up to 256 MB unless told otherwise, and then simply waits for the 200 MB to arrive.
 * With a limit it closes (v5: DISCONNECT 0x95 first), which is what a broker with bounded memory must do, and
 * what these tests expect of ours (which has a default limit).
 */
const MOSQUITTO_CONFIG = ['max_packet_size 1048576'];

const TWO_HUNDRED_MB = 200 * 1024 * 1024;

// MQTT 5 reason codes (OASIS MQTT 5.0 §2.4).
const MALFORMED_PACKET = 0x81;
const PROTOCOL_ERROR = 0x82;
const UNSUPPORTED_PROTOCOL_VERSION = 0x84;
const CLIENT_IDENTIFIER_NOT_VALID = 0x85;
const TOPIC_FILTER_INVALID = 0x8f;
const TOPIC_NAME_INVALID = 0x90;
const PACKET_TOO_LARGE = 0x95;
const UNSPECIFIED_ERROR = 0x80;

// MQTT 3.1.1 CONNACK return codes and SUBACK failure (OASIS MQTT 3.1.1 §3.2.2.3, §3.9.3).
const UNACCEPTABLE_PROTOCOL_VERSION = 0x01;
const IDENTIFIER_REJECTED = 0x02;
const SUBACK_FAILURE = 0x80;

interface VersionCase {
  readonly name: string;
  readonly version: MqttVersion;
  readonly spec: Record<'bigPublish' | 'wildcardTopic' | 'badUtf8' | 'secondConnect' | 'badFilter' | 'packetIdZero' | 'emptyClientId', string>;
}

const VERSIONS: readonly VersionCase[] = [
  {
    name: 'MQTT 3.1.1',
    version: 4,
    spec: {
      bigPublish: '[§2.2.3, no statement id]',
      wildcardTopic: '[MQTT-3.3.2-2][MQTT-4.8.0-1]',
      badUtf8: '[MQTT-1.5.3-1]',
      secondConnect: '[MQTT-3.1.0-2]',
      badFilter: '[MQTT-4.7.1-2][MQTT-3.9.3-2]',
      packetIdZero: '[MQTT-2.3.1-1][MQTT-4.8.0-1]',
      emptyClientId: '[MQTT-3.1.3-8]',
    },
  },
  {
    name: 'MQTT 5.0',
    version: 5,
    spec: {
      bigPublish: '[§3.2.2.3.6, no statement id]',
      wildcardTopic: '[MQTT-3.3.2-2][MQTT-4.13.1-1]',
      badUtf8: '[MQTT-1.5.4-1][MQTT-4.13.1-1]',
      secondConnect: '[MQTT-3.1.0-2]',
      badFilter: '[MQTT-4.7.1-1][MQTT-3.9.3-2]',
      packetIdZero: '[MQTT-2.2.1-3][MQTT-4.13.1-1]',
      emptyClientId: '[MQTT-3.1.3-6][MQTT-3.1.3-7][MQTT-3.1.3-8]',
    },
  },
];

/**
 * A client subscribed to `<prefix>/#` before the bad input. `stillServed()` checks that it is still connected,
 * that a new client can connect and publish to it, and returns what it received before that marker (so a test can
 * also check that nothing the bad connection sent was routed).
 */
class Bystander {
  private constructor(
    private readonly clients: MqttTestClients,
    private readonly subscriber: ConnectedClient,
    readonly prefix: string,
  ) {}

  static async join(clients: MqttTestClients, prefix: string): Promise<Bystander> {
    const subscriber = await clients.connect();
    await subscriber.client.subscribeAsync(`${prefix}/#`, { qos: 1 });
    return new Bystander(clients, subscriber, prefix);
  }

  async stillServed(): Promise<ReceivedMessage[]> {
    expect(this.subscriber.client.connected, 'the bystander is still connected').toBe(true);
    const publisher = await this.clients.connect();
    return receivedBeforeMarker(publisher.client, this.subscriber.inbox, `${this.prefix}/marker`, { qos: 1 });
  }
}

describe.each(selectedBrokers())('bad MQTT input against %s', (brokerName) => {
  let broker: RunningBroker;
  const rawSockets = new Set<RawMqttSocket>();

  beforeAll(async () => {
    broker = await startBroker(brokerName, { mosquittoConfig: MOSQUITTO_CONFIG });
  });

  afterEach(() => {
    for (const raw of rawSockets) raw.destroy();
    rawSockets.clear();
  });

  afterAll(async () => {
    await broker?.stop();
  });

  /** A raw TCP connection to the broker, nothing sent yet. */
  async function openRaw(version: MqttVersion): Promise<RawMqttSocket> {
    const raw = await RawMqttSocket.open(broker.port, broker.host, version);
    rawSockets.add(raw);
    return raw;
  }

  /** A raw connection that completed CONNECT / CONNACK. */
  async function connectedRaw(version: MqttVersion): Promise<RawMqttSocket> {
    const raw = await RawMqttSocket.connected(broker.port, { host: broker.host, version });
    rawSockets.add(raw);
    return raw;
  }

  /**
   * The broker closed `raw` within CLOSE_WITHIN_MS, sending nothing after the CONNACK on 3.1.1 (which has no
   * server DISCONNECT) and on 5.0 at most one DISCONNECT whose reason code is one of `allowedReasonCodes`
   * (§4.13: the Server SHOULD send one, and MUST close).
   */
  async function expectClosedByBroker(raw: RawMqttSocket, allowedReasonCodes: readonly number[]): Promise<void> {
    const packets = await raw.waitForClose(CLOSE_WITHIN_MS);
    const answer = packets.filter((packet) => packet.cmd !== 'connack');
    if (raw.version === 4 || answer.length === 0) {
      expect(answer.map((packet) => packet.cmd)).toEqual([]);
      return;
    }
    expect(answer.map((packet) => packet.cmd)).toEqual(['disconnect']);
    expect(allowedReasonCodes).toContain((answer[0] as { reasonCode?: number }).reasonCode);
  }

  describe('before or instead of a CONNECT', () => {
    let clients: MqttTestClients;

    beforeAll(() => {
      clients = new MqttTestClients(broker.url, 4);
    });

    afterEach(async () => {
      await clients.closeAll();
    });

    it.each([
      ['an HTTP request', Buffer.from('GET /mqtt HTTP/1.1\r\nHost: localhost\r\n\r\n', 'latin1')],
      ['0xFF bytes', Buffer.alloc(64, 0xff)],
    ])('[MQTT-3.1.0-1][MQTT-2.2.2-2] closes a connection whose first bytes are %s, without a CONNACK', async (_what, garbage) => {
      const bystander = await Bystander.join(clients, uniqueName('bad-garbage'));
      const raw = await openRaw(4);
      raw.send(garbage);
      await raw.waitForClose(CLOSE_WITHIN_MS);
      expect(raw.bytes.length, 'bytes the broker sent back').toBe(0);
      expect(await bystander.stillServed()).toEqual([]);
    });

    it('[MQTT-3.1.2-2] answers a CONNECT with protocol level 9 with CONNACK 0x01 (3.1.1 framing) or 0x84 (5.0 framing), then closes', async () => {
      const bystander = await Bystander.join(clients, uniqueName('bad-level'));
      const raw = await openRaw(4);
      raw.send(handMadeConnect(9, 0x02, uniqueName('level9')));
      await raw.waitForClose(CLOSE_WITHIN_MS);
      const bytes = [...raw.bytes];
      expect(bytes[0], 'a CONNACK').toBe(0x20);
      // Session Present 0 ([MQTT-3.2.2-4] in 3.1.1, [MQTT-3.2.2-6] in 5.0), then the code.
      if (bytes[1] === 2) expect(bytes).toEqual([0x20, 0x02, 0x00, UNACCEPTABLE_PROTOCOL_VERSION]);
      else expect(bytes.slice(2, 4)).toEqual([0x00, UNSUPPORTED_PROTOCOL_VERSION]);
      expect(await bystander.stillServed()).toEqual([]);
    });

    it('[§2.2.3, no statement id] closes a connection whose CONNECT announces 200 MB, without waiting for them', async () => {
      const bystander = await Bystander.join(clients, uniqueName('bad-bigconnect'));
      const raw = await openRaw(4);
      // Only the fixed header and 4 KB are sent: a broker that waits for the rest (or buffers it) fails here.
      raw.send(Buffer.concat([Buffer.from([0x10]), remainingLength(TWO_HUNDRED_MB), Buffer.alloc(4096, 0x41)]));
      await raw.waitForClose(CLOSE_WITHIN_MS);
      // Nothing, or a refusing CONNACK (a non-zero code in byte 3 in either framing).
      if (raw.bytes.length > 0) {
        expect(raw.bytes[0]).toBe(0x20);
        expect(raw.bytes[3]).not.toBe(0);
      }
      expect(await bystander.stillServed()).toEqual([]);
    });

    // Mosquitto 2.0.11 keeps a connection that never sends CONNECT open for well over 10 s (seen in our runs: still
    // open after 12 s); the specification only says SHOULD and "a reasonable amount of time", so this is a
    // difference in policy, checked for our broker only (its default connect timeout is 10 s; 1 s of slack here).
    it.skipIf(brokerName === 'mosquitto')(
      '[§3.1.4, SHOULD, no statement id] closes a connection that never sends CONNECT after about 10 s',
      async () => {
        const bystander = await Bystander.join(clients, uniqueName('bad-silent'));
        const raw = await openRaw(4);
        await raw.waitForClose(11_000);
        expect(raw.bytes.length).toBe(0);
        expect(await bystander.stillServed()).toEqual([]);
      },
      16_000,
    );
  });

  describe.each(VERSIONS)('$name', ({ version, spec }) => {
    let clients: MqttTestClients;

    beforeAll(() => {
      clients = new MqttTestClients(broker.url, version);
    });

    afterEach(async () => {
      await clients.closeAll();
    });

    /** The variable header's property block: present (and empty here) in 5.0 only. */
    const noProperties = version === 5 ? Buffer.from([0]) : Buffer.alloc(0);

    it(`${spec.bigPublish} closes a connection whose PUBLISH announces 200 MB${version === 5 ? ' (DISCONNECT 0x95 allowed first)' : ''}`, async () => {
      const bystander = await Bystander.join(clients, uniqueName('bad-bigpublish'));
      const raw = await connectedRaw(version);
      const start = Buffer.concat([mqttString(`${bystander.prefix}/big`), noProperties, Buffer.alloc(4096, 0x41)]);
      raw.send(Buffer.concat([Buffer.from([0x30]), remainingLength(TWO_HUNDRED_MB), start]));
      await expectClosedByBroker(raw, [PACKET_TOO_LARGE]);
      expect(await bystander.stillServed()).toEqual([]);
    });

    it.each(['+', '#'])(
      `${spec.wildcardTopic} closes a connection that PUBLISHes to a topic name with the wildcard %s${version === 5 ? ' (DISCONNECT 0x90 or 0x82 allowed first)' : ''}`,
      async (wildcard) => {
        const bystander = await Bystander.join(clients, uniqueName('bad-wildcard'));
        const raw = await connectedRaw(version);
        raw.sendPacket({ cmd: 'publish', topic: `${bystander.prefix}/${wildcard}`, payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
        await expectClosedByBroker(raw, [TOPIC_NAME_INVALID, PROTOCOL_ERROR]);
        // The bystander's filter <prefix>/# would match that name literally: it must not have been routed.
        expect(await bystander.stillServed()).toEqual([]);
      },
    );

    it(`${spec.badUtf8} closes a connection that PUBLISHes to a topic name with invalid UTF-8 (C3 28)${version === 5 ? ' (DISCONNECT 0x81 allowed first)' : ''}`, async () => {
      const bystander = await Bystander.join(clients, uniqueName('bad-utf8'));
      const raw = await connectedRaw(version);
      const topic = Buffer.concat([Buffer.from(`${bystander.prefix}/`, 'utf8'), Buffer.from([0xc3, 0x28])]);
      raw.send(rawPacket(0x30, Buffer.concat([mqttString(topic), noProperties, Buffer.from('x')])));
      await expectClosedByBroker(raw, [MALFORMED_PACKET]);
      // A lenient decoder would turn it into "<prefix>/\uFFFD(", which the bystander's filter matches.
      expect(await bystander.stillServed()).toEqual([]);
    });

    it(`${spec.secondConnect} closes a connection that sends a second CONNECT${version === 5 ? ' (DISCONNECT 0x82 allowed first)' : ''}`, async () => {
      const bystander = await Bystander.join(clients, uniqueName('bad-reconnect'));
      const raw = await connectedRaw(version);
      raw.sendPacket({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId: uniqueName('again'), clean: true, keepalive: 60 });
      await expectClosedByBroker(raw, [PROTOCOL_ERROR]);
      expect(raw.packets.filter((packet) => packet.cmd === 'connack'), 'CONNACKs on the connection').toHaveLength(1);
      expect(await bystander.stillServed()).toEqual([]);
    });

    it(`${spec.badFilter} refuses a SUBSCRIBE to a/#/b: ${version === 5 ? 'SUBACK 0x8F (or 0x80), or DISCONNECT 0x81/0x82/0x8F and close' : 'SUBACK 0x80, or close'}`, async () => {
      const bystander = await Bystander.join(clients, uniqueName('bad-filter'));
      const raw = await connectedRaw(version);
      raw.sendPacket({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: `${bystander.prefix}/#/b`, qos: 0 }] });
      const suback = await raw.nextPacket('suback', CLOSE_WITHIN_MS).catch(() => undefined);
      if (suback !== undefined) {
        // Refused in the SUBACK: the connection stays usable.
        expect(suback.messageId).toBe(7);
        const refusals = version === 5 ? [TOPIC_FILTER_INVALID, UNSPECIFIED_ERROR] : [SUBACK_FAILURE];
        expect((suback as { granted: number[] }).granted).toHaveLength(1);
        expect(refusals).toContain((suback as { granted: number[] }).granted[0]);
        await raw.ping();
      } else {
        await expectClosedByBroker(raw, [MALFORMED_PACKET, PROTOCOL_ERROR, TOPIC_FILTER_INVALID]);
      }
      expect(await bystander.stillServed()).toEqual([]);
    });

    it(`${spec.packetIdZero} closes a connection that sends a QoS 1 PUBLISH with packet id 0${version === 5 ? ' (DISCONNECT 0x81 or 0x82 allowed first)' : ''}`, async () => {
      const bystander = await Bystander.join(clients, uniqueName('bad-pid0'));
      const raw = await connectedRaw(version);
      const body = Buffer.concat([mqttString(`${bystander.prefix}/pid0`), Buffer.from([0x00, 0x00]), noProperties, Buffer.from('x')]);
      raw.send(rawPacket(0x32, body));
      await expectClosedByBroker(raw, [MALFORMED_PACKET, PROTOCOL_ERROR]);
      expect(raw.packets.filter((packet) => packet.cmd === 'puback'), 'PUBACKs').toEqual([]);
      expect(await bystander.stillServed()).toEqual([]);
    });

    if (version === 4) {
      it(`${spec.emptyClientId} answers an empty client id with CleanSession 0 with CONNACK 0x02, then closes`, async () => {
        const bystander = await Bystander.join(clients, uniqueName('bad-emptyid'));
        const raw = await openRaw(version);
        raw.send(handMadeConnect(4, 0x00, ''));
        await raw.waitForClose(CLOSE_WITHIN_MS);
        expect([...raw.bytes]).toEqual([0x20, 0x02, 0x00, IDENTIFIER_REJECTED]);
        expect(await bystander.stillServed()).toEqual([]);
      });
    } else {
      it(`${spec.emptyClientId} either assigns a client id to an empty one with Clean Start 0, or refuses it (CONNACK 0x85 allowed) and closes`, async () => {
        const bystander = await Bystander.join(clients, uniqueName('bad-emptyid'));
        const raw = await openRaw(version);
        raw.send(handMadeConnect(5, 0x00, ''));
        type Connack = { reasonCode?: number; sessionPresent: boolean; properties?: { assignedClientIdentifier?: string } };
        const connack = (await raw.nextPacket('connack', CLOSE_WITHIN_MS).catch(() => undefined)) as Connack | undefined;
        if (connack?.reasonCode === 0) {
          // Accepted: under a new, non-empty client id that the CONNACK names.
          expect(connack.properties?.assignedClientIdentifier).toMatch(/.+/);
          await raw.ping();
        } else {
          if (connack !== undefined) expect(connack).toMatchObject({ reasonCode: CLIENT_IDENTIFIER_NOT_VALID, sessionPresent: false });
          await raw.waitForClose(CLOSE_WITHIN_MS);
        }
        expect(await bystander.stillServed()).toEqual([]);
      });
    }
  });
});
