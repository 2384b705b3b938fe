import type { SerializerName } from '@fox-wamp/core';
import { LeanClient } from './lean-client.js';

export interface ScenarioResult {
  /** Messages delivered to the receiving side (events, or RPC round trips). */
  readonly messages: number;
  readonly seconds: number;
  /** Per-message latencies in ms, where the scenario measures them. */
  readonly latenciesMs?: number[];
}

export interface Scenario {
  readonly name: string;
  /** Short name for `--scenarios`: pubsub, acked, fan-out, rpc, pipelined (latency: the fixed-rate row). */
  readonly key: string;
  run(url: string, serializer: SerializerName, count: number): Promise<ScenarioResult>;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Waits until `done()` holds, checking after each received frame batch. */
function until(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (done() ? resolve() : setImmediate(check));
    check();
  });
}

/**
 * One publisher, `subscribers` subscribers, `count` publications sent as fast as the socket drains and an
 * end-to-end window allows: at most `windowDeliveries` events sent and not yet received (as in the MQTT
 * benchmark). Without it a generator whose receiving side is slower than the server makes the server queue
 * without bound, and the run measures that backlog rather than the router.
 */
function pubsub(name: string, key: string, subscribers: number, acknowledge: boolean, windowDeliveries: number): Scenario {
  return {
    name,
    key,
    async run(url, serializer, count) {
      const subs = await Promise.all(Array.from({ length: subscribers }, () => LeanClient.connect(url, serializer)));
      for (const sub of subs) await sub.subscribe('bench.topic');
      const publisher = await LeanClient.connect(url, serializer);
      let received = 0;
      for (const sub of subs) sub.onFrame(() => received++);
      let acked = 0;
      publisher.onFrame(() => acked++);
      const frame = publisher.encode([16, 1, acknowledge ? { acknowledge: true } : {}, 'bench.topic', ['0123456789abcdef0123456789abcdef']]);
      const expected = count * subscribers;
      const inFlight = (sent: number) => sent * subscribers - received;
      const start = now();
      for (let i = 0; i < count; i++) {
        publisher.send(frame);
        if (acknowledge ? i - acked >= 100 : (i & 63) === 63) {
          if (acknowledge) await until(() => i - acked < 100);
          else {
            await publisher.drained();
            if (inFlight(i + 1) > windowDeliveries) await until(() => inFlight(i + 1) <= windowDeliveries);
          }
        }
      }
      await until(() => received >= expected && (!acknowledge || acked >= count));
      const seconds = (now() - start) / 1000;
      for (const client of [...subs, publisher]) client.close();
      return { messages: expected, seconds };
    },
  };
}

/**
 * Publications at a fixed rate with a send timestamp inside; latency = received − sent. Every millisecond the
 * generator sends the publications that have come due, each stamped as it goes (as the MQTT generator does):
 * it keeps tens of thousands per second without spinning a core that the server under test needs.
 */
export function pubsubLatency(ratePerSecond: number): Scenario {
  return {
    name: 'pub/sub 1:1 latency',
    key: 'latency',
    async run(url, serializer, count) {
      const sub = await LeanClient.connect(url, serializer);
      await sub.subscribe('bench.topic');
      const publisher = await LeanClient.connect(url, serializer);
      const latencies: number[] = [];
      sub.onFrame((frame) => {
        const message = sub.decode(frame);
        latencies.push(now() - ((message[4] as number[])[0] as number));
      });
      const perMs = ratePerSecond / 1000;
      const start = now();
      let sent = 0;
      while (sent < count) {
        const due = Math.min(count, Math.floor((now() - start) * perMs) + 1);
        for (; sent < due; sent++) publisher.send(publisher.encode([16, 1, {}, 'bench.topic', [now()]]));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await until(() => latencies.length >= count);
      const seconds = (now() - start) / 1000;
      sub.close();
      publisher.close();
      return { messages: count, seconds, latenciesMs: latencies };
    },
  };
}

/** RPC with `window` calls outstanding (1 = sequential round trips); measures each call's latency. */
function rpc(name: string, key: string, window: number): Scenario {
  return {
    name,
    key,
    async run(url, serializer, count) {
      const callee = await LeanClient.connect(url, serializer);
      await callee.register('bench.echo');
      callee.serveEcho();
      const caller = await LeanClient.connect(url, serializer);
      const sentAt = new Map<number, number>();
      const latencies: number[] = [];
      caller.onFrame((frame) => {
        const message = caller.decode(frame);
        const request = message[1] as number;
        latencies.push(now() - sentAt.get(request)!);
        sentAt.delete(request);
      });
      const start = now();
      for (let request = 1; request <= count; request++) {
        if (sentAt.size >= window) await until(() => sentAt.size < window);
        sentAt.set(request, now());
        caller.send(caller.encode([48, request, {}, 'bench.echo', [request]]));
      }
      await until(() => latencies.length >= count);
      const seconds = (now() - start) / 1000;
      callee.close();
      caller.close();
      return { messages: count, seconds, latenciesMs: latencies };
    },
  };
}

export const SCENARIOS: readonly Scenario[] = [
  pubsub('pub/sub 1:1', 'pubsub', 1, false, 4_000),
  pubsub('pub/sub 1:1 acknowledged', 'acked', 1, true, 4_000),
  pubsub('fan-out 1→100', 'fan-out', 100, false, 50_000),
  rpc('RPC sequential', 'rpc', 1),
  rpc('RPC pipelined (100)', 'pipelined', 100),
];
