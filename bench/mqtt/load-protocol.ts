/**
 * What the coordinator (bench/mqtt/load-generator.ts) and the generator threads (bench/mqtt/load-worker.ts)
 * share: the jobs, the messages between them, and the counters in shared memory through which publishers
 * see how far the subscribers are (end-to-end flow control without messages between threads).
 */

/** Slots of the shared Int32Array. */
export const Slot = {
  /** `Phase`: publishers stop at `stopping`; subscribers sample latency only while `measuring`. */
  phase: 0,
  /** Messages received by all (counted) subscribers; notified on every update, publishers wait on it. */
  received: 1,
  /** Publications sent by all publishers. */
  sent: 2,
  /** Connections the broker closed while the run was on. */
  disconnects: 3,
  /** Times a publisher stopped waiting for messages that did not arrive (see `load-worker.ts`). */
  publisherStalls: 4,
  /** Deliveries the publishers stopped waiting for: the window counts them as received. */
  forgiven: 5,
} as const;
export const SLOT_COUNT = 6;

export const Phase = { warmup: 0, measuring: 1, stopping: 2 } as const;

export interface BrokerTarget {
  readonly host: string;
  readonly mqttPort: number;
  readonly mqttUsername?: string;
  readonly wampUrl?: string;
}

/** How a receiver finds the send time in a payload: 8 bytes (double, µs) or 16 ASCII digits of 1e15 + µs (JSON from WAMP). */
export type TimestampFormat = 'binary' | 'decimal';

export interface SubscriberJob {
  readonly role: 'subscribers';
  readonly target: BrokerTarget;
  readonly clientIds: readonly string[];
  readonly topic: string;
  readonly qos: 0 | 1;
  readonly timestamp: TimestampFormat;
  /** Record the latency of every n-th message (while measuring). */
  readonly sampleEvery: number;
  /** Stop reading right after SUBACK and never count anything (the stalled-consumer check). */
  readonly stalled: boolean;
}

export type Pacing =
  /** As fast as the broker goes, with at most `deliveries` messages sent and not yet received end to end. */
  | { readonly kind: 'window'; readonly deliveries: number }
  /** A fixed rate over all publishers of the job (latency at moderate load). */
  | { readonly kind: 'rate'; readonly perSecond: number };

export interface PublisherJob {
  readonly role: 'publishers';
  readonly target: BrokerTarget;
  readonly clientIds: readonly string[];
  /** `mqtt`: MQTT PUBLISH on `topic`; `wamp`: WAMP PUBLISH (JSON over WebSocket) on `topic` with `/` as `.`. */
  readonly via: 'mqtt' | 'wamp';
  readonly topic: string;
  readonly qos: 0 | 1;
  readonly payloadSize: number;
  /** Messages per write (window pacing). */
  readonly batch: number;
  /** Deliveries per publication: the subscribers that count (fan-out: all of them). */
  readonly fanout: number;
  readonly pacing: Pacing;
}

export type WorkerJob = SubscriberJob | PublisherJob;

export type ToWorker = { readonly type: 'go' } | { readonly type: 'mark' } | { readonly type: 'finish' };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'mark'; readonly elu: number }
  | {
      readonly type: 'result';
      readonly latenciesMicros: Float64Array;
      /** Stalled subscribers found closed by the broker when they read again at the end. */
      readonly stalledClosed: number;
      readonly errors: readonly string[];
    }
  | { readonly type: 'failed'; readonly message: string };
