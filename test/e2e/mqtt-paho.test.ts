import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectedBrokers, startBroker, type RunningBroker } from '../support/mqtt-brokers.js';
import { uniqueName } from '../support/mqtt-client.js';
import { pahoProblem, PahoScripts, resultOf, type PahoMessage, type PahoVersion } from '../support/paho-process.js';

// Eclipse paho-mqtt for Python (Debian's python3-paho-mqtt 1.6.1) against every selected broker, over MQTT 3.1.1
// and 5.0. The scenarios run inside the scripts in test/python/mqtt_paho_*.py; the assertions are here. Titles
// start with the normative statement of the OASIS text of that version (3.1.1 or 5.0) that the test checks.

const SPEC: Record<PahoVersion, Record<string, string>> = {
  v311: {
    qos: '[MQTT-3.8.4-6]',
    retained: '[MQTT-3.3.1-6][MQTT-3.3.1-8][MQTT-3.3.1-9][MQTT-3.3.1-10]',
    will: '[MQTT-3.1.2-8]',
    noWill: '[MQTT-3.1.2-10]',
    session: '[MQTT-3.1.2-5][MQTT-3.2.2-2]',
  },
  v5: {
    qos: '[MQTT-3.8.4-8]',
    retained: '[MQTT-3.3.1-5][MQTT-3.3.1-6][MQTT-3.3.1-9][MQTT-3.3.1-12]',
    will: '[MQTT-3.1.2-8]',
    noWill: '[MQTT-3.14.4-3]',
    session: '[MQTT-3.1.2-5][MQTT-3.2.2-3]',
  },
};

const VERSIONS: PahoVersion[] = ['v311', 'v5'];

interface Connack {
  session_present: boolean;
  code: number;
}

describe.each(selectedBrokers())('paho-mqtt (Python) against %s', (brokerName) => {
  let broker: RunningBroker;
  const scripts = new PahoScripts(() => broker);

  beforeAll(async () => {
    const problem = pahoProblem();
    if (problem !== undefined) throw new Error(`cannot run the paho tests: ${problem}`);
    broker = await startBroker(brokerName);
  });

  afterEach(async () => {
    await scripts.stopAll();
  });

  afterAll(async () => {
    await broker?.stop();
  });

  describe.each(VERSIONS)('MQTT %s', (version) => {
    const spec = SPEC[version];

    it(`${spec.qos} delivers QoS 0, 1 and 2 publishes byte for byte at the publisher's QoS to a QoS 2 subscriber`, async () => {
      const result = await scripts.run<{ granted: number[]; sent: Array<{ topic: string; payload_hex: string; qos: number }>; received: PahoMessage[] }>(
        'mqtt_paho_roundtrip.py',
        version,
        [uniqueName('paho-qos')],
      );
      expect(result.granted).toEqual([2]);
      // QoS 2 towards paho also checks the broker's PUBREL: paho 1.6.1 reads a v5 PUBREL only in its 2-byte form
      // (reason code 0 and no properties omitted, §3.6.2.1), which is what brokers send and clients expect.
      const byTopic = (a: { topic: string }, b: { topic: string }) => a.topic.localeCompare(b.topic);
      const received = [...result.received].sort(byTopic).map(({ topic, payload_hex, qos, retain }) => ({ topic, payload_hex, qos, retain }));
      expect(received).toEqual([...result.sent].sort(byTopic).map((sent) => ({ ...sent, retain: false })));
    });

    it(`${spec.retained} sends a retained message to a later subscriber with RETAIN=1, live ones with RETAIN=0, and forgets it after an empty retained publish`, async () => {
      const result = await scripts.run<Record<'retained' | 'live' | 'deletion' | 'first_after_delete', PahoMessage>>('mqtt_paho_retained.py', version, [
        `${uniqueName('paho-retained')}/state`,
      ]);
      expect(result.retained).toMatchObject({ text: 'kept', qos: 1, retain: true });
      expect(result.live).toMatchObject({ text: 'live', retain: false });
      // The empty retained publish is delivered as a normal message to existing subscribers ...
      expect(result.deletion).toMatchObject({ payload_hex: '', retain: false });
      // ... and leaves nothing for a new one: the first thing it gets is the live marker.
      expect(result.first_after_delete).toMatchObject({ text: 'marker', retain: false });
    });

    it(`${spec.will} publishes the Will Message when the client's connection ends without DISCONNECT`, async () => {
      const willTopic = `${uniqueName('paho-will')}/status`;
      const watcher = scripts.start('mqtt_paho_collect.py', version, [willTopic, '1', 'gone']);
      expect((await watcher.waitForLine('ready')).ready).toEqual({ granted: [1] });
      const owner = scripts.start('mqtt_paho_will_owner.py', version, [willTopic, 'gone', 'drop']);
      expect((await owner.waitForLine('ready')).ready).toMatchObject({ code: 0 });

      await owner.stop(); // the process ends without a DISCONNECT packet
      const { messages } = await resultOf<{ messages: PahoMessage[] }>(watcher);
      expect(messages).toEqual([expect.objectContaining({ topic: willTopic, text: 'gone', qos: 1, retain: false })]);
    });

    it(`${spec.noWill} discards the Will Message when the client sends DISCONNECT`, async () => {
      const willTopic = `${uniqueName('paho-nowill')}/status`;
      const marker = uniqueName('marker');
      const watcher = scripts.start('mqtt_paho_collect.py', version, [willTopic, '1', marker]);
      await watcher.waitForLine('ready');
      const owner = scripts.start('mqtt_paho_will_owner.py', version, [willTopic, 'gone', 'disconnect']);
      await owner.waitForLine('ready');
      expect(await owner.stop()).toBe(0);
      expect((await owner.waitForLine('result')).result).toEqual({ disconnected: true });

      // Had the will been published, it would have arrived before this marker.
      await scripts.run('mqtt_paho_publish.py', version, [willTopic, marker, '1']);
      const { messages } = await resultOf<{ messages: PahoMessage[] }>(watcher);
      expect(messages.map((message) => message.text)).toEqual([marker]);
    });

    it(`${spec.session} keeps a persistent session's subscription and queues QoS 1 messages while the client is away`, async () => {
      const result = await scripts.run<{ first_connack: Connack; granted: number[]; sent: string[]; resumed_connack: Connack; queued: PahoMessage[] }>(
        'mqtt_paho_persistent_session.py',
        version,
        [uniqueName('paho-session')],
      );
      expect(result.first_connack).toEqual({ session_present: false, code: 0 });
      expect(result.granted).toEqual([1]);
      expect(result.resumed_connack).toEqual({ session_present: true, code: 0 });
      expect(result.queued.map(({ text, qos }) => ({ text, qos }))).toEqual(result.sent.map((text) => ({ text, qos: 1 })));
    });

    describe.runIf(version === 'v5')('request/response (MQTT 5 properties)', () => {
      interface RequestResponse {
        sent: { correlation_data_hex: string; user_properties: Array<[string, string]> };
        request: PahoMessage;
        reply: PahoMessage;
      }

      it('[MQTT-3.3.2-15][MQTT-3.3.2-16] forwards the Response Topic and binary Correlation Data unaltered, and the reply reaches the response topic', async () => {
        const prefix = uniqueName('paho-rr');
        const result = await scripts.run<RequestResponse>('mqtt_paho_request_response.py', version, [prefix]);
        expect(result.request).toMatchObject({ topic: `${prefix}/request`, text: '{"add":[2,3]}', qos: 1 });
        expect(result.request.properties.response_topic).toBe(`${prefix}/reply`);
        expect(result.request.properties.correlation_data_hex).toBe(result.sent.correlation_data_hex);
        expect(result.reply).toMatchObject({ topic: `${prefix}/reply`, text: '5' });
        expect(result.reply.properties.correlation_data_hex).toBe(result.sent.correlation_data_hex);
      });

      it('[MQTT-3.3.2-17][MQTT-3.3.2-18] forwards User Properties unaltered and in their order, a repeated name included', async () => {
        const result = await scripts.run<RequestResponse>('mqtt_paho_request_response.py', version, [uniqueName('paho-props')]);
        // Sent as trace=first, lang=python, trace=second: a broker that groups properties by name reorders them.
        expect(result.request.properties.user_properties).toEqual(result.sent.user_properties);
        expect(result.reply.properties.user_properties).toEqual([['handled-by', 'responder']]);
      });
    });
  });
});
