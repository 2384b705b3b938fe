/**
 * CPU cost per message of the WAMP gate and the router, in this process and without sockets: a publisher, a
 * subscriber, a callee and a caller on `WampConnection`s whose transports are plain functions, frames encoded
 * as a client would send them. It measures what our code costs (decoding, checks, routing, history, metrics,
 * encoding) without `ws`, TCP and a load generator, so a change shows even on a machine too busy for
 * `wamp-bench` to give steady ratios. The figure is CPU time (not wall time) per message, the least of many
 * rounds: other processes inflate some rounds, rarely all.
 *
 *   node dist/bench/wamp-gate-bench.js [--scenarios pubsub,acked,rpc] [--no-metrics] [--history 0] [--rounds 25]
 */
import { parseArgs } from 'node:util';
import { JsonSerializer, NO_METRICS, PrometheusMetrics, Router, WampConnection, type WampMessage, type WampTransport } from '@fox-wamp/core';

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'pubsub,acked,rpc' },
    'no-metrics': { type: 'boolean', default: false },
    history: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '25' },
    messages: { type: 'string', default: '40000' },
  },
});
const ROUNDS = Number(values.rounds);
const MESSAGES = Number(values.messages);
const serializer = new JsonSerializer();
const quiet = { debug() {}, info() {}, warn() {}, error: (message: string, fields?: unknown) => console.error(message, fields) };
// As the server runs by default: metrics on, an event history of 1000 events.
const router = new Router({
  realms: ['realm1'],
  realmOptions: { uriCheck: 'loose', history: { maxEvents: Number(values.history), maxAgeMs: 3_600_000 } },
  metrics: values['no-metrics'] ? NO_METRICS : new PrometheusMetrics(),
  logger: quiet,
});

/** A connection whose transport hands every frame to `onFrame`, as the WebSocket listener's does (JSON as bytes). */
function connect(onFrame: (frame: string | Buffer) => void): WampConnection {
  const transport: WampTransport = { serializer, kind: 'websocket', remoteAddress: '127.0.0.1', textAsBytes: true, send: onFrame, bufferedBytes: () => 0, close() {} };
  return new WampConnection(router, transport, { goodbyeTimeoutMs: 1000 }, quiet);
}

/** Feeds one message to a connection as a client's text frame. */
function receive(connection: WampConnection, message: unknown[]): void {
  const frame = serializer.encode(message as WampMessage);
  connection.receive(frame, Buffer.byteLength(frame));
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const decode = (frame: string | Buffer) => serializer.decode(frame);

let events = 0;
let answers = 0;
const subscriber = connect(() => events++);
const publisher = connect(() => answers++);
const caller = connect(() => answers++);
const callee = connect((frame) => {
  const message = decode(frame);
  if (message[0] === 68) receive(callee, [70, message[1], {}, message[4]]);
});
for (const connection of [subscriber, publisher, caller, callee]) {
  receive(connection, [1, 'realm1', { roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} } }]);
}
await turn();
receive(subscriber, [32, 1, {}, 'bench.topic']);
receive(callee, [64, 1, {}, 'bench.echo']);
await turn();

const ARGS = ['0123456789abcdef0123456789abcdef'];
const SCENARIOS: Record<string, { send(i: number): void; done(): number }> = {
  pubsub: (() => {
    const frame = serializer.encode([16, 1, {}, 'bench.topic', ARGS]);
    const bytes = Buffer.byteLength(frame);
    return { send: () => publisher.receive(frame, bytes), done: () => events };
  })(),
  acked: (() => {
    const frame = serializer.encode([16, 1, { acknowledge: true }, 'bench.topic', ARGS]);
    const bytes = Buffer.byteLength(frame);
    return { send: () => publisher.receive(frame, bytes), done: () => Math.min(events, answers) };
  })(),
  rpc: { send: (i) => receive(caller, [48, i + 1, {}, 'bench.echo', [i]]), done: () => answers },
};

for (const name of values.scenarios.split(',')) {
  const scenario = SCENARIOS[name];
  if (scenario === undefined) throw new Error(`unknown scenario ${name} (pubsub, acked, rpc)`);
  const perMessage: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    events = 0;
    answers = 0;
    const before = process.cpuUsage();
    for (let i = 0; i < MESSAGES; i++) {
      scenario.send(i);
      // Let promise jobs and timers run now and then, as between the TCP chunks of a real connection.
      if ((i & 255) === 255) await turn();
    }
    while (scenario.done() < MESSAGES) await turn();
    const used = process.cpuUsage(before);
    perMessage.push(((used.user + used.system) * 1000) / MESSAGES);
  }
  perMessage.sort((a, b) => a - b);
  const median = perMessage[Math.floor(perMessage.length / 2)]!;
  console.log(`${name}: ${perMessage[0]!.toFixed(0)} ns CPU per message (least of ${ROUNDS} rounds; median ${median.toFixed(0)})`);
}
await router.close();
