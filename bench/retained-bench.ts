/**
 * Retained state benchmark: acknowledged retained-publish throughput and lock hand-off latency, for the
 * memory and the SQLite store, over WAMP-JSON on WebSocket against the real server.
 *
 *   npm run build && node dist/bench/retained-bench.js [--count 20000] [--handoffs 2000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchClient } from './support/wamp-json-client.js';
import { percentile, startBenchServer } from './support/server.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '20000' }, handoffs: { type: 'string', default: '2000' }, window: { type: 'string', default: '100' } },
});
const COUNT = Number(values.count);
const HANDOFFS = Number(values.handoffs);
const WINDOW = Number(values.window);

/** Acknowledged retained publishes to 1000 keys, `WINDOW` outstanding at a time. */
async function retainedThroughput(url: string): Promise<number> {
  const client = await BenchClient.connect(url);
  const started = process.hrtime.bigint();
  let sent = 0;
  const worker = async () => {
    while (sent < COUNT) {
      const i = sent++;
      await client.publish(`bench.key.k${i % 1000}`, [i], undefined, { retain: true });
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  client.close();
  return COUNT / seconds;
}

/**
 * Two sessions pass a mutex back and forth: the holder releases (empty retained publish), the waiter's
 * parked `when: null, watch: true` publish is applied; latency = release sent → waiter's PUBLISHED.
 */
async function lockHandoff(url: string): Promise<{ p50: number; p99: number }> {
  const a = await BenchClient.connect(url);
  const b = await BenchClient.connect(url);
  const lock = (client: BenchClient) => client.publish('bench.lock', [], { owner: client.sessionId }, { retain: true, when: null, watch: true, will: null });
  await lock(a);
  let holder = a;
  let waiter = b;
  const latencies: number[] = [];
  for (let i = 0; i < HANDOFFS; i++) {
    const acquired = lock(waiter);
    const start = process.hrtime.bigint();
    await holder.publish('bench.lock', undefined, undefined, { retain: true });
    await acquired;
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    [holder, waiter] = [waiter, holder];
  }
  a.close();
  b.close();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fox-bench-'));
  const rows: string[] = [];
  try {
    for (const [name, store] of [['memory', 'memory'], ['sqlite', `sqlite:${join(dir, 'bench.db')}`]] as const) {
      const server = await startBenchServer(['--store', store]);
      try {
        const rate = await retainedThroughput(server.url);
        const handoff = await lockHandoff(server.url);
        rows.push(`| ${name} | ${Math.round(rate).toLocaleString('en-US')} | ${handoff.p50.toFixed(3)} | ${handoff.p99.toFixed(3)} |`);
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`Retained publishes: ${COUNT} acknowledged, window ${WINDOW}; lock hand-offs: ${HANDOFFS}. Node ${process.version}.`);
  console.log('');
  console.log('| store | retained publishes/s | lock hand-off p50 (ms) | lock hand-off p99 (ms) |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
}

await main();
