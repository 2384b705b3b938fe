import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InformationSchemaJson } from '@fox-wamp/core';
import { AutobahnClients, connectAutobahn, rejectionOf, type AutobahnClient, type AutobahnResult } from '../support/autobahn-client.js';
import { subscribeEvents } from '../support/autobahn-events.js';
import { startDemo } from '../support/demo-process.js';
import { MqttTestClients } from '../support/mqtt-client.js';
import { eventValue, retainedView } from '../support/retained-view.js';
import { runServerToExit, startServer, type RunningServer } from '../support/server-process.js';

// The aggregate engine on the server's topics: an information schema (config file, or `fox.schema.define`)
// declares tables; rows published on a table's topic are validated and upserted, and every view row they
// change is published as a retained event on `<table>.<key…>`. Against the built server, with autobahn and
// (for the bridge) MQTT.js.

/** The seed README's invoice → per-customer totals, made to work: numeric amounts, invoices keyed by number. */
const INVOICES: InformationSchemaJson = {
  invoice: {
    type: 'object',
    properties: {
      number: { type: 'integer' },
      date: { type: 'string' },
      customer: { type: 'string' },
      amount: { type: 'number' },
      type: { enum: ['sale', 'refund'] },
    },
    required: ['number', 'customer', 'type'],
    additionalProperties: false,
    primary_key: ['number'],
    propagate: {
      detail: [{ key: ['customer'], fields: { total: 'amount', invoices: { count: '*' } }, filter: { type: 'sale' } }],
    },
  },
  detail: { type: 'aggregate', primary_key: ['customer'], sum: ['total'] },
};

/** Orders → per-customer totals → per-region totals: a two-level chain. */
const REGIONS: InformationSchemaJson = {
  order: {
    type: 'object',
    properties: { id: { type: 'integer' }, region: { type: 'string' }, customer: { type: 'string' }, amount: { type: 'integer' } },
    required: ['id', 'region', 'customer', 'amount'],
    primary_key: ['id'],
    propagate: { customer_total: [{ key: ['region', 'customer'], fields: { total: { sum: 'amount' } } }] },
  },
  customer_total: {
    type: 'aggregate',
    primary_key: ['region', 'customer'],
    propagate: { region_total: [{ key: ['region'], fields: { total: { sum: 'total' }, customers: { count: '*' }, best: { max: 'total' } } }] },
  },
  region_total: { type: 'aggregate', primary_key: ['region'] },
};

const tempDirs: string[] = [];
const servers: RunningServer[] = [];
const clientSets: AutobahnClients[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fox-aggregate-'));
  tempDirs.push(dir);
  return dir;
}

/** A config file holding `schema`, for `--config`. */
function configWithSchema(schema: InformationSchemaJson): string {
  const path = join(tempDir(), 'fox.json');
  writeFileSync(path, JSON.stringify({ schema }));
  return path;
}

async function start(args: string[]): Promise<{ server: RunningServer; clients: AutobahnClients }> {
  const server = await startServer(args);
  servers.push(server);
  const clients = new AutobahnClients(() => server.wampUrl);
  clientSets.push(clients);
  return { server, clients };
}

async function stop(server: RunningServer): Promise<void> {
  servers.splice(servers.indexOf(server), 1);
  for (const set of clientSets.splice(0)) await set.closeAll();
  expect(await server.stop()).toBe(0);
}

afterAll(async () => {
  for (const set of clientSets.splice(0)) await set.closeAll();
  for (const server of servers.splice(0)) await server.stop('SIGKILL');
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Publishes a row (or, without one, a delete) with acknowledge; resolves to the publication ID. */
async function publishRow(client: AutobahnClient, topic: string, row?: Record<string, unknown>): Promise<number> {
  const publication = await (row === undefined
    ? client.session.publish(topic, [], {}, { acknowledge: true })
    : client.session.publish(topic, [], row, { acknowledge: true }));
  return publication!.id;
}

/** The rows of a table as a new subscriber gets them, by topic. */
function rowsOf(client: AutobahnClient, table: string): Promise<Map<string, unknown>> {
  return retainedView(client.session, `${table}.#`);
}

describe('invoices → per-customer totals (schema from the config file)', () => {
  let server: RunningServer;
  let clients: AutobahnClients;

  beforeAll(async () => {
    ({ server, clients } = await start(['--config', configWithSchema(INVOICES)]));
  });

  afterEach(async () => {
    await clients.closeAll();
  });

  it('keeps the totals through inserts, updates of the amount and of the customer, deletes and the filter', async () => {
    const [clerk, watcher] = await clients.connectMany('json', 2);
    const { events } = await subscribeEvents(watcher.session, 'detail.#', { get_retained: true });
    const changes: string[] = [];
    const expectChanges = async (...expected: string[]) => {
      changes.push(...expected);
      const received = await events.waitFor(changes.length);
      expect(received.map((event) => `${event.topic} ${JSON.stringify(eventValue(event))}`)).toEqual(changes);
    };

    await publishRow(clerk, 'invoice', { number: 1, customer: 'alice', amount: 100, type: 'sale' });
    await expectChanges('detail.alice {"customer":"alice","total":100,"invoices":1}');
    await publishRow(clerk, 'invoice', { number: 2, customer: 'alice', amount: 50, type: 'sale', date: '2024-06-01' });
    await expectChanges('detail.alice {"customer":"alice","total":150,"invoices":2}');
    await publishRow(clerk, 'invoice', { number: 3, customer: 'bob', amount: 70, type: 'sale' });
    await expectChanges('detail.bob {"customer":"bob","total":70,"invoices":1}');
    // The filter: a refund is an invoice, but not a sale.
    await publishRow(clerk, 'invoice', { number: 4, customer: 'bob', amount: 30, type: 'refund' });
    // An update of the amount, on the row's own topic.
    await publishRow(clerk, 'invoice.2', { number: 2, customer: 'alice', amount: 80, type: 'sale' });
    await expectChanges('detail.alice {"customer":"alice","total":180,"invoices":2}');
    // An update of the customer moves the contribution.
    await publishRow(clerk, 'invoice', { number: 1, customer: 'bob', amount: 100, type: 'sale' });
    await expectChanges('detail.alice {"customer":"alice","total":80,"invoices":1}', 'detail.bob {"customer":"bob","total":170,"invoices":2}');
    // The refund becomes a sale: it starts to count.
    await publishRow(clerk, 'invoice', { number: 4, customer: 'bob', amount: 30, type: 'sale' });
    await expectChanges('detail.bob {"customer":"bob","total":200,"invoices":3}');
    // Deleting alice's last sale deletes her row: an empty event, and no retained entry.
    await publishRow(clerk, 'invoice.2');
    await expectChanges('detail.alice undefined');

    expect(events.items.every((event) => !event.retained)).toBe(true);
    expect(await rowsOf(clerk, 'detail')).toEqual(new Map([['detail.bob', { customer: 'bob', total: 200, invoices: 3 }]]));
    expect(await rowsOf(clerk, 'invoice')).toEqual(
      new Map([
        ['invoice.1', { number: 1, customer: 'bob', amount: 100, type: 'sale' }],
        ['invoice.3', { number: 3, customer: 'bob', amount: 70, type: 'sale' }],
        ['invoice.4', { number: 4, customer: 'bob', amount: 30, type: 'sale' }],
      ]),
    );
  });

  it('refuses invalid rows with wamp.error.invalid_argument and the validation messages, and writes nothing', async () => {
    const [clerk, watcher] = await clients.connectMany('json', 2);
    await publishRow(clerk, 'invoice', { number: 100, customer: 'carol', amount: 5, type: 'sale' });
    const { events } = await subscribeEvents(watcher.session, 'detail.carol');

    const invalid = await rejectionOf(clerk.session.publish('invoice', [], { number: 'one hundred and one', amount: '5', note: 'x' }, { acknowledge: true }));
    expect(invalid.error).toBe('wamp.error.invalid_argument');
    expect(invalid.args[0]).toMatch(/^invalid invoice row: /);
    expect(invalid.kwargs).toEqual({
      table: 'invoice',
      errors: expect.arrayContaining([
        { path: '', message: "must have required property 'customer'" },
        { path: '', message: "must have required property 'type'" },
        { path: '', message: 'must NOT have additional properties ("note")' },
        { path: '/number', message: 'must be integer' },
        { path: '/amount', message: 'must be number' },
      ]),
    });
    const refusals = [
      // The aggregate tables are the engine's to write.
      rejectionOf(clerk.session.publish('detail.carol', [], { customer: 'carol', total: 1e6, invoices: 1 }, { acknowledge: true })),
      // A row on another row's topic.
      rejectionOf(clerk.session.publish('invoice.100', [], { number: 101, customer: 'carol', amount: 1, type: 'sale' }, { acknowledge: true })),
      // A topic below a table that is not a row's.
      rejectionOf(clerk.session.publish('invoice.100.lines', [], { number: 100, customer: 'carol', amount: 1, type: 'sale' }, { acknowledge: true })),
      // A delete needs the row's key.
      rejectionOf(clerk.session.publish('invoice', [], {}, { acknowledge: true })),
      // Rows are not conditional.
      rejectionOf(clerk.session.publish('invoice', [], { number: 100, customer: 'carol', amount: 9, type: 'sale' }, { acknowledge: true, when: null })),
    ];
    for (const refusal of await Promise.all(refusals)) expect(refusal.error).toBe('wamp.error.invalid_argument');

    // Nothing changed: carol's total is still 5, and no event was published meanwhile.
    await publishRow(clerk, 'invoice', { number: 102, customer: 'carol', amount: 1, type: 'sale' });
    const received = await events.waitFor(1);
    expect(received.map(eventValue)).toEqual([{ customer: 'carol', total: 6, invoices: 2 }]);
    expect((await rowsOf(clerk, 'invoice')).has('invoice.101')).toBe(false);
  });

  it('sends MQTT subscribers the rows as JSON (current view first, retained), and takes rows published over MQTT', async () => {
    const [clerk] = await clients.connectMany('json', 1);
    await publishRow(clerk, 'invoice', { number: 200, customer: 'dave', amount: 12.5, type: 'sale' });
    const mqtt = new MqttTestClients(server.mqttUrl!, 5);
    try {
      const { client, inbox } = await mqtt.connect();
      await client.subscribeAsync('detail/dave', { qos: 1 });
      const current = await inbox.waitForMessage('detail/dave');
      expect(current.retain).toBe(true);
      expect(JSON.parse(current.text)).toEqual({ customer: 'dave', total: 12.5, invoices: 1 });

      // A row published over MQTT: validated and aggregated like any other.
      await client.publishAsync('invoice', JSON.stringify({ number: 201, customer: 'dave', amount: 7.5, type: 'sale' }), { qos: 1 });
      const live = await inbox.waitForMessage('detail/dave', JSON.stringify({ customer: 'dave', total: 20, invoices: 2 }));
      expect(live.retain).toBe(false);
      expect((await rowsOf(clerk, 'invoice')).get('invoice.201')).toEqual({ number: 201, customer: 'dave', amount: 7.5, type: 'sale' });
    } finally {
      await mqtt.closeAll();
    }
  });

  it('keeps the bookkeeping out of reach: no replay shows it, and nobody may subscribe to it or publish there', async () => {
    const [clerk] = await clients.connectMany('json', 1);
    await publishRow(clerk, 'invoice', { number: 300, customer: 'erin', amount: 3, type: 'sale' });
    const everything = await retainedView(clerk.session, '#');
    expect([...everything.keys()].filter((topic) => !/^(invoice|detail)\./.test(topic))).toEqual([]);
    expect(everything.get('detail.erin')).toEqual({ customer: 'erin', total: 3, invoices: 1 });

    for (const [topic, options] of [
      ['$fox.aggregate.detail.erin', {}],
      ['$fox', { match: 'prefix' }],
      ['$f', { match: 'prefix' }],
    ] as const) {
      expect((await rejectionOf(clerk.session.subscribe(topic, () => {}, { ...options, get_retained: true }))).error).toBe('wamp.error.invalid_uri');
    }
    const hiddenWrite = await rejectionOf(clerk.session.publish('$fox.aggregate.detail.erin', [{ row: {}, state: {} }], {}, { acknowledge: true }));
    expect(hiddenWrite.error).toBe('wamp.error.invalid_uri');
  });
});

describe('a two-level chain defined at runtime, on the SQLite store', () => {
  it('propagates orders to customer totals to region totals, and keeps schema and views across a restart', async () => {
    const dbPath = join(tempDir(), 'views.db');
    const first = await start(['--store', `sqlite:${dbPath}`]);
    const [admin, clerk] = await first.clients.connectMany('json', 2);
    const defined = (await admin.session.call('fox.schema.define', [REGIONS])) as AutobahnResult;
    expect(defined.kwargs).toEqual({ tables: ['order', 'customer_total', 'region_total'] });
    // The same schema again is fine (a service may define it at every start); another one is not.
    await admin.session.call('fox.schema.define', [REGIONS]);
    expect((await rejectionOf(admin.session.call('fox.schema.define', [INVOICES]))).error).toBe('wamp.error.invalid_argument');

    await publishRow(clerk, 'order', { id: 1, region: 'north', customer: 'ann', amount: 10 });
    await publishRow(clerk, 'order', { id: 2, region: 'north', customer: 'ann', amount: 5 });
    await publishRow(clerk, 'order', { id: 3, region: 'north', customer: 'ben', amount: 20 });
    await publishRow(clerk, 'order', { id: 4, region: 'south', customer: 'cid', amount: 7 });
    // ann moves south with her first order.
    await publishRow(clerk, 'order', { id: 1, region: 'south', customer: 'ann', amount: 10 });
    const regionsBefore = await rowsOf(clerk, 'region_total');
    expect(regionsBefore).toEqual(
      new Map([
        ['region_total.north', { region: 'north', total: 25, customers: 2, best: 20 }],
        ['region_total.south', { region: 'south', total: 17, customers: 2, best: 10 }],
      ]),
    );
    const customersBefore = await rowsOf(clerk, 'customer_total');
    expect(customersBefore).toEqual(
      new Map([
        ['customer_total.north.ann', { region: 'north', customer: 'ann', total: 5 }],
        ['customer_total.north.ben', { region: 'north', customer: 'ben', total: 20 }],
        ['customer_total.south.ann', { region: 'south', customer: 'ann', total: 10 }],
        ['customer_total.south.cid', { region: 'south', customer: 'cid', total: 7 }],
      ]),
    );

    await stop(first.server);
    const second = await start(['--store', `sqlite:${dbPath}`]);
    const [reader] = await second.clients.connectMany('json', 1);
    expect(await reader.session.call('fox.schema.get')).toEqual(REGIONS);
    expect(await rowsOf(reader, 'region_total')).toEqual(regionsBefore);
    expect(await rowsOf(reader, 'customer_total')).toEqual(customersBefore);
    // The bookkeeping came back too: deleting ben's order subtracts exactly, and the next best is found.
    await publishRow(reader, 'order.3');
    await publishRow(reader, 'order', { id: 2, region: 'north', customer: 'ann', amount: 6 });
    expect(await rowsOf(reader, 'region_total')).toEqual(
      new Map([
        ['region_total.north', { region: 'north', total: 6, customers: 1, best: 6 }],
        ['region_total.south', { region: 'south', total: 17, customers: 2, best: 10 }],
      ]),
    );
  });
});

describe('views of a config-file schema after a SQLite restart', () => {
  it('serves the same rows after a restart and updates them exactly', async () => {
    const dbPath = join(tempDir(), 'invoices.db');
    const config = configWithSchema(INVOICES);
    const first = await start(['--store', `sqlite:${dbPath}`, '--config', config]);
    const [clerk] = await first.clients.connectMany('json', 1);
    await publishRow(clerk, 'invoice', { number: 1, customer: 'fay', amount: 40, type: 'sale' });
    await publishRow(clerk, 'invoice', { number: 2, customer: 'fay', amount: 2, type: 'sale' });
    await publishRow(clerk, 'invoice', { number: 3, customer: 'gus', amount: 9, type: 'refund' });
    const detailBefore = await rowsOf(clerk, 'detail');
    const invoicesBefore = await rowsOf(clerk, 'invoice');
    expect(detailBefore).toEqual(new Map([['detail.fay', { customer: 'fay', total: 42, invoices: 2 }]]));

    await stop(first.server);
    const second = await start(['--store', `sqlite:${dbPath}`, '--config', config]);
    const [reader, watcher] = await second.clients.connectMany('json', 2);
    expect(await rowsOf(reader, 'detail')).toEqual(detailBefore);
    expect(await rowsOf(reader, 'invoice')).toEqual(invoicesBefore);
    expect([...(await retainedView(reader.session, '#')).keys()].sort()).toEqual(['detail.fay', 'invoice.1', 'invoice.2', 'invoice.3']);

    const { events } = await subscribeEvents(watcher.session, 'detail.#');
    await publishRow(reader, 'invoice', { number: 1, customer: 'fay', amount: 10, type: 'sale' });
    await publishRow(reader, 'invoice', { number: 3, customer: 'gus', amount: 9, type: 'sale' });
    const received = await events.waitFor(2);
    expect(received.map((event) => [event.topic, eventValue(event)])).toEqual([
      ['detail.fay', { customer: 'fay', total: 12, invoices: 2 }],
      ['detail.gus', { customer: 'gus', total: 9, invoices: 1 }],
    ]);
  });
});

describe('the demo app', () => {
  it('serves the live invoices page, keeps the totals of FoxWampModule({ schema }), and counts page views with its reducer', async () => {
    const demo = await startDemo();
    let client: AutobahnClient | undefined;
    try {
      const page = await (await fetch(new URL('/invoices', demo.httpUrl))).text();
      expect(page).toContain("subscribe('detail.#'");
      expect(page).toContain("location.host + '/wamp'");

      client = await connectAutobahn(demo.wampUrl, 'json');
      await publishRow(client, 'invoice', { number: 1, customer: 'hal', amount: 19.99, type: 'sale' });
      await publishRow(client, 'invoice', { number: 2, customer: 'hal', amount: 5, type: 'refund' });
      const invalid = await rejectionOf(client.session.publish('invoice', [], { number: -1, customer: 'no spaces', amount: 1, type: 'sale' }, { acknowledge: true }));
      expect(invalid.kwargs.errors).toEqual([
        { path: '/number', message: 'must be >= 1' },
        { path: '/customer', message: 'must match pattern "^[A-Za-z0-9_-]+$"' },
      ]);
      expect(await rowsOf(client, 'detail')).toEqual(new Map([['detail.hal', { customer: 'hal', total: 19.99, invoices: 1 }]]));

      await client.session.publish('demo.views.invoices', [], {}, { acknowledge: true });
      await client.session.publish('demo.views.invoices', [], {}, { acknowledge: true });
      expect(await retainedView(client.session, 'demo.views.invoices')).toEqual(new Map([['demo.views.invoices', 2]]));
    } finally {
      await client?.close();
      await demo.stop();
    }
  });
});

describe('the schema setting', () => {
  it('stops the server with status 2 and one line naming the place of a mistake in the config file', async () => {
    const broken = { ...INVOICES, detail: { type: 'aggregate', primary_key: ['customer'], sum: ['totl'] } } as InformationSchemaJson;
    const { code, stdout, stderr } = await runServerToExit(['--port', '0', '--no-mqtt', '--config', configWithSchema(broken)]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^fox-wamp: setting schema: information schema: .*totl/)]);
  });

  it('is a config-file setting only', async () => {
    const { code, stderr } = await runServerToExit(['--port', '0', '--no-mqtt'], { FOX_SCHEMA: '{}' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/FOX_SCHEMA: schema can only be set in the config file/);
  });
});
