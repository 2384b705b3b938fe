import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { craDeriveKey, craSign, type RealmRoles } from '@fox-wamp/core';
import { AutobahnClients, Inbox as WampInbox } from '../support/autobahn-client.js';
import { MqttTestClients, publishAcked, receivedBeforeMarker, uniqueName } from '../support/mqtt-client.js';
import { startServer, type RunningServer } from '../support/server-process.js';

/**
 * MQTT clients authenticate with the router's own users and are authorized by the same roles as WAMP
 * clients: username/password is a ticket, or the password of a WAMP-CRA user (plain or salted secret).
 */
const ROLES: RealmRoles = {
  realm1: {
    sensor: [
      { uri: 'plant.', match: 'prefix', allow: { publish: true } },
      { uri: 'plant.commands', allow: { subscribe: true } },
    ],
    viewer: [{ uri: 'plant.', match: 'prefix', allow: { subscribe: true } }],
    admin: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }],
  },
};

const CONFIG = {
  users: [
    { authid: 'sensor1', ticket: 'sensor1-ticket', role: 'sensor' },
    { authid: 'admin', ticket: 'admin-ticket', role: 'admin' },
    { authid: 'viewer', secret: 'viewer-password', role: 'viewer' },
    { authid: 'salted', secret: craDeriveKey('salted-password', 'pepper', 1000, 32), salt: 'pepper', iterations: 1000, keylen: 32, role: 'viewer' },
  ],
  roles: ROLES,
};

let dir: string;
let server: RunningServer;
const wamp = new AutobahnClients(() => server.wampUrl);
let v5: MqttTestClients;
let v4: MqttTestClients;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mqtt-auth-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(CONFIG));
  server = await startServer(['--config', path]);
  v5 = new MqttTestClients(server.mqttUrl!, 5);
  v4 = new MqttTestClients(server.mqttUrl!, 4);
});

afterEach(async () => {
  await v5.closeAll();
  await v4.closeAll();
  await wamp.closeAll();
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The CONNACK code a connection attempt gets (0 = accepted). */
async function connackCode(clients: MqttTestClients, username: string | undefined, password: string | undefined): Promise<number> {
  const raw = await clients.raw();
  const connack = await raw.connect({ clientId: uniqueName('auth'), ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password: Buffer.from(password) }) });
  return connack.reasonCode ?? connack.returnCode ?? 0;
}

describe('MQTT authentication with the router users', () => {
  it('a ticket user connects with its ticket as password; a wrong one gets 0x86 (v5) / 4 (3.1.1)', async () => {
    expect(await connackCode(v5, 'sensor1', 'sensor1-ticket')).toBe(0);
    expect(await connackCode(v5, 'sensor1', 'wrong')).toBe(0x86);
    expect(await connackCode(v4, 'sensor1', 'wrong')).toBe(4);
  });

  it('a WAMP-CRA user connects with its password, plain or salted; a wrong one is refused', async () => {
    expect(await connackCode(v5, 'viewer', 'viewer-password')).toBe(0);
    expect(await connackCode(v5, 'salted', 'salted-password')).toBe(0);
    expect(await connackCode(v5, 'viewer', 'salted-password')).toBe(0x86);
    expect(await connackCode(v4, 'salted', 'nope')).toBe(4);
  });

  it('without a username (anonymous is off when users are configured) the client is refused: 0x87 / 5', async () => {
    expect(await connackCode(v5, undefined, undefined)).toBe(0x87);
    expect(await connackCode(v4, undefined, undefined)).toBe(5);
  });

  it('an unknown user is refused', async () => {
    expect(await connackCode(v5, 'mallory', 'x')).toBe(0x86);
  });

  it('the MQTT session shows up in the WAMP meta API with its authid, role and protocol', async () => {
    await v5.connect({ username: 'sensor1', password: Buffer.from('sensor1-ticket') });
    const admin = await wamp.connect('json', 'realm1', { authmethods: ['ticket'], authid: 'admin', onchallenge: () => 'admin-ticket' });
    const ids = (await admin.session.call('wamp.session.list')) as number[];
    const infos = await Promise.all(ids.map((id) => admin.session.call('wamp.session.get', [id]) as Promise<Record<string, unknown>>));
    const mqttSession = infos.find((info) => info.authid === 'sensor1');
    expect(mqttSession).toMatchObject({ authrole: 'sensor', authmethod: 'ticket', authprovider: 'static', transport: { type: 'tcp', protocol: 'mqtt' } });
  });
});

describe('MQTT authorization with the router roles', () => {
  it('SUBACK says 0x87 (v5) / 0x80 (3.1.1) for a filter the role may not subscribe to, and grants the allowed one', async () => {
    const sensor = await v5.connect({ username: 'sensor1', password: Buffer.from('sensor1-ticket') });
    // MQTT.js rejects a SUBSCRIBE with any failure code, so the SUBACK is read from the packet log.
    await sensor.client.subscribeAsync({ 'plant/commands': { qos: 1 }, 'plant/secrets': { qos: 1 } }).catch(() => undefined);
    const suback = (await sensor.packets.waitFor((packet) => packet.cmd === 'suback', 'the SUBACK')) as { granted: number[] };
    expect(suback.granted).toEqual([1, 0x87]);
    const legacy = await v4.connect({ username: 'sensor1', password: Buffer.from('sensor1-ticket') });
    await legacy.client.subscribeAsync({ 'plant/commands': { qos: 1 }, 'plant/#': { qos: 1 } }).catch(() => undefined);
    const legacySuback = (await legacy.packets.waitFor((packet) => packet.cmd === 'suback', 'the SUBACK')) as { granted: number[] };
    expect(legacySuback.granted).toEqual([1, 0x80]);
  });

  it('a publish the role may not make gets PUBACK 0x87 and reaches nobody; an allowed one reaches WAMP and MQTT subscribers', async () => {
    const viewer = await v5.connect({ username: 'viewer', password: Buffer.from('viewer-password') });
    // plant/line1/# (plant.line1.#) is covered by the prefix plant.; plant/# is not: it also matches plant itself.
    await viewer.client.subscribeAsync('plant/line1/#', { qos: 1 });
    const wampViewer = await wamp.connect('json', 'realm1', { authmethods: ['wampcra'], authid: 'viewer', onchallenge: (_s: unknown, _m: string, extra: { challenge: string }) => craSign('viewer-password', extra.challenge) });
    const inbox = new WampInbox<unknown[]>();
    await wampViewer.session.subscribe('plant.line1.', (args) => inbox.push(args ?? []), { match: 'prefix' });
    const sensor = await v5.connect({ username: 'sensor1', password: Buffer.from('sensor1-ticket') });
    const allowed = await publishAcked(sensor, 'plant/line1/temp', '21', { qos: 1 });
    expect(allowed.reasonCode ?? 0).toBe(0);
    const refused = await publishAcked(viewer, 'plant/line1/temp', '99', { qos: 1 }).catch((error: { code?: number }) => ({ reasonCode: error.code }));
    expect(refused.reasonCode).toBe(0x87);
    const before = await receivedBeforeMarker(sensor.client, viewer.inbox, 'plant/line1/marker', { qos: 1 });
    expect(before.map((message) => message.text)).toEqual(['21']);
    expect((await inbox.waitFor(1))[0]).toEqual([21]);
  });
});

