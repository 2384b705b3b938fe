/**
 * WAMP benchmark: the same scenarios against our server, the floor server (`ws` forwarding with no
 * routing) and the JavaScript fox-wamp 0.7.28, each in a fresh process, in one run on this machine.
 * Prints a markdown table with messages/s, latency, server CPU per 100k messages and peak RSS, and our
 * figures as ratios of the peers'.
 *
 *   npm run bench:wamp [-- --count 100000 --serializers json,msgpack]
 *   … --scenarios pubsub,acked --repeat 3      some scenarios; each peer measured 3 times, medians shown
 *   … --profile [--scenarios pubsub]            each peer under `node --cpu-prof` (top self time), then allocations
 *   … --node-options="--max-semi-space-size=32" extra node flags for our server (note the =)
 *   … --server-args="--no-metrics"              extra command-line options for our server
 *   … --compare=/path/to/other/src/main.js --peers ours,compare,floor
 *                                               another build of our server as peer `compare` (A/B in one run)
 *   … --compare=dist/src/main.js --compare-args="--history-size 0"   the same build with other options
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { SerializerName } from '@fox-wamp/core';
import { nowMicros } from './support/clock.js';
import { cpuSeconds, peakRssMiB } from './support/process-stats.js';
import { summarizeAllocationProfile, summarizeCpuProfile, type ProfileShare } from './support/profile-summary.js';
import { percentile } from './support/server.js';
import { pubsubLatency, SCENARIOS, type Scenario, type ScenarioResult } from './wamp/scenarios.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '50000' },
    serializers: { type: 'string', default: 'json,msgpack' },
    peers: { type: 'string', default: 'ours,floor,fox-wamp' },
    scenarios: { type: 'string', default: `${SCENARIOS.map((scenario) => scenario.key).join(',')},latency` },
    repeat: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    'node-options': { type: 'string', default: '' },
    'server-args': { type: 'string', default: '' },
    compare: { type: 'string' },
    'compare-args': { type: 'string' },
  },
});
const COUNT = Number(values.count);
const SERIALIZERS = values.serializers.split(',') as SerializerName[];
const SELECTED = new Set(values.scenarios.split(','));
const REPEAT = Math.max(1, Number(values.repeat));
/** Extra node flags for our server only (the peers are the yardstick and stay as they are). */
const OUR_NODE_ARGS = values['node-options'].split(' ').filter((arg) => arg.length > 0);
const OUR_SERVER_ARGS = values['server-args'].split(' ').filter((arg) => arg.length > 0);

interface Peer {
  readonly name: string;
  readonly serializers: readonly SerializerName[];
  start(nodeArgs?: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ url: string; process: ChildProcess }>;
}

const dist = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Starts a node script that prints `listening PORT` or `listening wamp ws://...`. */
function startNode(script: string, args: string[], path: string, nodeArgs: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1', ...env } });
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
  { name: 'ours', serializers: ['json', 'msgpack', 'cbor'], start: (nodeArgs = OUR_NODE_ARGS, env) => startNode(dist('../src/main.js'), ['--port', '0', '--no-mqtt', '--log-level', 'info', ...OUR_SERVER_ARGS], '', nodeArgs, env) },
  {
    name: 'compare',
    serializers: ['json', 'msgpack', 'cbor'],
    start: (nodeArgs = OUR_NODE_ARGS, env) => {
      if (values.compare === undefined) throw new Error('peer compare needs --compare=<path of another build\'s src/main.js>');
      const args = values['compare-args'] === undefined ? OUR_SERVER_ARGS : values['compare-args'].split(' ').filter((arg) => arg.length > 0);
      return startNode(values.compare, ['--port', '0', '--no-mqtt', '--log-level', 'info', ...args], '', nodeArgs, env);
    },
  },
  { name: 'floor', serializers: ['json', 'msgpack', 'cbor'], start: (nodeArgs = [], env) => startNode(dist('./peers/floor-server.js'), [], '', nodeArgs, env) },
  { name: 'fox-wamp', serializers: ['json'], start: (nodeArgs = [], env) => startNode(dist('./peers/fox-wamp-peer.js'), [], '', nodeArgs, env) },
];
const PEERS = ALL_PEERS.filter((peer) => values.peers.split(',').includes(peer.name));

interface Measurement extends ScenarioResult {
  readonly cpuPer100k: number;
  readonly peakRss: number;
  readonly generatorCpuShare: number;
  /** The measured interval on the monotonic clock (µs), to cut a CPU profile down to it. */
  readonly measuredFromMicros: number;
  readonly measuredToMicros: number;
}

/**
 * One scenario against a fresh server process. `nodeArgs` replace the peer's own extra node flags; with
 * `graceful` the server is stopped with SIGTERM and awaited (a `--cpu-prof` profile is written at exit).
 */
async function measure(
  peer: Peer,
  scenario: Scenario,
  serializer: SerializerName,
  count: number,
  options: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv; graceful?: boolean; signalAtMeasureStart?: NodeJS.Signals; warmupCount?: number } = {},
): Promise<Measurement> {
  const server = await peer.start(options.nodeArgs, options.env);
  const pid = server.process.pid!;
  try {
    // Warm up first (JIT, connection buffers), so the measured run is the steady state. At least 20 000 messages
    // (or the whole count): V8 optimizes a function after thousands of calls, and a short run's tenth left our
    // server, which has more code to optimize than the floor, measured half-warm (0.63× the floor at --count 20000).
    await scenario.run(server.url, serializer, options.warmupCount ?? Math.max(Math.ceil(count / 10), Math.min(count, 20_000)));
    const cpuBefore = cpuSeconds(pid);
    const generatorBefore = process.cpuUsage();
    const wallBefore = Date.now();
    if (options.signalAtMeasureStart !== undefined) process.kill(pid, options.signalAtMeasureStart);
    const measuredFromMicros = nowMicros();
    const result = await scenario.run(server.url, serializer, count);
    const measuredToMicros = nowMicros();
    const generator = process.cpuUsage(generatorBefore);
    const generatorCpuShare = (generator.user + generator.system) / 1000 / (Date.now() - wallBefore);
    return {
      ...result,
      cpuPer100k: ((cpuSeconds(pid) - cpuBefore) / result.messages) * 100_000,
      peakRss: peakRssMiB(pid),
      generatorCpuShare,
      measuredFromMicros,
      measuredToMicros,
    };
  } finally {
    if (options.graceful) await stopGracefully(server.process);
    else server.process.kill('SIGKILL');
  }
}

/** SIGTERM, then SIGKILL if the process has not exited within 10 s. */
async function stopGracefully(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Messages per second of a measurement. */
const rateOf = (m: Measurement) => m.messages / m.seconds;

/** The middle value (the upper one of the two middle values for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/**
 * Each peer `REPEAT` times, interleaved (ours, floor, …, ours, floor, …) so that a burst of load from the rest
 * of the machine hits both sides alike. Per peer the run with the median rate stands for it; `ratios` holds
 * ours ÷ each peer per repetition, whose median is the figure to read on a noisy machine. `cpuRatios` holds the
 * same for messages per CPU-second of the server: what each server could carry with a core to itself, which
 * still compares the servers when the load generator, sharing a small machine with them, is the limit.
 */
async function measureRepeated(
  scenario: Scenario,
  serializer: SerializerName,
  count: number,
  warnings: string[],
): Promise<{ byPeer: Map<string, Measurement>; ratios: Map<string, number[]>; cpuRatios: Map<string, number[]> }> {
  const runs = new Map<string, Measurement[]>();
  const ratios = new Map<string, number[]>();
  const cpuRatios = new Map<string, number[]>();
  for (let repetition = 0; repetition < REPEAT; repetition++) {
    const thisRound = new Map<string, Measurement>();
    for (const peer of PEERS) {
      if (!peer.serializers.includes(serializer)) continue;
      const m = await measure(peer, scenario, serializer, count);
      thisRound.set(peer.name, m);
      (runs.get(peer.name) ?? runs.set(peer.name, []).get(peer.name)!).push(m);
      if (m.generatorCpuShare > 0.9) warnings.push(`${scenario.name} (${serializer}) against ${peer.name}: the load generator used ${(m.generatorCpuShare * 100).toFixed(0)}% of a core, so it may have been the bottleneck`);
    }
    const ours = thisRound.get('ours');
    if (ours === undefined) continue;
    for (const [name, m] of thisRound) {
      if (name === 'ours') continue;
      (ratios.get(name) ?? ratios.set(name, []).get(name)!).push(rateOf(ours) / rateOf(m));
      (cpuRatios.get(name) ?? cpuRatios.set(name, []).get(name)!).push(m.cpuPer100k / ours.cpuPer100k);
    }
  }
  const byPeer = new Map<string, Measurement>();
  for (const [name, list] of runs) {
    const middle = median(list.map(rateOf));
    byPeer.set(name, list.find((m) => rateOf(m) === middle)!);
  }
  return { byPeer, ratios, cpuRatios };
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');
const ratio = (ours: number, other: number | undefined) => (other === undefined || !Number.isFinite(other) ? '—' : `${(ours / other).toFixed(2)}×`);

async function main(): Promise<void> {
  if (values.profile) return profile();
  const rows: string[] = [];
  const warnings: string[] = [];
  const spread: string[] = [];
  const ratioCell = (ratios: Map<string, number[]>, name: string) => {
    const list = ratios.get(name);
    return list === undefined || list.length === 0 ? '—' : `${median(list).toFixed(2)}×`;
  };
  /** Half of our unacknowledged pub/sub rate per serializer (rounded to 1 000/s), for the second latency row. */
  const halfOfOurMax = new Map<SerializerName, number>();
  for (const serializer of SERIALIZERS) {
    for (const scenario of SCENARIOS) {
      if (!SELECTED.has(scenario.key)) continue;
      const { byPeer: results, ratios, cpuRatios } = await measureRepeated(scenario, serializer, countFor(scenario), warnings);
      const oursMeasured = results.get('ours');
      if (scenario.key === 'pubsub' && oursMeasured !== undefined) halfOfOurMax.set(serializer, Math.max(1_000, Math.round(rateOf(oursMeasured) / 2 / 1_000) * 1_000));
      for (const [name, list] of ratios) {
        if (REPEAT > 1 || name === 'compare') {
          const cpu = cpuRatios.get(name) ?? [];
          spread.push(
            `${scenario.name} (${serializer}): ours ÷ ${name} per run ${list.map((r) => r.toFixed(2)).join(', ')} (median ${median(list).toFixed(2)}); ` +
              `per CPU-second ${cpu.map((r) => r.toFixed(2)).join(', ')} (median ${median(cpu).toFixed(2)})`,
          );
        }
      }
      const ours = results.get('ours');
      const rate = (name: string) => {
        const m = results.get(name);
        return m === undefined ? undefined : rateOf(m);
      };
      const p = (name: string, q: number) => {
        const l = results.get(name)?.latenciesMs;
        return l === undefined ? NaN : percentile(l, q);
      };
      rows.push(
        `| ${scenario.name} | ${serializer} | ${fmt(rate('ours') ?? NaN)} | ${fmt(rate('floor') ?? NaN)} | ${fmt(rate('fox-wamp') ?? NaN)} | ${ratioCell(ratios, 'floor')} | ${ratioCell(cpuRatios, 'floor')} | ${ratioCell(ratios, 'fox-wamp')} | ${fmt(p('ours', 50), 2)} / ${fmt(p('ours', 99), 2)} | ${fmt(p('fox-wamp', 50), 2)} / ${fmt(p('fox-wamp', 99), 2)} | ${fmt(ours?.cpuPer100k ?? NaN, 2)} | ${fmt(results.get('floor')?.cpuPer100k ?? NaN, 2)} | ${fmt(results.get('fox-wamp')?.cpuPer100k ?? NaN, 2)} | ${fmt(ours?.peakRss ?? NaN)} |`,
      );
    }
    if (!SELECTED.has('latency')) continue;
    // Latency at fixed rates (not under saturation, where it only measures queueing): a moderate 5 000/s, and half
    // of our maximum pub/sub rate measured above, the issue's yardstick against fox-wamp.
    const half = halfOfOurMax.get(serializer);
    for (const [rate, label] of [[5_000, ''], ...(half === undefined ? [] : [[half, ' (½ of ours\' max)']])] as [number, string][]) {
      const latency = pubsubLatency(rate);
      // 3 s measured after 3 s of warm-up at the same rate: a slow rate needs that long for the JIT to optimize.
      const count = rate * 3;
      const results = new Map<string, Measurement>();
      // With --repeat, each peer's least disturbed run counts (lowest p99), as in the MQTT benchmark.
      for (let repetition = 0; repetition < REPEAT; repetition++) {
        for (const peer of PEERS) {
          if (!peer.serializers.includes(serializer)) continue;
          const m = await measure(peer, latency, serializer, count, { warmupCount: count });
          const best = results.get(peer.name);
          if (best === undefined || percentile(m.latenciesMs!, 99) < percentile(best.latenciesMs!, 99)) results.set(peer.name, m);
          if (m.generatorCpuShare > 0.9) warnings.push(`${latency.name} at ${fmt(rate)}/s (${serializer}) against ${peer.name}: the load generator used ${(m.generatorCpuShare * 100).toFixed(0)}% of a core`);
        }
      }
      const p = (name: string, q: number) => {
        const l = results.get(name)?.latenciesMs;
        return l === undefined ? NaN : percentile(l, q);
      };
      const p99Ratio = ratio(p('ours', 99), p('fox-wamp', 99));
      rows.push(
        `| pub/sub 1:1 at ${fmt(rate)}/s${label} | ${serializer} | — | — | — | — | — | ${p99Ratio === '—' ? '—' : `p99 ${p99Ratio}`} | ${fmt(p('ours', 50), 2)} / ${fmt(p('ours', 99), 2)} | ${fmt(p('fox-wamp', 50), 2)} / ${fmt(p('fox-wamp', 99), 2)} | — | — | — | ${fmt(results.get('ours')?.peakRss ?? NaN)} |`,
      );
    }
  }
  const repeated = REPEAT > 1 ? ` Each peer measured ${REPEAT} times, interleaved: rates are the median run, ratios the median of the per-run ratios.` : '';
  console.log(`WAMP benchmark, ${COUNT.toLocaleString('en-US')} messages per scenario (fan-out: /20 publications × 100 subscribers; sequential RPC: /5). Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}.${repeated}`);
  if (SELECTED.has('latency')) {
    console.log(
      `Latency rows: 3 s of publications at a fixed rate after 3 s of warm-up at that rate${REPEAT > 1 ? `, the run with the lowest p99 of ${REPEAT} per peer` : ''}; "ours ÷ fox-wamp" there is the ratio of the p99s (below 1 is better).`,
    );
  }
  console.log('');
  console.log(
    '| scenario | serializer | ours msg/s | floor msg/s | fox-wamp 0.7.28 msg/s | ours ÷ floor | ours ÷ floor, msg per CPU-second | ours ÷ fox-wamp | ours p50 / p99 ms | fox-wamp p50 / p99 ms | ours CPU s / 100k | floor CPU s / 100k | fox-wamp CPU s / 100k | ours peak RSS MiB |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  if (spread.length > 0) console.log(`\n${spread.join('\n')}`);
  for (const warning of warnings) console.log(`\n> ${warning}`);
}

/** Messages per scenario: fan-out sends /20 publications (×100 deliveries), sequential RPC /5 round trips. */
function countFor(scenario: Scenario): number {
  return scenario.key === 'fan-out' ? Math.ceil(COUNT / 20) : scenario.key === 'rpc' ? Math.ceil(COUNT / 5) : COUNT;
}

/**
 * `--profile`: each selected scenario (first serializer) once against each selected peer under `node --cpu-prof`
 * (`--peers ours` for ours alone); prints the self time per function and per file within the measured interval
 * (start-up and warm-up cut off). The floor's profile shows what any router on `ws` pays.
 */
async function profile(): Promise<void> {
  const serializer = SERIALIZERS[0]!;
  for (const scenario of SCENARIOS) {
    if (!SELECTED.has(scenario.key)) continue;
    for (const peer of PEERS) await profileOne(peer, scenario, serializer);
  }
}

async function profileOne(peer: Peer, scenario: Scenario, serializer: SerializerName): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wamp-bench-profile-'));
  const nodeArgs = [...(peer.name === 'ours' ? OUR_NODE_ARGS : []), '--cpu-prof', '--cpu-prof-dir', dir];
  const m = await measure(peer, scenario, serializer, countFor(scenario), { nodeArgs, graceful: true });
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no CPU profile written in ${dir}`);
  const cpu = summarizeCpuProfile(join(dir, file), 30, { fromMicros: m.measuredFromMicros, toMicros: m.measuredToMicros });
  console.log(`### ${scenario.name} (${serializer}) — ${peer.name} under --cpu-prof: ${fmt(rateOf(m))} msg/s`);
  console.log(`${join(dir, file)}: within the measured ${fmt(m.seconds * 1000)} ms, busy ${fmt(cpu.busyMs)} ms, idle ${fmt(cpu.idleMs)} ms (window µs ${m.measuredFromMicros.toFixed(0)}–${m.measuredToMicros.toFixed(0)}).`);
  console.log('');
  printShares('| self time % | ms | function |', cpu.functions, (ms) => fmt(ms));
  printShares('| self time % | ms | file |', cpu.files, (ms) => fmt(ms));

  // The same load with V8's sampling heap profiler counting garbage too, from the measured interval's start.
  const allocationFile = join(dir, 'allocations.heapprofile');
  const sampled = await measure(peer, scenario, serializer, countFor(scenario), {
    nodeArgs: [...(peer.name === 'ours' ? OUR_NODE_ARGS : []), '--import', dist('./support/allocation-sampler.js')],
    env: { BENCH_ALLOCATION_PROFILE: allocationFile },
    graceful: true,
    signalAtMeasureStart: 'SIGUSR2',
  });
  const allocations = summarizeAllocationProfile(allocationFile, 25);
  console.log(`Allocations (${allocationFile}): ${fmt(allocations.totalBytes / 1024 / 1024)} MiB for ${fmt(sampled.messages)} messages, about ${fmt(allocations.totalBytes / sampled.messages)} bytes per message.`);
  console.log('');
  printShares('| allocated % | MiB | function |', allocations.functions, (bytes) => fmt(bytes / 1024 / 1024, 1));
}

function printShares(header: string, shares: readonly ProfileShare[], amount: (value: number) => string): void {
  console.log(header);
  console.log('|---|---|---|');
  for (const entry of shares) console.log(`| ${(entry.share * 100).toFixed(1)} | ${amount(entry.amount)} | \`${entry.name}\` |`);
  console.log('');
}

await main();
