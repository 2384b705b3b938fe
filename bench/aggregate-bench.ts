/**
 * Aggregate engine benchmark: acknowledged records per second through one propagate rule (invoice → per-
 * customer totals) and through a two-level chain (order → per-customer totals → per-region totals), for the
 * memory and the SQLite store, over WAMP-JSON on WebSocket against the real server. Plain retained publishes
 * of the same rows are the baseline: what the engine adds is validation, the read of the old row, the
 * aggregate rows' bookkeeping and the publication of every changed row.
 *
 *   npm run bench:aggregate [-- --count 20000 --rows 5000 --window 100]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { InformationSchemaJson } from '@fox-wamp/core';
import { cpuSeconds } from './support/process-stats.js';
import { startBenchServer } from './support/server.js';
import { BenchClient } from './support/wamp-json-client.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '20000' }, rows: { type: 'string', default: '5000' }, window: { type: 'string', default: '100' } },
});
const COUNT = Number(values.count);
/** Distinct primary keys: once every key has a row, each record is an update (the old contribution goes). */
const ROWS = Number(values.rows);
const WINDOW = Number(values.window);
const CUSTOMERS = 100;
const REGIONS = 10;

const SCHEMA: InformationSchemaJson = {
  invoice: {
    type: 'object',
    properties: { number: { type: 'integer' }, customer: { type: 'string' }, amount: { type: 'number' }, type: { enum: ['sale', 'refund'] } },
    required: ['number', 'customer', 'amount', 'type'],
    primary_key: ['number'],
    propagate: { detail: [{ key: ['customer'], fields: { total: 'amount', invoices: { count: '*' } }, filter: { type: 'sale' } }] },
  },
  detail: { type: 'aggregate', primary_key: ['customer'], sum: ['total'] },
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

interface Scenario {
  readonly name: string;
  /** The topic and row of record `i`. */
  record(i: number): { topic: string; row: Record<string, unknown> };
}

// Record i rewrites key i % ROWS with another customer (and region) and amount, so updates move contributions.
const invoiceRow = (i: number) => ({
  number: i % ROWS,
  customer: `c${(i * 7) % CUSTOMERS}`,
  amount: (i % 997) + 0.5,
  type: i % 5 === 0 ? 'refund' : 'sale',
});
const orderRow = (i: number) => {
  const customer = (i * 7) % CUSTOMERS;
  return { id: i % ROWS, region: `r${customer % REGIONS}`, customer: `c${customer}`, amount: i % 997 };
};

const SCENARIOS: readonly Scenario[] = [
  { name: 'plain retained publish (baseline)', record: (i) => ({ topic: `plain.${i % ROWS}`, row: invoiceRow(i) }) },
  { name: 'one propagate rule (invoice → detail)', record: (i) => ({ topic: 'invoice', row: invoiceRow(i) }) },
  { name: 'two-level chain (order → customer_total → region_total)', record: (i) => ({ topic: 'order', row: orderRow(i) }) },
];

/** Acknowledged records, `WINDOW` outstanding at a time; records/s and server CPU seconds per 10k records. */
async function throughput(url: string, pid: number, scenario: Scenario): Promise<{ rate: number; cpuPer10k: number }> {
  const client = await BenchClient.connect(url);
  const cpuBefore = cpuSeconds(pid);
  const started = process.hrtime.bigint();
  let sent = 0;
  const worker = async () => {
    while (sent < COUNT) {
      const { topic, row } = scenario.record(sent++);
      // Plain publishes need `retain`; the tables always retain and ignore it.
      await client.publish(topic, [], row, { retain: true });
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSeconds(pid) - cpuBefore;
  client.close();
  return { rate: COUNT / seconds, cpuPer10k: (cpu / COUNT) * 10_000 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fox-aggregate-bench-'));
  const config = join(dir, 'schema.json');
  writeFileSync(config, JSON.stringify({ schema: SCHEMA }));
  const rows: string[] = [];
  try {
    for (const [storeName, store] of [['memory', 'memory'], ['sqlite', `sqlite:${join(dir, 'bench.db')}`]] as const) {
      const server = await startBenchServer(['--store', store, '--config', config, '--no-mqtt']);
      try {
        for (const scenario of SCENARIOS) {
          const { rate, cpuPer10k } = await throughput(server.url, server.process.pid!, scenario);
          rows.push(`| ${storeName} | ${scenario.name} | ${Math.round(rate).toLocaleString('en-US')} | ${cpuPer10k.toFixed(2)} |`);
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`Records: ${COUNT} acknowledged per scenario over ${ROWS} keys, window ${WINDOW}; ${CUSTOMERS} customers, ${REGIONS} regions. Node ${process.version}.`);
  console.log('');
  console.log('| store | scenario | records/s | server CPU s per 10k records |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
}

await main();
