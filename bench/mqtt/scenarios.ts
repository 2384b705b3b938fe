import type { LoadSpec } from './load-generator.js';

/** A load scenario of the MQTT benchmark, run against each broker in turn. */
export interface LoadScenario {
  /** For `--scenarios`. */
  readonly key: string;
  readonly name: string;
  readonly spec: LoadSpec;
  /** WAMP → MQTT: only for the brokers that speak both. */
  readonly bridged?: boolean;
}

/** Payload: the 8-byte send stamp and filler, 32 bytes as in the WAMP benchmark. */
const PAYLOAD = 32;

/**
 * Throughput scenarios run with end-to-end windows: at most that many messages sent and not yet received.
 * A window keeps every broker busy without letting it queue without bound (QoS 1 stays under the 1000
 * messages that ours and Mosquitto queue per session before dropping). Latency under such load is mostly
 * the window's queueing; the `at N/s` scenarios measure latency at a moderate fixed rate.
 */
export function loadScenarios(latencyRate: number): readonly LoadScenario[] {
  return [
    {
      key: 'qos0',
      name: 'QoS 0 1:1',
      spec: { publishers: 1, subscribers: 1, qos: 0, via: 'mqtt', payloadSize: PAYLOAD, batch: 100, pacing: { kind: 'window', deliveries: 4000 }, sampleEvery: 16 },
    },
    {
      key: 'qos1',
      name: 'QoS 1 1:1',
      spec: { publishers: 1, subscribers: 1, qos: 1, via: 'mqtt', payloadSize: PAYLOAD, batch: 50, pacing: { kind: 'window', deliveries: 1000 }, sampleEvery: 8 },
    },
    {
      key: 'fan-in',
      name: 'fan-in 100→1 (QoS 0)',
      spec: { publishers: 100, subscribers: 1, qos: 0, via: 'mqtt', payloadSize: PAYLOAD, batch: 20, pacing: { kind: 'window', deliveries: 4000 }, sampleEvery: 16 },
    },
    {
      key: 'fan-out',
      name: 'fan-out 1→1000 (QoS 0)',
      spec: { publishers: 1, subscribers: 1000, qos: 0, via: 'mqtt', payloadSize: PAYLOAD, batch: 2, pacing: { kind: 'window', deliveries: 50_000 }, sampleEvery: 256 },
    },
    {
      key: 'latency',
      name: `QoS 0 1:1 at ${latencyRate.toLocaleString('en-US')}/s`,
      spec: { publishers: 1, subscribers: 1, qos: 0, via: 'mqtt', payloadSize: PAYLOAD, batch: 1, pacing: { kind: 'rate', perSecond: latencyRate }, sampleEvery: 1 },
    },
    {
      key: 'latency',
      name: `QoS 1 1:1 at ${latencyRate.toLocaleString('en-US')}/s`,
      spec: { publishers: 1, subscribers: 1, qos: 1, via: 'mqtt', payloadSize: PAYLOAD, batch: 1, pacing: { kind: 'rate', perSecond: latencyRate }, sampleEvery: 1 },
    },
    {
      key: 'bridged',
      name: 'WAMP → MQTT bridged (QoS 0)',
      bridged: true,
      spec: { publishers: 1, subscribers: 1, qos: 0, via: 'wamp', payloadSize: PAYLOAD, batch: 100, pacing: { kind: 'window', deliveries: 4000 }, sampleEvery: 16 },
    },
  ];
}

/** Payload of the stalled-consumer flood: large, so that the broker has 64 MiB to hold within seconds. */
export const STALL_PAYLOAD = 8 * 1024;

/** One subscriber stops reading while another keeps up and a publisher floods 8 KiB messages. */
export function stalledConsumerSpec(qos: 0 | 1): LoadSpec {
  return {
    publishers: 1,
    subscribers: 1,
    stalledSubscribers: 1,
    qos,
    via: 'mqtt',
    payloadSize: STALL_PAYLOAD,
    batch: 8,
    pacing: { kind: 'window', deliveries: qos === 0 ? 1000 : 400 },
    sampleEvery: 64,
  };
}
