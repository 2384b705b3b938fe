import { Worker } from 'node:worker_threads';
import { cpus } from 'node:os';
import { nowMicros, sleep } from '../support/clock.js';
import { cpuSeconds, machineBusySeconds, peakRssMiB } from '../support/process-stats.js';
import type { RunningBroker } from './brokers.js';
import { withTimeout } from './lean-mqtt-client.js';
import { Phase, Slot, SLOT_COUNT, type BrokerTarget, type FromWorker, type Pacing, type ToWorker, type WorkerJob } from './load-protocol.js';

/** One load on one broker: who publishes and subscribes, and how fast. */
export interface LoadSpec {
  readonly publishers: number;
  readonly subscribers: number;
  /** Subscribers that stop reading after SUBACK and are not counted (the stalled-consumer check). */
  readonly stalledSubscribers?: number;
  readonly qos: 0 | 1;
  readonly via: 'mqtt' | 'wamp';
  readonly payloadSize: number;
  readonly batch: number;
  readonly pacing: Pacing;
  readonly sampleEvery: number;
}

export interface LoadTiming {
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Generator threads per side (publishers, subscribers). */
  readonly threads: number;
  /** Called as the measured interval begins (a profiler in the broker can start then). */
  readonly onMeasureStart?: () => void;
  /**
   * Called every 100 ms while measuring with the publications sent and messages received so far; returning
   * true ends the measurement early (the stalled-consumer check floods until the broker has had enough).
   */
  readonly onTick?: (progress: { readonly sent: number; readonly received: number }) => boolean | void;
}

export interface LoadResult {
  /** Messages received by the counted subscribers while measuring. */
  readonly messages: number;
  /** The measured interval, µs on the monotonic clock (`nowMicros()`), to match it with a CPU profile. */
  readonly measuredFromMicros: number;
  readonly measuredToMicros: number;
  /** Publications sent in the whole run. */
  readonly sent: number;
  readonly seconds: number;
  readonly latenciesMicros: Float64Array;
  readonly brokerCpuSeconds: number;
  /** Broker CPU while measuring, in cores (1 = one core busy all the time). */
  readonly brokerCores: number;
  /** The whole generator (all its threads) while measuring, in cores. */
  readonly generatorCores: number;
  /** Everything else on the machine while measuring (other work competing for the cores), in cores. */
  readonly otherCores: number;
  /** The busiest generator thread's event-loop utilization while measuring (≥ 0.9: it was the limit). */
  readonly maxGeneratorElu: number;
  /** Peak RSS of the broker process (it is fresh for each load), MiB. */
  readonly peakRssMiB: number;
  /** Publications × fan-out that never arrived (QoS 0 drops), after the publishers stopped. */
  readonly lost: number;
  readonly disconnects: number;
  /** Times a publisher gave up waiting for in-flight messages (nothing arrived for a second) and went on. */
  readonly publisherStalls: number;
  readonly stalledClosed: number;
  readonly errors: readonly string[];
}

const TOPIC = 'bench/topic';

/** A generator thread and the replies it owes. */
class GeneratorThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<FromWorker['type'], (message: FromWorker) => void>();
  private failure: Error | undefined;

  constructor(job: WorkerJob, shared: Int32Array) {
    this.worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: { job, shared } });
    this.worker.on('message', (message: FromWorker) => {
      if (message.type === 'failed') this.fail(new Error(message.message));
      else this.waiting.get(message.type)?.(message);
    });
    this.worker.on('error', (error) => this.fail(error));
  }

  /** Sends `request` (if any) and resolves with the next message of type `type`. */
  next<T extends FromWorker['type']>(type: T, request?: ToWorker, timeoutMs = 60_000): Promise<Extract<FromWorker, { type: T }>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const reply = new Promise<FromWorker>((resolve, reject) => {
      this.waiting.set(type, resolve);
      this.waiting.set('failed', (message) => reject(new Error((message as { message: string }).message)));
    });
    if (request !== undefined) this.worker.postMessage(request);
    return withTimeout(reply, timeoutMs, `generator thread: ${type}`) as Promise<Extract<FromWorker, { type: T }>>;
  }

  post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.waiting.get('failed')?.({ type: 'failed', message: error.message });
  }
}

/** Splits `count` client IDs into at most `groups` contiguous groups. */
function split(prefix: string, count: number, groups: number): string[][] {
  const n = Math.max(1, Math.min(groups, count));
  return Array.from({ length: n }, (_, g) => Array.from({ length: Math.floor(((g + 1) * count) / n) - Math.floor((g * count) / n) }, (_, i) => `${prefix}-${g}-${i}`));
}

export function defaultThreads(): number {
  // One core for the broker; the generator's subscriber and publisher sides share the others.
  return Math.max(1, Math.min(4, cpus().length - 1));
}

/**
 * Runs one load: subscriber threads connect and subscribe, publisher threads connect and start, and after
 * the warm-up the counters, the broker's CPU and the generator threads' utilization are read at the start
 * and end of the measured interval. The publishers then stop and the run waits (bounded) for what is in
 * flight, so that `lost` shows messages the broker dropped.
 */
export async function runLoad(broker: RunningBroker, spec: LoadSpec, timing: LoadTiming): Promise<LoadResult> {
  const shared = new Int32Array(new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT));
  const target: BrokerTarget = {
    host: '127.0.0.1',
    mqttPort: broker.mqttPort,
    ...(broker.mqttUsername === undefined ? {} : { mqttUsername: broker.mqttUsername }),
    ...(broker.wampUrl === undefined ? {} : { wampUrl: broker.wampUrl }),
  };
  const timestamp = spec.via === 'wamp' ? 'decimal' : 'binary';
  const subscribers = split('sub', spec.subscribers, timing.threads).map(
    (clientIds) => new GeneratorThread({ role: 'subscribers', target, clientIds, topic: TOPIC, qos: spec.qos, timestamp, sampleEvery: spec.sampleEvery, stalled: false }, shared),
  );
  const stalled =
    (spec.stalledSubscribers ?? 0) > 0
      ? split('stalled', spec.stalledSubscribers!, 1).map((clientIds) => new GeneratorThread({ role: 'subscribers', target, clientIds, topic: TOPIC, qos: spec.qos, timestamp, sampleEvery: 1, stalled: true }, shared))
      : [];
  const all: GeneratorThread[] = [...subscribers, ...stalled];
  try {
    await Promise.all(all.map((thread) => thread.next('ready')));
    const publishers = split('pub', spec.publishers, timing.threads).map(
      (clientIds) =>
        new GeneratorThread(
          { role: 'publishers', target, clientIds, via: spec.via, topic: TOPIC, qos: spec.qos, payloadSize: spec.payloadSize, batch: spec.batch, fanout: spec.subscribers, pacing: spec.pacing },
          shared,
        ),
    );
    all.push(...publishers);
    await Promise.all(publishers.map((thread) => thread.next('ready')));
    for (const thread of publishers) thread.post({ type: 'go' });

    await sleep(timing.warmupMs);
    await Promise.all(all.map((thread) => thread.next('mark', { type: 'mark' })));
    const before = { received: Atomics.load(shared, Slot.received), cpu: cpuSeconds(broker.pid), generator: process.cpuUsage(), machine: machineBusySeconds(), at: process.hrtime.bigint() };
    const measuredFromMicros = Number(before.at) / 1000;
    Atomics.store(shared, Slot.phase, Phase.measuring);
    timing.onMeasureStart?.();
    for (let elapsed = 0; elapsed < timing.measureMs; elapsed += 100) {
      await sleep(Math.min(100, timing.measureMs - elapsed));
      if (timing.onTick?.({ sent: Atomics.load(shared, Slot.sent), received: Atomics.load(shared, Slot.received) }) === true) break;
    }
    const received = Atomics.load(shared, Slot.received);
    const cpu = cpuSeconds(broker.pid);
    const generator = process.cpuUsage(before.generator);
    const machine = machineBusySeconds() - before.machine;
    const measuredToMicros = nowMicros();
    const seconds = (measuredToMicros - measuredFromMicros) / 1e6;
    const marks = await Promise.all(all.map((thread) => thread.next('mark', { type: 'mark' })));
    Atomics.store(shared, Slot.phase, Phase.stopping);
    Atomics.notify(shared, Slot.received);

    // In flight when the publishers stopped: wait until it arrived, or until nothing moved for a second.
    let last = -1;
    let stillSince = Date.now();
    while (Atomics.load(shared, Slot.received) < Atomics.load(shared, Slot.sent) * spec.subscribers && Date.now() - stillSince < 1000) {
      const now = Atomics.load(shared, Slot.received);
      if (now !== last) {
        last = now;
        stillSince = Date.now();
      }
      await sleep(20);
    }
    const lost = Math.max(0, Atomics.load(shared, Slot.sent) * spec.subscribers - Atomics.load(shared, Slot.received));
    const results = await Promise.all(all.map((thread) => thread.next('result', { type: 'finish' })));
    const latencies = new Float64Array(results.reduce((sum, result) => sum + result.latenciesMicros.length, 0));
    let offset = 0;
    for (const result of results) {
      latencies.set(result.latenciesMicros, offset);
      offset += result.latenciesMicros.length;
    }
    return {
      messages: received - before.received,
      measuredFromMicros,
      measuredToMicros,
      sent: Atomics.load(shared, Slot.sent),
      seconds,
      latenciesMicros: latencies,
      brokerCpuSeconds: cpu - before.cpu,
      brokerCores: (cpu - before.cpu) / seconds,
      generatorCores: (generator.user + generator.system) / 1e6 / seconds,
      otherCores: Math.max(0, machine - (cpu - before.cpu) - (generator.user + generator.system) / 1e6) / seconds,
      maxGeneratorElu: Math.max(...marks.map((mark) => mark.elu)),
      peakRssMiB: peakRssMiB(broker.pid),
      lost,
      disconnects: Atomics.load(shared, Slot.disconnects),
      publisherStalls: Atomics.load(shared, Slot.publisherStalls),
      stalledClosed: results.reduce((sum, result) => sum + result.stalledClosed, 0),
      errors: results.flatMap((result) => result.errors),
    };
  } finally {
    await Promise.all(all.map((thread) => thread.terminate()));
  }
}
