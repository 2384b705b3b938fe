import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MqttTestClients, receivedBeforeMarker, uniqueName } from '../support/mqtt-client.js';
import { startServer, type RunningServer } from '../support/server-process.js';

/** `$SYS/broker/...` (Mosquitto's names) as retained topics of the realm, and what clients may do with them. */
let server: RunningServer;
let clients: MqttTestClients;

beforeAll(async () => {
  server = await startServer();
  clients = new MqttTestClients(server.mqttUrl!, 5);
});

afterEach(async () => {
  await clients.closeAll();
});

afterAll(async () => {
  await server.stop();
});

describe('$SYS topics', () => {
  it('a subscriber of $SYS/broker/# gets the version, the uptime and the connected clients as retained messages', async () => {
    const observer = await clients.connect();
    await observer.client.subscribeAsync('$SYS/broker/#', { qos: 0 });
    const version = await observer.inbox.waitForMessage('$SYS/broker/version');
    expect(version.text).toMatch(/^fox-wamp \d+\.\d+\.\d+/);
    expect(version.retain).toBe(true);
    const uptime = await observer.inbox.waitForMessage('$SYS/broker/uptime');
    expect(uptime.text).toMatch(/^\d+ seconds$/);
    const connected = await observer.inbox.waitForMessage('$SYS/broker/clients/connected');
    expect(Number(connected.text)).toBeGreaterThanOrEqual(1);
  });

  it('# does not deliver $SYS topics (MQTT-4.7.2-1)', async () => {
    const observer = await clients.connect();
    const topic = uniqueName('plain');
    await observer.client.subscribeAsync({ '#': { qos: 1 } });
    const before = await receivedBeforeMarker(observer.client, observer.inbox, topic, { qos: 1 });
    expect(before.filter((message) => message.topic.startsWith('$'))).toEqual([]);
  });

  it('a client may not publish to $SYS: PUBACK 0x87, and subscribers never see it', async () => {
    const observer = await clients.connect();
    await observer.client.subscribeAsync('$SYS/broker/spoof', { qos: 1 });
    const spoofer = await clients.connect();
    const refused = await spoofer.client.publishAsync('$SYS/broker/spoof', 'fake', { qos: 1 }).then(
      () => undefined,
      (error: { code?: number }) => error.code,
    );
    expect(refused).toBe(0x87);
    expect(observer.inbox.items.filter((message) => message.topic === '$SYS/broker/spoof')).toEqual([]);
  });

  it("the router's hidden $fox topics: a SUBSCRIBE gets 0x87 for that filter (the others stand), a PUBLISH gets PUBACK 0x87", async () => {
    const client = await clients.connect();
    const topic = uniqueName('fine');
    await client.client.subscribeAsync({ '$fox/#': { qos: 1 }, [topic]: { qos: 1 } }).catch(() => undefined);
    const suback = (await client.packets.waitFor((packet) => packet.cmd === 'suback', 'the SUBACK')) as { granted: number[] };
    expect(suback.granted).toEqual([0x87, 1]);
    const refused = await client.client.publishAsync('$fox/aggregate/x', '{}', { qos: 1 }).then(
      () => undefined,
      (error: { code?: number }) => error.code,
    );
    expect(refused).toBe(0x87);
    await client.client.publishAsync(topic, 'still connected', { qos: 1 });
    expect((await client.inbox.waitForMessage(topic)).text).toBe('still connected');
  });
});
