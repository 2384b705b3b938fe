import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MosquittoClients, type MosquittoCliVersion } from '../support/mosquitto-clients.js';
import { selectedBrokers, startBroker, type RunningBroker } from '../support/mqtt-brokers.js';
import { MqttTestClients, uniqueName, type MqttProtocolVersion } from '../support/mqtt-client.js';

// Debian's mosquitto_pub / mosquitto_sub (2.0.11) against every selected broker, over MQTT 3.1.1 and 5.0, and
// crossed with MQTT.js where that shows that two different client stacks agree on what went over the wire.
// Titles start with the normative statement of the OASIS text of that version that the test checks.

interface VersionCase {
  readonly cli: MosquittoCliVersion;
  readonly mqttJs: MqttProtocolVersion;
  readonly spec: Record<'qos' | 'retained' | 'retainedDelete' | 'dollar', string>;
}

const VERSIONS: readonly VersionCase[] = [
  {
    cli: 'mqttv311',
    mqttJs: 4,
    spec: { qos: '[MQTT-3.8.4-6]', retained: '[MQTT-3.3.1-5][MQTT-3.3.1-6][MQTT-3.3.1-8]', retainedDelete: '[MQTT-3.3.1-10][MQTT-3.3.1-11]', dollar: '[MQTT-4.7.2-1]' },
  },
  {
    cli: 'mqttv5',
    mqttJs: 5,
    spec: { qos: '[MQTT-3.8.4-8]', retained: '[MQTT-3.3.1-5][MQTT-3.3.1-9]', retainedDelete: '[MQTT-3.3.1-6][MQTT-3.3.1-7]', dollar: '[MQTT-4.7.2-1]' },
  },
];

const QOS_LEVELS = [0, 1, 2] as const;

describe.each(selectedBrokers())('mosquitto_pub / mosquitto_sub against %s', (brokerName) => {
  let broker: RunningBroker;
  let scratchDir: string;
  const cli = new MosquittoClients(() => broker);

  beforeAll(async () => {
    broker = await startBroker(brokerName);
    scratchDir = mkdtempSync(join(tmpdir(), 'mqtt-cli-'));
  });

  afterEach(async () => {
    await cli.stopAll();
  });

  afterAll(async () => {
    await broker?.stop();
    if (scratchDir !== undefined) rmSync(scratchDir, { recursive: true, force: true });
  });

  describe.each(VERSIONS)('$cli', ({ cli: version, mqttJs, spec }) => {
    let clients: MqttTestClients;

    beforeAll(() => {
      clients = new MqttTestClients(broker.url, mqttJs);
    });

    afterEach(async () => {
      await clients?.closeAll();
    });

    it.each(QOS_LEVELS)(`${spec.qos} mosquitto_pub -q %i reaches a mosquitto_sub -q 2 at that QoS`, async (qos) => {
      const topic = `${uniqueName('cli-qos')}/reading`;
      const sub = cli.subscribe({ version, topics: [topic], qos: 2, count: 1, timeoutSecs: 10 });
      expect(await sub.ready()).toEqual([2]);
      await cli.publish({ version, topic, payload: { message: `qos ${qos} from the cli` }, qos });
      const [message] = await sub.finished();
      expect(message).toMatchObject({ topic, text: `qos ${qos} from the cli`, qos, retain: false });
    });

    it(`${spec.retained} stores a message published with -r and hands it to a later subscriber with RETAIN=1`, async () => {
      const topic = `${uniqueName('cli-retained')}/state`;
      await cli.publish({ version, topic, payload: { message: 'on' }, qos: 1, retain: true });
      const sub = cli.subscribe({ version, topics: [topic], qos: 1, count: 1, timeoutSecs: 10 });
      const [message] = await sub.finished();
      expect(message).toMatchObject({ topic, text: 'on', qos: 1, retain: true });
    });

    it(`${spec.retainedDelete} deletes the retained message on an empty retained publish (-r -n)`, async () => {
      const topic = `${uniqueName('cli-deleted')}/state`;
      await cli.publish({ version, topic, payload: { message: 'on' }, qos: 1, retain: true });
      await cli.publish({ version, topic, payload: 'empty', qos: 1, retain: true });
      const sub = cli.subscribe({ version, topics: [topic], qos: 1, count: 1, timeoutSecs: 10 });
      await sub.ready();
      // A retained message would arrive right after the SUBACK, so before this live marker.
      await cli.publish({ version, topic, payload: { message: 'marker' }, qos: 1 });
      const [first] = await sub.finished();
      expect(first).toMatchObject({ topic, text: 'marker', retain: false });
    });

    it(`${spec.dollar} '#' delivers no $-prefixed topic, and '$SYS/#' nothing published to an ordinary topic`, async () => {
      const prefix = uniqueName('cli-dollar');
      const marker = `${prefix}/marker`;
      const everything = cli.subscribe({ version, topics: ['#'], qos: 1 });
      // The marker is subscribed by name, so that this subscriber too can tell when the publishes are through.
      const system = cli.subscribe({ version, topics: ['$SYS/#', marker], qos: 1 });
      await Promise.all([everything.ready(), system.ready()]);

      // A client-published $ topic (a broker MAY refuse to pass it on; either way '#' must not deliver it), an
      // ordinary topic, then the marker. Each mosquitto_pub has its PUBACK before the next one starts.
      await cli.publish({ version, topic: `$${prefix}/hidden`, payload: { message: 'dollar' }, qos: 1 });
      await cli.publish({ version, topic: `${prefix}/plain`, payload: { message: 'plain' }, qos: 1 });
      await cli.publish({ version, topic: marker, payload: { message: 'marker' }, qos: 1 });
      await everything.messages.waitFor((message) => message.topic === marker, 'the marker on #');
      await system.messages.waitFor((message) => message.topic === marker, 'the marker on the $SYS subscriber');

      const everythingTopics = everything.messages.items.map((message) => message.topic);
      expect(everythingTopics).toContain(`${prefix}/plain`);
      expect(everythingTopics.filter((topic) => topic.startsWith('$'))).toEqual([]);
      const systemTopics = system.messages.items.map((message) => message.topic);
      expect(systemTopics.filter((topic) => !topic.startsWith('$SYS/') && topic !== marker)).toEqual([]);
    });

    it('carries a 100 KB binary payload from a file (-f) byte for byte', async () => {
      const topic = `${uniqueName('cli-file')}/blob`;
      // Every byte value, in an order that is not a plain ramp.
      const payload = Buffer.from(Array.from({ length: 100 * 1024 }, (_, index) => (index * 7 + (index >> 8)) & 0xff));
      const file = join(scratchDir, `${uniqueName('payload')}.bin`);
      writeFileSync(file, payload);
      const sub = cli.subscribe({ version, topics: [topic], qos: 1, count: 1, timeoutSecs: 10 });
      await sub.ready();
      await cli.publish({ version, topic, payload: { file }, qos: 1 });
      const [message] = await sub.finished();
      expect(message!.payload.length).toBe(payload.length);
      expect(message!.payload.equals(payload)).toBe(true);
    });

    it('MQTT.js receives what mosquitto_pub sends (QoS 2; v5 also its user properties and content type)', async () => {
      const topic = `${uniqueName('cli-to-js')}/event`;
      const subscriber = await clients.connect();
      await subscriber.client.subscribeAsync(topic, { qos: 2 });
      const properties =
        version === 'mqttv5'
          ? ([
              ['publish', 'user-property', 'origin', 'mosquitto_pub'],
              ['publish', 'user-property', 'unit', 'celsius'],
              ['publish', 'content-type', 'text/plain'],
            ] as const)
          : [];
      await cli.publish({ version, topic, payload: { message: '21.5' }, qos: 2, properties });
      const message = await subscriber.inbox.waitForMessage(topic, '21.5');
      expect(message.qos).toBe(2);
      if (version === 'mqttv5') {
        expect(message.properties.userProperties).toEqual({ origin: 'mosquitto_pub', unit: 'celsius' });
        expect(message.properties.contentType).toBe('text/plain');
      }
    });

    it('mosquitto_sub receives what MQTT.js publishes (QoS 1, retained; v5 also its user properties)', async () => {
      const topic = `${uniqueName('js-to-cli')}/event`;
      const publisher = await clients.connect();
      const properties = version === 'mqttv5' ? { userProperties: { origin: 'mqtt.js' } } : undefined;
      await publisher.client.publishAsync(topic, 'from mqtt.js', { qos: 1, retain: true, ...(properties ? { properties } : {}) });
      const sub = cli.subscribe({ version, topics: [topic], qos: 2, count: 1, timeoutSecs: 10 });
      const [message] = await sub.finished();
      expect(message).toMatchObject({ topic, text: 'from mqtt.js', qos: 1, retain: true });
      if (version === 'mqttv5') expect(message!.properties['user-properties']).toEqual({ origin: 'mqtt.js' });
      // Leave no retained message behind for the '#' subscriber of another test.
      await publisher.client.publishAsync(topic, '', { qos: 1, retain: true });
    });
  });
});
