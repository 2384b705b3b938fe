/**
 * Cluster benchmark: 1, 2 and 3 router processes on one Redis (Debian's redis-server, started here on a free
 * port, no persistence), WAMP-JSON over WebSocket with lean clients.
 *
 *   npm run bench:cluster [-- --count 20000 --latency 2000 --rate 2000]
 *
 * Scenarios, for each cluster size N:
 * - throughput: one acknowledged publisher per process (100 in flight each), one subscriber per process; every
 *   subscriber gets every event (the broadcast fan-out). Reported: publications/s for the whole cluster, and
 *   the CPU seconds per 100k publications of the routers and of redis-server.
 * - cross-process latency: a publisher on the first process at a fixed rate, the subscriber on the last one
 *   (on the same process when N = 1); p50/p99 from publish to event, one clock.
 * - RPC: a caller on the first process, the callee on the last one; sequential round trips, p50/p99.
 *
 * One machine cannot show throughput scaling out (the processes share its cores); what it shows is what one
 * more process costs per message and what crossing Redis adds to latency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './support/process-stats.js';
import { freePort, waitForPort } from './support/free-port.js';
import { percentile, startBenchServer } from './support/server.js';
import { BenchClient } from './support/wamp-json-client.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    latency: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '2000' },
    sizes: { type: 'string', default: '1,2,3' },
  },
});
const COUNT = Number(values.count);
const LATENCY_SAMPLES = Number(values.latency);
const RATE = Number(values.rate);
const SIZES = values.sizes.split(',').map(Number);
const WINDOW = 100;

interface Redis {
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

async function startRedis(): Promise<Redis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fox-bench-redis-'));
  const child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitForPort(port, () => exited);
  return {
    url: `redis://127.0.0.1:${port}/0`,
    process: child,
    stop: async () => {
      child.kill('SIGKILL');
      if (!exited) await once(child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Row {
  readonly processes: number;
  readonly throughput: number;
  readonly routerCpuPer100k: number;
  readonly redisCpuPer100k: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
  readonly rpcP50: number;
  readonly rpcP99: number;
}

async function measure(size: number): Promise<Row> {
  const step = (what: string) => process.stderr.write(`[${size} process(es)] ${what}\n`);
  const redis = await startRedis();
  const servers: Awaited<ReturnType<typeof startBenchServer>>[] = [];
  for (let i = 0; i < size; i++) servers.push(await startBenchServer(['--store', redis.url, '--node-id', `bench${i + 1}`, '--no-metrics', '--lease-time', '15000']));
  try {
    step('throughput');
    // Throughput: a publisher and a subscriber per process.
    const subscribers = await Promise.all(servers.map((server) => BenchClient.connect(server.url)));
    const publishers = await Promise.all(servers.map((server) => BenchClient.connect(server.url)));
    const perPublisher = Math.ceil(COUNT / size);
    const total = perPublisher * size;
    let received = 0;
    let allReceived!: () => void;
    const done = new Promise<void>((resolve) => (allReceived = resolve));
    for (const subscriber of subscribers) {
      await subscriber.subscribe('bench.stream', () => {
        if (++received === total * size) allReceived();
      });
    }
    const routerCpu = () => servers.reduce((sum, server) => sum + cpuSeconds(server.process.pid!), 0);
    const cpuBefore = routerCpu();
    const redisBefore = cpuSeconds(redis.process.pid!);
    const started = process.hrtime.bigint();
    await Promise.all(
      publishers.map(async (publisher) => {
        let sent = 0;
        const worker = async () => {
          while (sent < perPublisher) {
            sent++;
            await publisher.publish('bench.stream', [sent], undefined, {});
          }
        };
        await Promise.all(Array.from({ length: WINDOW }, worker));
      }),
    );
    await done;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const routerCpuPer100k = ((routerCpu() - cpuBefore) / total) * 100_000;
    const redisCpuPer100k = ((cpuSeconds(redis.process.pid!) - redisBefore) / total) * 100_000;
    for (const client of [...subscribers, ...publishers]) client.close();

    step('latency');
    // Cross-process latency at a fixed rate: publisher on the first process, subscriber on the last.
    const publisher = await BenchClient.connect(servers[0]!.url);
    const subscriber = await BenchClient.connect(servers[size - 1]!.url);
    const latencies: number[] = [];
    let samplesDone!: () => void;
    const sampled = new Promise<void>((resolve) => (samplesDone = resolve));
    await subscriber.subscribe('bench.latency', (args) => {
      latencies.push(Number(process.hrtime.bigint() - BigInt(args[0] as string)) / 1e6);
      if (latencies.length === LATENCY_SAMPLES) samplesDone();
    });
    const interval = 1000 / RATE;
    const t0 = performance.now();
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const due = t0 + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      void publisher.publish('bench.latency', [String(process.hrtime.bigint())], undefined, {});
    }
    await sampled;

    step('rpc');
    // RPC across processes: caller on the first, callee on the last.
    const callee = await BenchClient.connect(servers[size - 1]!.url);
    await callee.register('bench.echo', (args) => args[0]);
    // A call that finds no callee on its process reads the cluster's registry first: no wait for the announcement.
    await publisher.call('bench.echo', [0]);
    const rpc: number[] = [];
    for (let i = 0; i < Math.min(LATENCY_SAMPLES, 2000); i++) {
      const start = process.hrtime.bigint();
      await publisher.call('bench.echo', [i]);
      rpc.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    for (const client of [publisher, subscriber, callee]) client.close();
    return {
      processes: size,
      throughput: total / seconds,
      routerCpuPer100k,
      redisCpuPer100k,
      latencyP50: percentile(latencies, 50),
      latencyP99: percentile(latencies, 99),
      rpcP50: percentile(rpc, 50),
      rpcP99: percentile(rpc, 99),
    };
  } finally {
    for (const server of servers) await server.stop();
    await redis.stop();
  }
}

const rows: Row[] = [];
for (const size of SIZES) rows.push(await measure(size));
const base = rows[0]!;
const fixed = (value: number, digits = 1) => value.toFixed(digits);
console.log(`\nCluster on one Redis (${COUNT} acknowledged publications, every process subscribed; latency at ${RATE}/s; Node ${process.version})\n`);
console.log('| processes | publications/s | × 1 process | router CPU s / 100k | redis CPU s / 100k | latency p50 / p99 (ms) | RPC p50 / p99 (ms) |');
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) {
  console.log(
    `| ${row.processes} | ${Math.round(row.throughput)} | ${fixed(row.throughput / base.throughput, 2)} | ${fixed(row.routerCpuPer100k)} | ${fixed(row.redisCpuPer100k)} | ${fixed(row.latencyP50, 2)} / ${fixed(row.latencyP99, 2)} | ${fixed(row.rpcP50, 2)} / ${fixed(row.rpcP99, 2)} |`,
  );
}
