/**
 * WAMP benchmark: the same scenarios against our server, the floor server (`ws` forwarding with no
 * routing) and the JavaScript fox-wamp 0.7.28, each in a fresh process, in one run on this machine.
 * Prints a markdown table with messages/s, latency, server CPU per 100k messages and peak RSS, and our
 * figures as ratios of the peers'.
 *
 *   npm run bench:wamp [-- --count 100000 --serializers json,msgpack]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { SerializerName } from '@fox-wamp/core';
import { cpuSeconds, peakRssMiB } from './support/process-stats.js';
import { percentile } from './support/server.js';
import { pubsubLatency, SCENARIOS, type Scenario, type ScenarioResult } from './wamp/scenarios.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '50000' },
    serializers: { type: 'string', default: 'json,msgpack' },
    peers: { type: 'string', default: 'ours,floor,fox-wamp' },
  },
});
const COUNT = Number(values.count);
const SERIALIZERS = values.serializers.split(',') as SerializerName[];

interface Peer {
  readonly name: string;
  readonly serializers: readonly SerializerName[];
  start(): Promise<{ url: string; process: ChildProcess }>;
}

const dist = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Starts a node script that prints `listening PORT` or `listening wamp ws://...`. */
function startNode(script: string, args: string[], path: string): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      // Up to a quote too: piped, the server logs JSON lines.
      const ours = /listening wamp (ws:\/\/[^\s"]+)/.exec(output);
      const plain = /listening (\d+)/.exec(output);
      if (ours) resolve({ url: ours[1]!, process: child });
      else if (plain) resolve({ url: `ws://127.0.0.1:${plain[1]}${path}`, process: child });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output}`)));
  });
}

const ALL_PEERS: readonly Peer[] = [
  { name: 'ours', serializers: ['json', 'msgpack', 'cbor'], start: () => startNode(dist('../src/main.js'), ['--port', '0', '--no-mqtt', '--log-level', 'info'], '') },
  { name: 'floor', serializers: ['json', 'msgpack', 'cbor'], start: () => startNode(dist('./peers/floor-server.js'), [], '') },
  { name: 'fox-wamp', serializers: ['json'], start: () => startNode(dist('./peers/fox-wamp-peer.js'), [], '') },
];
const PEERS = ALL_PEERS.filter((peer) => values.peers.split(',').includes(peer.name));

interface Measurement extends ScenarioResult {
  readonly cpuPer100k: number;
  readonly peakRss: number;
  readonly generatorCpuShare: number;
}

async function measure(peer: Peer, scenario: Scenario, serializer: SerializerName, count: number): Promise<Measurement> {
  const server = await peer.start();
  const pid = server.process.pid!;
  try {
    // Warm up first (JIT, connection buffers), so the measured run is the steady state.
    await scenario.run(server.url, serializer, Math.max(100, Math.ceil(count / 10)));
    const cpuBefore = cpuSeconds(pid);
    const generatorBefore = process.cpuUsage();
    const wallBefore = Date.now();
    const result = await scenario.run(server.url, serializer, count);
    const generator = process.cpuUsage(generatorBefore);
    const generatorCpuShare = (generator.user + generator.system) / 1000 / (Date.now() - wallBefore);
    return {
      ...result,
      cpuPer100k: ((cpuSeconds(pid) - cpuBefore) / result.messages) * 100_000,
      peakRss: peakRssMiB(pid),
      generatorCpuShare,
    };
  } finally {
    server.process.kill('SIGKILL');
  }
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');
const ratio = (ours: number, other: number | undefined) => (other === undefined || !Number.isFinite(other) ? '—' : `${(ours / other).toFixed(2)}×`);

async function main(): Promise<void> {
  const rows: string[] = [];
  const warnings: string[] = [];
  for (const serializer of SERIALIZERS) {
    for (const scenario of SCENARIOS) {
      const count = scenario.name.startsWith('fan-out') ? Math.ceil(COUNT / 20) : scenario.name === 'RPC sequential' ? Math.ceil(COUNT / 5) : COUNT;
      const results = new Map<string, Measurement>();
      for (const peer of PEERS) {
        if (!peer.serializers.includes(serializer)) continue;
        const m = await measure(peer, scenario, serializer, count);
        results.set(peer.name, m);
        if (m.generatorCpuShare > 0.9) warnings.push(`${scenario.name} (${serializer}) against ${peer.name}: the load generator used ${(m.generatorCpuShare * 100).toFixed(0)}% of a core, so it may have been the bottleneck`);
      }
      const ours = results.get('ours');
      const rate = (name: string) => {
        const m = results.get(name);
        return m === undefined ? undefined : m.messages / m.seconds;
      };
      const p = (name: string, q: number) => {
        const l = results.get(name)?.latenciesMs;
        return l === undefined ? NaN : percentile(l, q);
      };
      rows.push(
        `| ${scenario.name} | ${serializer} | ${fmt(rate('ours') ?? NaN)} | ${fmt(rate('floor') ?? NaN)} | ${fmt(rate('fox-wamp') ?? NaN)} | ${ratio(rate('ours') ?? NaN, rate('floor'))} | ${ratio(rate('ours') ?? NaN, rate('fox-wamp'))} | ${fmt(p('ours', 50), 2)} / ${fmt(p('ours', 99), 2)} | ${fmt(p('fox-wamp', 50), 2)} / ${fmt(p('fox-wamp', 99), 2)} | ${fmt(ours?.cpuPer100k ?? NaN, 2)} | ${fmt(results.get('fox-wamp')?.cpuPer100k ?? NaN, 2)} | ${fmt(ours?.peakRss ?? NaN)} |`,
      );
    }
    // Latency at a fixed, moderate rate (not under saturation, where it only measures queueing).
    const latency = pubsubLatency(5_000);
    const results = new Map<string, Measurement>();
    for (const peer of PEERS) if (peer.serializers.includes(serializer)) results.set(peer.name, await measure(peer, latency, serializer, 10_000));
    const p = (name: string, q: number) => {
      const l = results.get(name)?.latenciesMs;
      return l === undefined ? NaN : percentile(l, q);
    };
    rows.push(`| pub/sub 1:1 at 5 000/s | ${serializer} | — | — | — | — | — | ${fmt(p('ours', 50), 2)} / ${fmt(p('ours', 99), 2)} | ${fmt(p('fox-wamp', 50), 2)} / ${fmt(p('fox-wamp', 99), 2)} | — | — | ${fmt(results.get('ours')?.peakRss ?? NaN)} |`);
  }
  console.log(`WAMP benchmark, ${COUNT.toLocaleString('en-US')} messages per scenario (fan-out: /20 publications × 100 subscribers; sequential RPC: /5). Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}.`);
  console.log('');
  console.log('| scenario | serializer | ours msg/s | floor msg/s | fox-wamp 0.7.28 msg/s | ours ÷ floor | ours ÷ fox-wamp | ours p50 / p99 ms | fox-wamp p50 / p99 ms | ours CPU s / 100k | fox-wamp CPU s / 100k | ours peak RSS MiB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  for (const warning of warnings) console.log(`\n> ${warning}`);
}

await main();
