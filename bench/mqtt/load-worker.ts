/**
 * One generator thread of the MQTT benchmark (started by bench/mqtt/load-generator.ts): either a group of
 * subscribers that count what arrives and sample its latency, or a group of publishers that send
 * pre-encoded messages as fast as the end-to-end window allows or at a fixed rate. Threads see each other's
 * progress through counters in shared memory; the coordinator reads their event-loop utilization to tell
 * whether a generator thread, not the broker, was the limit.
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { nowMicros, sleep } from '../support/clock.js';
import { LeanMqttClient } from './lean-mqtt-client.js';
import { Phase, Slot, type FromWorker, type PublisherJob, type SubscriberJob, type ToWorker, type WorkerJob } from './load-protocol.js';
import { PacketType, publishPacketId, publishPayloadStart } from './packet-reader.js';
import { DECIMAL_STAMP_BASE, MqttStampedPublisher, WampStampedPublisher, type StampedPublisher } from './stamped-publishers.js';

const { job, shared } = workerData as { job: WorkerJob; shared: Int32Array };
const port = parentPort!;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** QoS 1 PUBLISHes a publisher leaves unacknowledged (below the Receive Maximum of every broker here). */
const MAX_UNACKED = 500;
/** How long a windowed publisher waits for in-flight messages to arrive before it gives them up. */
const STALL_MS = 1000;
/** Clients connecting at once: more overflow a listen backlog (Mosquitto's), and a dropped SYN costs a second. */
const CONNECT_CONCURRENCY = 50;

type AtomicsWithWaitAsync = typeof Atomics & {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs?: number): { async: boolean; value: Promise<string> | string };
};

/** Waits (without spinning) until `Slot.received` differs from `seen`, or at most `timeoutMs`. */
async function receivedChanged(seen: number, timeoutMs: number): Promise<void> {
  const result = (Atomics as AtomicsWithWaitAsync).waitAsync(shared, Slot.received, seen, timeoutMs);
  if (result.async) await result.value;
}

async function connectAll<T>(ids: readonly string[], connect: (id: string) => Promise<T>): Promise<T[]> {
  const clients: T[] = [];
  for (let i = 0; i < ids.length; i += CONNECT_CONCURRENCY) clients.push(...(await Promise.all(ids.slice(i, i + CONNECT_CONCURRENCY).map(connect))));
  return clients;
}

let finishing = false;
const errors: string[] = [];

function noteClosed(what: string, reason: string | undefined): void {
  if (finishing) return;
  Atomics.add(shared, Slot.disconnects, 1);
  if (errors.length < 5) errors.push(`${what} closed by the broker: ${reason ?? 'closed'}`);
}

/** What a generator thread does: publishers start on `go`; both kinds report and close on `finish`. */
interface Role {
  go?(): Promise<void>;
  finish(): Promise<{ latencies: Float64Array; stalledClosed: number }>;
}

// --- subscribers ---

async function startSubscribers(spec: SubscriberJob): Promise<Role> {
  const target = { host: spec.target.host, port: spec.target.mqttPort, ...(spec.target.mqttUsername === undefined ? {} : { username: spec.target.mqttUsername }) };
  const clients = await connectAll(spec.clientIds, async (id) => {
    const client = await LeanMqttClient.connect(target, id);
    await client.subscribe(spec.topic, spec.qos);
    return client;
  });
  const samples: number[] = [];
  let seen = 0;
  for (const client of clients) {
    client.socket.on('close', () => noteClosed(spec.stalled ? 'the stalled subscriber' : 'a subscriber', client.closedBy));
    if (spec.stalled) {
      // A consumer that stops reading: the kernel buffers fill, then the broker's send buffer grows.
      client.socket.pause();
      continue;
    }
    let count = 0;
    let chunkStamp = -1;
    let measuring = false;
    let acks: number[] = [];
    client.onPacket(
      (type, flags, buffer, start) => {
        if (type !== PacketType.publish) return;
        count++;
        if ((flags & 0x06) !== 0) acks.push(publishPacketId(buffer, start));
        if (chunkStamp < 0) {
          // One clock read per chunk: every packet of a chunk arrived at the same moment.
          chunkStamp = nowMicros();
          measuring = Atomics.load(shared, Slot.phase) === Phase.measuring;
        }
        if (measuring && ++seen % spec.sampleEvery === 0) {
          const at = publishPayloadStart(flags, buffer, start);
          const sent = spec.timestamp === 'binary' ? buffer.readDoubleLE(at) : decimalStamp(buffer, at) - DECIMAL_STAMP_BASE;
          samples.push(chunkStamp - sent);
        }
      },
      () => {
        chunkStamp = -1;
        if (acks.length > 0) {
          const pubacks = Buffer.allocUnsafe(acks.length * 4);
          for (let i = 0; i < acks.length; i++) {
            pubacks[i * 4] = 0x40;
            pubacks[i * 4 + 1] = 2;
            pubacks.writeUInt16BE(acks[i]!, i * 4 + 2);
          }
          client.write(pubacks);
          acks = [];
        }
        if (count > 0) {
          Atomics.add(shared, Slot.received, count);
          Atomics.notify(shared, Slot.received);
          count = 0;
        }
      },
    );
  }
  return {
    async finish() {
      finishing = true;
      let stalledClosed = 0;
      if (spec.stalled) {
        // Read again: a connection the broker dropped shows its end now (a paused socket does not see it).
        for (const client of clients) client.socket.resume();
        await Promise.race([Promise.all(clients.map((client) => (client.socket.closed ? undefined : once(client.socket, 'close')))), sleep(1000)]);
        stalledClosed = clients.filter((client) => client.closedBy !== undefined).length;
      }
      for (const client of clients) client.destroy();
      return { latencies: Float64Array.from(samples), stalledClosed };
    },
  };
}

/** The 16 ASCII digits at `at` (a stamp sent as JSON text by the WAMP publisher). */
function decimalStamp(buffer: Buffer, at: number): number {
  let value = 0;
  for (let i = 0; i < 16; i++) value = value * 10 + (buffer[at + i]! - 48);
  return value;
}

// --- publishers ---

async function startPublishers(spec: PublisherJob): Promise<Role> {
  const publishers = await connectAll<StampedPublisher>(spec.clientIds, (id) =>
    spec.via === 'wamp' ? WampStampedPublisher.connect(spec.target.wampUrl!, spec.topic) : MqttStampedPublisher.connect(spec.target, id, spec.topic, spec.qos, spec.payloadSize),
  );
  let running: Promise<void> = Promise.resolve();
  const stopped = () => Atomics.load(shared, Slot.phase) === Phase.stopping;

  async function sendOn(publisher: StampedPublisher, count: number): Promise<void> {
    while (publisher.unacked + count > MAX_UNACKED && publisher.closedBy === undefined && !stopped()) await Promise.race([publisher.nextAck(), sleep(50)]);
    Atomics.add(shared, Slot.sent, count);
    if (!publisher.send(count)) await publisher.drained();
  }

  async function windowed(deliveries: number): Promise<void> {
    let turn = 0;
    let waitingSince = -1;
    let receivedThen = -1;
    while (!stopped()) {
      const received = Atomics.load(shared, Slot.received);
      const sent = Atomics.load(shared, Slot.sent);
      const outstanding = sent * spec.fanout - received - Atomics.load(shared, Slot.forgiven);
      if (outstanding + spec.batch * spec.fanout > deliveries) {
        if (waitingSince < 0 || received !== receivedThen) {
          waitingSince = Date.now();
          receivedThen = received;
        } else if (Date.now() - waitingSince > STALL_MS) {
          // Nothing arrived for a while: the broker dropped messages (QoS 0 may) or stalled. Count what is
          // outstanding as given up, so that a lost message does not shrink the window for good.
          Atomics.add(shared, Slot.forgiven, outstanding);
          Atomics.add(shared, Slot.publisherStalls, 1);
          waitingSince = -1;
          continue;
        }
        await receivedChanged(received, 20);
        continue;
      }
      waitingSince = -1;
      await sendOn(publishers[turn++ % publishers.length]!, spec.batch);
      // Let the socket events of this thread (acknowledgements, drains) in now and then.
      if (turn % 32 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function paced(perSecond: number): Promise<void> {
    const start = nowMicros();
    let sent = 0;
    while (!stopped()) {
      const due = Math.floor(((nowMicros() - start) * perSecond) / 1e6);
      // Each message is its own write, stamped when it goes, so a late tick does not stamp a burst as on time.
      while (sent < due && !stopped()) await sendOn(publishers[sent++ % publishers.length]!, 1);
      await sleep(1);
    }
  }

  for (const [i, publisher] of publishers.entries()) publisher.onClose(() => noteClosed(`publisher ${i}`, publisher.closedBy));
  return {
    async go() {
      running = spec.pacing.kind === 'window' ? windowed(spec.pacing.deliveries) : paced(spec.pacing.perSecond);
      await running;
    },
    async finish() {
      // The loop ends at its next turn; a publisher stuck on a broker that stopped reading does not hold us.
      await Promise.race([running.catch(() => undefined), sleep(2000)]);
      finishing = true;
      for (const publisher of publishers) publisher.close();
      return { latencies: new Float64Array(0), stalledClosed: 0 };
    },
  };
}

// --- the conversation with the coordinator ---

try {
  const role: Role = job.role === 'subscribers' ? await startSubscribers(job) : await startPublishers(job);
  let elu = performance.eventLoopUtilization();
  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'go':
        void role.go?.().catch((error: unknown) => post({ type: 'failed', message: String(error) }));
        return;
      case 'mark': {
        const now = performance.eventLoopUtilization();
        post({ type: 'mark', elu: performance.eventLoopUtilization(now, elu).utilization });
        elu = now;
        return;
      }
      case 'finish':
        void role.finish().then(({ latencies, stalledClosed }) => {
          post({ type: 'result', latenciesMicros: latencies, stalledClosed, errors }, [latencies.buffer as ArrayBuffer]);
          port.close();
        });
        return;
    }
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
