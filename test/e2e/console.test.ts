import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { craDeriveKey } from '@fox-wamp/core';
import { AdminConsole } from '../support/admin-console.js';
import { AutobahnClients, deferred, Inbox, refusalReasonOf, rejectionOf, withTimeout } from '../support/autobahn-client.js';
import { launchChromium } from '../support/headless-chromium.js';
import { MqttTestClients, uniqueName } from '../support/mqtt-client.js';
import { REPO_ROOT, runServerToExit, startServer, type RunningServer } from '../support/server-process.js';

// The admin console at /console, driven in headless Chromium (Debian's chromium through playwright-core) as an
// operator would use it, against the built server with WAMP (autobahn) and MQTT (MQTT.js) clients at work.
// `FOX_UPDATE_SCREENSHOT=1` also writes the dashboard's screenshot to docs/console.png (the README shows it).

const CONSOLE_REALM = 'fox.admin';
/** A screenshot for the README waits for 40 s of charted traffic. */
const UPDATE_SCREENSHOT = process.env.FOX_UPDATE_SCREENSHOT === '1';
const ADMIN = { authid: 'admin', ticket: 'admin-ticket' };
const ALICE = { authid: 'alice', ticket: 'alice-ticket' };
/** A WAMP-CRA user with a salted secret: the page derives the key with Web Crypto. */
const OPS = { authid: 'ops', password: 'ops-password', salt: 'console-salt' };

const USERS = [
  { authid: ADMIN.authid, ticket: ADMIN.ticket, role: 'admin' },
  { authid: ALICE.authid, ticket: ALICE.ticket, role: 'user' },
  { authid: OPS.authid, secret: craDeriveKey(OPS.password, OPS.salt), salt: OPS.salt, role: 'ops' },
];

let dir: string;
let browser: Browser;
let server: RunningServer;
const consoles: AdminConsole[] = [];
const wamp = new AutobahnClients(() => server.wampUrl);
let mqtt: MqttTestClients;

function configFile(name: string, config: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** The console page in a fresh browser context, logged in as the console user. */
async function loggedInConsole(target: RunningServer = server, user = ADMIN.authid, password = ADMIN.ticket): Promise<AdminConsole> {
  const adminConsole = await AdminConsole.open(browser, target.httpUrl);
  consoles.push(adminConsole);
  await adminConsole.login(user, password);
  return adminConsole;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fox-wamp-console-'));
  browser = await launchChromium();
  // Anonymous clients too: the clients under observation need no credentials.
  server = await startServer(['--config', configFile('console.json', { users: USERS, anonymous: true, console: { user: ADMIN.authid } })]);
  mqtt = new MqttTestClients(server.mqttUrl!, 5);
});

afterEach(async () => {
  await Promise.all(consoles.splice(0).map((adminConsole) => adminConsole.close()));
  await wamp.closeAll();
  await mqtt.closeAll();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('without a console user', () => {
  it('/console and its scripts are 404, and the console realm does not exist', async () => {
    const plain = await startServer(['--no-mqtt']);
    try {
      expect((await fetch(`${plain.httpUrl}/console`)).status).toBe(404);
      expect((await fetch(`${plain.httpUrl}/console/app/main.js`)).status).toBe(404);
      const health = (await (await fetch(`${plain.httpUrl}/health`)).json()) as { realms: string[] };
      expect(health.realms).toEqual(['realm1']);
    } finally {
      await plain.stop();
    }
  });
});

describe('configuration', () => {
  it('a console user that is not one of the users is a one-line error (exit 2)', async () => {
    const result = await runServerToExit(['--port', '0', '--no-mqtt', '--config', configFile('nobody.json', { users: USERS, console: { user: 'nobody' } })]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('fox-wamp: console user "nobody" is not one of the configured users');
  });

  it('a console user without a ticket or a wampcra secret is refused (the page could not log in)', async () => {
    const users = [{ authid: 'gina', pubkey: 'a'.repeat(64), role: 'admin' }];
    const result = await runServerToExit(['--port', '0', '--no-mqtt', '--config', configFile('gina.json', { users }), '--console', 'gina']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('console user "gina" needs a ticket or a wampcra secret');
  });
});

describe('login', () => {
  it('the page logs in with the console user\'s ticket and shows the console\'s own session, which it cannot kick', async () => {
    const adminConsole = await loggedInConsole();
    await expect.poll(() => adminConsole.page.locator('#whoami').textContent()).toBe(`admin @ ${CONSOLE_REALM}`);
    const own = adminConsole.page.locator(`#sessions-body tr[data-realm="${CONSOLE_REALM}"][data-authid="admin"]`);
    await own.waitFor();
    expect(await own.locator('td').nth(2).textContent()).toContain('WAMP · websocket · json');
    expect(await own.locator('button.kick').count()).toBe(0);
    expect(adminConsole.pageErrors).toEqual([]);
  });

  it('a wrong password is refused and the dashboard stays hidden', async () => {
    const adminConsole = await AdminConsole.open(browser, server.httpUrl);
    consoles.push(adminConsole);
    await adminConsole.submitLogin(ADMIN.authid, 'not-the-ticket');
    expect(await adminConsole.loginError()).toContain('wamp.error.authentication_denied');
    expect(await adminConsole.page.locator('#dashboard').isHidden()).toBe(true);
  });

  it('another configured user cannot log in to the console, even with a right ticket', async () => {
    const adminConsole = await AdminConsole.open(browser, server.httpUrl);
    consoles.push(adminConsole);
    await adminConsole.submitLogin(ALICE.authid, ALICE.ticket);
    expect(await adminConsole.loginError()).toContain('wamp.error.authentication_denied');
  });

  it('a WAMP-CRA console user (salted secret, given with --console) logs in with its password', async () => {
    const configPath = configFile('ops.json', { users: USERS });
    const opsServer = await startServer(['--no-mqtt', '--config', configPath, '--console', OPS.authid]);
    try {
      const adminConsole = await loggedInConsole(opsServer, OPS.authid, OPS.password);
      await adminConsole.page.locator(`#sessions-body tr[data-realm="${CONSOLE_REALM}"][data-authid="ops"]`).waitFor();
    } finally {
      await opsServer.stop();
    }
  });
});

describe('the console realm', () => {
  it('admits nobody but the console user: anonymous and other users are refused, over WAMP and MQTT', async () => {
    expect(await refusalReasonOf(server.wampUrl, { realm: CONSOLE_REALM })).toBe('wamp.error.authentication_denied');
    const alice = { realm: CONSOLE_REALM, authmethods: ['ticket'], authid: ALICE.authid, onchallenge: () => ALICE.ticket };
    expect(await refusalReasonOf(server.wampUrl, alice)).toBe('wamp.error.authentication_denied');
    // An anonymous client claiming the console user's authid is anonymous all the same.
    expect(await refusalReasonOf(server.wampUrl, { realm: CONSOLE_REALM, authmethods: ['anonymous'], authid: ADMIN.authid })).toBe('wamp.error.authentication_denied');
    await expect(mqtt.connect({ username: `${ALICE.authid}@${CONSOLE_REALM}`, password: ALICE.ticket })).rejects.toThrow();
  });

  it('its procedures exist only there: a client of another realm cannot call them', async () => {
    const client = await wamp.connect('json');
    const error = await rejectionOf(client.session.call('fox.admin.snapshot'));
    expect(error.error).toBe('wamp.error.no_such_procedure');
  });
});

describe('live view', () => {
  it('a WAMP client appears with its subscription and registration (concurrency), and disappears when it leaves', async () => {
    const adminConsole = await loggedInConsole();
    const client = await wamp.connect('json');
    const topic = `com.console.${uniqueName('news')}`;
    const procedure = `com.console.${uniqueName('add')}`;
    await client.session.subscribe(topic, () => {});
    await client.session.register(procedure, (args) => (args[0] as number) + (args[1] as number), { concurrency: 3 });

    const row = adminConsole.sessionRow('realm1', client.session.id);
    await row.locator('.subscriptions .chip', { hasText: topic }).waitFor();
    await row.locator('.registrations .chip', { hasText: procedure }).waitFor();
    expect(await row.locator('td').nth(2).textContent()).toContain('WAMP · websocket · json');
    expect(await row.locator('td').nth(4).textContent()).toBe('127.0.0.1');

    const topicRow = adminConsole.topicRow('realm1', topic);
    await topicRow.waitFor();
    expect(await topicRow.locator('td').nth(3).textContent()).toBe('1');
    const registrationRow = adminConsole.registrationRow('realm1', procedure);
    await registrationRow.waitFor();
    // Callees, concurrency, in flight, queued.
    expect(await registrationRow.locator('td').nth(4).textContent()).toBe('1');
    expect(await registrationRow.locator('td').nth(5).textContent()).toBe('3');

    await client.close();
    await row.waitFor({ state: 'detached' });
    await topicRow.waitFor({ state: 'detached' });
    await registrationRow.waitFor({ state: 'detached' });
  });

  it('an MQTT.js client appears as MQTT with its client id and its subscription (an MQTT filter)', async () => {
    const adminConsole = await loggedInConsole();
    const clientId = uniqueName('sensor');
    const prefix = uniqueName('plant');
    const { client } = await mqtt.connect({ clientId });
    await client.subscribeAsync(`${prefix}/+/temp`);

    const row = adminConsole.mqttSessionRow(clientId);
    await row.locator('.subscriptions .chip', { hasText: `${prefix}..temp` }).waitFor();
    expect(await row.locator('td').nth(2).textContent()).toContain('MQTT · tcp');
    expect(await row.locator('td').nth(3).textContent()).toContain(`client ${clientId}`);
    await adminConsole.topicRow('realm1', `${prefix}..temp`).waitFor();
  });

  it('calls in flight show at their caller, their callee and their registration (with the queued one) until answered', async () => {
    const adminConsole = await loggedInConsole();
    const callee = await wamp.connect('json');
    const caller = await wamp.connect('json');
    const procedure = `com.console.${uniqueName('slow')}`;
    const invoked = new Inbox<unknown>();
    const release = deferred<string>();
    await callee.session.register(
      procedure,
      (args) => {
        invoked.push(args[0]);
        return release.promise;
      },
      { concurrency: 1 },
    );
    // Settled into values, so a test that fails early leaves no unhandled rejection behind.
    const first = Promise.resolve(caller.session.call(procedure, ['first'])).catch((error: unknown) => error);
    const second = Promise.resolve(caller.session.call(procedure, ['second'])).catch((error: unknown) => error);
    await invoked.waitFor(1);

    // Sessions: "calls out / in" is column 7; registrations: in flight 6, queued 7.
    const callerRow = adminConsole.sessionRow('realm1', caller.session.id);
    const calleeRow = adminConsole.sessionRow('realm1', callee.session.id);
    const registrationRow = adminConsole.registrationRow('realm1', procedure);
    await adminConsole.waitForCell(callerRow, 7, '2 / 0');
    await adminConsole.waitForCell(calleeRow, 7, '0 / 1');
    await adminConsole.waitForCell(registrationRow, 6, '1');
    await adminConsole.waitForCell(registrationRow, 7, '1');

    release.resolve('done');
    expect(await first).toBe('done');
    expect(await second).toBe('done');
    await adminConsole.waitForCell(callerRow, 7, '0 / 0');
    await adminConsole.waitForCell(calleeRow, 7, '0 / 0');
    await adminConsole.waitForCell(registrationRow, 6, '0');
    await adminConsole.waitForCell(registrationRow, 7, '0');
  });

  it('a session that joins before the login is in the snapshot', async () => {
    const client = await wamp.connect('msgpack');
    const adminConsole = await loggedInConsole();
    expect(await adminConsole.sessionRow('realm1', client.session.id).locator('td').nth(2).textContent()).toContain('msgpack');
  });
});

describe('kick', () => {
  it('kicking a WAMP session ends it with wamp.close.killed and its row goes', async () => {
    const adminConsole = await loggedInConsole();
    const client = await wamp.connect('json');
    const row = adminConsole.sessionRow('realm1', client.session.id);
    await adminConsole.kick(row);
    const closed = await withTimeout(client.closed, 5_000, 'the kicked client to close');
    expect(closed.details.reason).toBe('wamp.close.killed');
    await row.waitFor({ state: 'detached' });
  });

  it('kicking an MQTT 5 session disconnects its client with 0x98 (administrative action) and its row goes', async () => {
    const adminConsole = await loggedInConsole();
    const clientId = uniqueName('kicked');
    const connected = await mqtt.connect({ clientId });
    const row = adminConsole.mqttSessionRow(clientId);
    await adminConsole.kick(row);
    const disconnect = await connected.packets.waitFor((packet) => packet.cmd === 'disconnect', 'a DISCONNECT from the broker', 5_000);
    expect(disconnect).toMatchObject({ cmd: 'disconnect', reasonCode: 0x98 });
    await withTimeout(connected.closed, 5_000, 'the kicked MQTT connection to close');
    await row.waitFor({ state: 'detached' });
  });
});

describe('retained keys', () => {
  it('the browser lists WAMP and MQTT retained keys with their values; deleting one removes it for everyone', async () => {
    const base = uniqueName('state');
    const client = await wamp.connect('json');
    await client.session.publish(`${base}.door`, [], { open: true, by: 'alice' }, { retain: true, acknowledge: true });
    const watcher = await mqtt.connect();
    await watcher.client.publishAsync(`${base}/temp`, '21.5', { retain: true, qos: 1 });
    await watcher.client.subscribeAsync(`${base}/#`, { qos: 1 });
    // The subscription's retained replay: both keys are stored before the console looks.
    await watcher.inbox.waitForMessage(`${base}/door`);
    await watcher.inbox.waitForMessage(`${base}/temp`);

    const adminConsole = await loggedInConsole();
    await adminConsole.browseRetained('realm1', `${base}.#`);
    await adminConsole.retainedRow(`${base}.door`).waitFor();
    expect(await adminConsole.retainedRow(`${base}.door`).locator('td').nth(1).textContent()).toBe('{"open":true,"by":"alice"}');
    expect(await adminConsole.retainedRow(`${base}.temp`).locator('td').nth(1).textContent()).toBe('21.5');
    expect(await adminConsole.viewRetained(`${base}.door`)).toContain('"open": true');

    // The same keys through an MQTT filter.
    await adminConsole.browseRetained('realm1', `${base}/+`);
    await adminConsole.retainedRow(`${base}.temp`).waitFor();
    expect(await adminConsole.page.locator('#retained-body tr').count()).toBe(2);

    await adminConsole.deleteRetained(`${base}.door`);
    // The deletion is a retained publish with an empty payload: MQTT subscribers see it as one.
    const deletion = await watcher.inbox.waitFor((message) => message.topic === `${base}/door` && message.payload.length === 0, 'the deletion of the door key');
    expect(deletion.payload.length).toBe(0);
    await adminConsole.retainedRow(`${base}.door`).waitFor({ state: 'detached' });
    await adminConsole.retainedRow(`${base}.temp`).waitFor();

    // And it is gone from the store: a new subscriber's replay holds only the other key, then the marker.
    const late = await mqtt.connect();
    await late.client.subscribeAsync(`${base}/#`, { qos: 1 });
    await late.inbox.waitForMessage(`${base}/temp`);
    await watcher.client.publishAsync(`${base}/marker`, 'end', { qos: 1 });
    const replay = await late.inbox.before((message) => message.topic === `${base}/marker`, 'the marker');
    expect(replay.map((message) => message.topic)).toEqual([`${base}/temp`]);
  });
});

describe('rates', () => {
  it('publications and calls flowing show as rates of their realm, of the topic that carries them, and in the charts', async () => {
    const adminConsole = await loggedInConsole();
    const publisher = await wamp.connect('json');
    const subscriber = await mqtt.connect({ clientId: uniqueName('thermostat') });
    const topic = uniqueName('plant');
    await subscriber.client.subscribeAsync(`${topic}/+/temp`);
    await subscriber.client.publishAsync(`${topic}/status`, JSON.stringify({ online: true, firmware: '1.4.2' }), { retain: true, qos: 1 });
    const callee = await wamp.connect('cbor');
    await callee.session.register(`${topic}.setpoint`, (args) => args[0], { concurrency: 4 });

    // Traffic until the page has charted a few seconds of it and the realm row shows a rate above zero.
    let flowing = true;
    const traffic = (async () => {
      for (let n = 0; flowing; n++) {
        await publisher.session.publish(`${topic}.boiler.temp`, [{ celsius: 60 + (n % 10) / 10 }], {}, { acknowledge: true, retain: true });
        await publisher.session.call(`${topic}.setpoint`, [n % 30]);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await adminConsole.waitForRateSamples(3);
      // The realm's publications per second.
      await adminConsole.waitForPositive(adminConsole.realmRow('realm1').locator('td').nth(5));
      // The MQTT subscription's own events per second, in the topics table.
      await adminConsole.waitForPositive(adminConsole.topicRow('realm1', `${topic}..temp`).locator('td').nth(4));
      await adminConsole.browseRetained('realm1', `${topic}.#`);
      await adminConsole.retainedRow(`${topic}.status`).waitFor();
      if (UPDATE_SCREENSHOT) {
        await adminConsole.waitForRateSamples(40);
        mkdirSync(join(REPO_ROOT, 'docs'), { recursive: true });
        await adminConsole.page.screenshot({ path: join(REPO_ROOT, 'docs', 'console.png'), fullPage: true });
      }
    } finally {
      flowing = false;
      await traffic;
    }
    const screenshot = await adminConsole.page.screenshot({ fullPage: true });
    expect(screenshot.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(adminConsole.pageErrors).toEqual([]);
  }, UPDATE_SCREENSHOT ? 90_000 : undefined);
});
