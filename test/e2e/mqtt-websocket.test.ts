import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MqttTestClients, uniqueName } from '../support/mqtt-client.js';
import { startServer, type RunningServer } from '../support/server-process.js';

/** MQTT over WebSocket on the HTTP port (MQTT 5 section 6), next to WAMP on the same port. */
let server: RunningServer;
const open: MqttTestClients[] = [];

beforeAll(async () => {
  server = await startServer(['--mqtt-ws-path', '/mqtt']);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((clients) => clients.closeAll()));
});

afterAll(async () => {
  await server.stop();
});

describe.each([4, 5] as const)('MQTT %i over WebSocket', (version) => {
  it('publishes and subscribes at QoS 0, 1 and 2 through ws://host:port/mqtt, and reaches TCP clients', async () => {
    const ws = new MqttTestClients(server.mqttWsUrl!, version);
    const tcp = new MqttTestClients(server.mqttUrl!, version);
    open.push(ws, tcp);
    const topic = uniqueName('ws');
    const webSubscriber = await ws.connect();
    const tcpSubscriber = await tcp.connect();
    await webSubscriber.client.subscribeAsync(topic, { qos: 2 });
    await tcpSubscriber.client.subscribeAsync(topic, { qos: 2 });
    const publisher = await ws.connect();
    for (const qos of [0, 1, 2] as const) await publisher.client.publishAsync(topic, `q${qos}`, { qos });
    for (const subscriber of [webSubscriber, tcpSubscriber]) {
      const messages = await subscriber.inbox.waitForCount(3);
      expect(messages.map((message) => [message.text, message.qos])).toEqual([
        ['q0', 0],
        ['q1', 1],
        ['q2', 2],
      ]);
    }
  });
});

describe('the WebSocket handshake', () => {
  it('refuses a client that does not offer the mqtt subprotocol (MQTT-6.0.0-3), with HTTP 400', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(server.mqttWsUrl!, ['wamp.2.json']);
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => reject(new Error('the handshake succeeded')));
      socket.on('error', () => undefined);
    });
    expect(status).toBe(400);
  });

  it('answers with the subprotocol mqtt (MQTT-6.0.0-4)', async () => {
    const protocol = await new Promise<string>((resolve, reject) => {
      const socket = new WebSocket(server.mqttWsUrl!, ['mqtt']);
      socket.on('open', () => {
        resolve(socket.protocol);
        socket.close();
      });
      socket.on('error', reject);
    });
    expect(protocol).toBe('mqtt');
  });
});
