import { afterEach, describe, expect, it } from 'vitest';
import { connectAutobahn, type AutobahnClient } from '../support/autobahn-client.js';
import { completeLines, jsonLogLines, waitForJsonLine, type JsonLogLine } from '../support/log-lines.js';
import { MqttTestClients, uniqueName } from '../support/mqtt-client.js';
import { connectPacket, RawMqttSocket } from '../support/raw-mqtt-socket.js';
import { RawWampClient, WampCode } from '../support/raw-wamp-client.js';
import { runServerToExit, startServer, type RunningServer } from '../support/server-process.js';

// The server's log: JSON lines when not on a terminal (or with --log-format json), Nest's readable lines with
// --log-format pretty; the lines the gates write carry the session (ID, realm, authid, protocol, remote
// address); --log-level decides what is written, and at info nothing is written per message.

const servers: RunningServer[] = [];
const autobahnClients: AutobahnClient[] = [];
const rawClients: { terminate(): void }[] = [];
let mqttClients: MqttTestClients | undefined;

afterEach(async () => {
  for (const client of rawClients.splice(0)) client.terminate();
  await Promise.all(autobahnClients.splice(0).map((client) => client.close().catch(() => undefined)));
  await mqttClients?.closeAll();
  mqttClients = undefined;
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** Starts the server with the default log format (`auto`: the test's pipe is no terminal), unless `args` say otherwise. */
async function server(args: readonly string[] = []): Promise<RunningServer> {
  const running = await startServer(args, { FOX_LOG_FORMAT: '' });
  servers.push(running);
  return running;
}

/** A raw WAMP client joined to realm1; resolves with it and its session ID from WELCOME. */
async function joinedRawClient(running: RunningServer): Promise<{ client: RawWampClient; sessionId: number }> {
  const client = await RawWampClient.connect(running.wampUrl);
  rawClients.push(client);
  client.send([WampCode.HELLO, 'realm1', { roles: { publisher: {}, subscriber: {} } }]);
  const welcome = await client.nextMessage();
  expect(welcome[0]).toBe(WampCode.WELCOME);
  return { client, sessionId: welcome[1] as number };
}

const isLoopback = (address: unknown) => address === '127.0.0.1' || address === '::ffff:127.0.0.1';

describe('log format', () => {
  it('without a terminal the default is one JSON object per line: level, timestamp, message, context', async () => {
    const running = await server();
    const lines = jsonLogLines(running);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      expect(typeof line.level).toBe('string');
      expect(typeof line.message).toBe('string');
      expect(Number.isInteger(line.timestamp)).toBe(true);
    }
    expect(lines).toContainEqual(expect.objectContaining({ level: 'log', context: 'FoxWamp', message: `listening wamp ${running.wampUrl}` }));
  });

  it('--log-format pretty: readable lines with the context in brackets, none of them JSON', async () => {
    const running = await server(['--log-format', 'pretty']);
    const lines = completeLines(running);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      expect(line).toMatch(/^\[Nest\] \d+ +- .+ (LOG|WARN|ERROR|DEBUG|VERBOSE|FATAL) \[\w+\] /);
      expect(line.startsWith('{')).toBe(false);
    }
    expect(lines.some((line) => line.endsWith(`[FoxWamp] listening wamp ${running.wampUrl}`))).toBe(true);
  });

  it('an unknown format is a one-line configuration error', async () => {
    const { code, stderr } = await runServerToExit(['--port', '0', '--log-format', 'xml']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^fox-wamp: .*--log-format.*auto, json, pretty.*\n$/);
  });
});

describe('per-session context and levels', () => {
  it('at info: hundreds of messages write no line, and the line a gate writes when it aborts a session names that session', async () => {
    const running = await server(['--log-format', 'json']);
    const publisher = await connectAutobahn(running.wampUrl, 'json');
    autobahnClients.push(publisher);
    mqttClients = new MqttTestClients(running.mqttUrl!, 5);
    const mqttPublisher = await mqttClients.connect();
    const topic = uniqueName('logging/flood');
    const before = completeLines(running).length;

    for (let i = 0; i < 200; i++) await publisher.session.publish('logging.flood', [i], {}, { acknowledge: true });
    for (let i = 0; i < 200; i++) await mqttPublisher.client.publishAsync(topic, String(i), { qos: 1 });
    // The marker: a protocol violation, which the WAMP gate logs at info.
    const { client, sessionId } = await joinedRawClient(running);
    client.send([WampCode.PUBLISH, 'not a request id', {}, 'logging.topic']);
    const aborted = await waitForJsonLine(running, (line) => line.message === 'aborting WAMP session', 'the abort of the bad session');

    expect(aborted).toMatchObject({ level: 'log', context: 'FoxWamp', session: sessionId, realm: 'realm1', authid: String(sessionId), protocol: 'wamp', transport: 'websocket' });
    expect(isLoopback(aborted.remoteAddress)).toBe(true);
    // Nothing but the marker since the clients connected: no line per message at info.
    expect(jsonLogLines(running).slice(before).map((line) => line.message)).toEqual(['aborting WAMP session']);
    expect(jsonLogLines(running).filter((line) => line.level === 'debug')).toEqual([]);
  });

  it('--log-level debug: sessions joining and MQTT protocol errors, each line with the session, realm, authid, protocol and address', async () => {
    const running = await server(['--log-format', 'json', '--log-level', 'debug']);
    const clientId = uniqueName('logging');
    const mqtt = await RawMqttSocket.connected(Number(new URL(running.mqttUrl!).port), { version: 4, clientId });
    rawClients.push({ terminate: () => mqtt.destroy() });
    const joined = await waitForJsonLine(running, (line) => line.message === 'session joined' && line.protocol === 'mqtt', 'the MQTT session joining');
    expect(joined).toMatchObject({ level: 'debug', realm: 'realm1', protocol: 'mqtt' });

    // A second CONNECT is a protocol error: the gate logs it (at debug) with the session it ends.
    mqtt.sendPacket(connectPacket(4, clientId));
    const failed = await waitForJsonLine(running, (line: JsonLogLine) => line.message === 'MQTT protocol error', 'the MQTT protocol error');
    expect(failed).toMatchObject({
      level: 'debug',
      session: joined.session,
      realm: 'realm1',
      protocol: 'mqtt',
      transport: 'tcp',
      clientId,
      reason: 'a second CONNECT (MQTT-3.1.0-2)',
    });
    expect(typeof failed.authid).toBe('string');
    expect(isLoopback(failed.remoteAddress)).toBe(true);
  });
});
