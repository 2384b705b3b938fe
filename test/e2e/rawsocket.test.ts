import { request as httpRequest, Agent } from 'node:http';
import { createServer, type Server } from 'node:net';
import { unpack } from 'msgpackr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { SILENT_LOGGER, Router, WampRawSocketAcceptor, WampRawSocketListener } from '@fox-wamp/core';
import {
  autobahn,
  AutobahnClients,
  Inbox,
  SERIALIZERS,
  connectAutobahn,
  rejectionOf,
  type AutobahnClient,
  type AutobahnResult,
  type Dict,
} from '../support/autobahn-client.js';
import { PythonScript, pythonAutobahnProblem } from '../support/python-process.js';
import {
  FrameType,
  HELLO_ROLES,
  RawSocketProbe,
  ScriptedSocket,
  SerializerCode,
  frame,
  handshakeRequest,
  jsonFrame,
  overRawSocket,
  ownRawSocketPortOf,
  splitFrames,
} from '../support/rawsocket-client.js';
import { runServerToExit, startServer, type RunningServer } from '../support/server-process.js';

/**
 * WAMP over RawSocket (WAMP spec, "RawSocket Transport") on the standalone server: on the HTTP port, where the
 * first octet 0x7F picks RawSocket, and on the port of its own that `--rawsocket-port` opens. Real clients
 * (npm autobahn's Node RawSocket transport, autobahn-python's asyncio one with all three serializers) do the
 * WAMP work; a hand-driven TCP client checks the handshake, the framing, the limits and bad input.
 */

const WAMP = { HELLO: 1, WELCOME: 2, ABORT: 3, GOODBYE: 6, ERROR: 8, PUBLISH: 16, PUBLISHED: 17, SUBSCRIBE: 32, SUBSCRIBED: 33, EVENT: 36, CALL: 48, RESULT: 50 } as const;

/** Probes of the current test, closed in afterEach whatever happened to them. */
const probes: RawSocketProbe[] = [];

async function probe(port: number): Promise<RawSocketProbe> {
  const connected = await RawSocketProbe.connect(port);
  probes.push(connected);
  return connected;
}

async function joinedProbe(port: number, lengthExponent?: number): Promise<{ probe: RawSocketProbe; welcome: unknown[] }> {
  const joined = await RawSocketProbe.joined(port, 'realm1', lengthExponent);
  probes.push(joined.probe);
  return joined;
}

afterEach(async () => {
  await Promise.all(probes.splice(0).map((client) => client.close()));
});

async function health(httpUrl: string): Promise<{ status: string; sessions: number }> {
  const response = await fetch(`${httpUrl}/health`);
  expect(response.status).toBe(200);
  return (await response.json()) as { status: string; sessions: number };
}

describe('npm autobahn over RawSocket (JSON)', () => {
  let server: RunningServer;
  let ownPort: number;
  const clients = new AutobahnClients(() => server.wampUrl);

  beforeAll(async () => {
    server = await startServer(['--rawsocket-port', '0']);
    ownPort = ownRawSocketPortOf(server);
  });

  afterEach(async () => {
    await clients.closeAll();
  });

  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  it('logs the RawSocket endpoints: the shared HTTP port and the port of its own', () => {
    expect(server.output()).toContain(`listening rawsocket tcp://127.0.0.1:${server.port} (shared with http)`);
    expect(server.output()).toMatch(new RegExp(`listening rawsocket tcp://127\\.0\\.0\\.1:${ownPort}\\s*$`, 'm'));
    expect(ownPort).not.toBe(server.port);
  });

  describe.each([
    ['the shared HTTP port', () => server.port],
    ['the --rawsocket-port', () => ownPort],
  ])('on %s', (_where, portOf) => {
    const rawSocket = () => overRawSocket(portOf());

    it('a RawSocket callee serves a RawSocket caller, args, kwargs and errors included', async () => {
      const callee = await clients.connect('json', 'realm1', rawSocket());
      const caller = await clients.connect('json', 'realm1', rawSocket());
      expect(caller.welcome.transport).toMatchObject({ type: 'rawsocket' });
      await callee.session.register('rs.add', (args, kwargs) => new autobahn.Result([(args[0] as number) + (args[1] as number)], { by: kwargs.who }));
      await callee.session.register('rs.refuse', () => {
        throw new autobahn.Error('rs.error.refused', ['no'], { code: 7 });
      });

      const result = (await caller.session.call('rs.add', [2, 3], { who: 'rawsocket' })) as AutobahnResult;
      expect(result.args).toEqual([5]);
      expect(result.kwargs).toEqual({ by: 'rawsocket' });
      const error = await rejectionOf(caller.session.call('rs.refuse'));
      expect(error).toMatchObject({ error: 'rs.error.refused', args: ['no'], kwargs: { code: 7 } });
    });

    it('a RawSocket subscriber receives what a RawSocket publisher publishes', async () => {
      const subscriber = await clients.connect('json', 'realm1', rawSocket());
      const publisher = await clients.connect('json', 'realm1', rawSocket());
      const events = new Inbox<{ args: unknown[]; kwargs: Dict; publication: number }>();
      await subscriber.session.subscribe('rs.news', (args, kwargs, details) => events.push({ args, kwargs, publication: details.publication }));

      const published = await publisher.session.publish('rs.news', ['hello', 1], { big: 'x'.repeat(100_000) }, { acknowledge: true });
      const [event] = await events.waitFor(1);
      expect(event!.args).toEqual(['hello', 1]);
      expect(event!.kwargs).toEqual({ big: 'x'.repeat(100_000) });
      expect(event!.publication).toBe(published!.id);
    });
  });

  it('a RawSocket publisher reaches a WebSocket subscriber, and a WebSocket caller a RawSocket callee', async () => {
    const webSocket = await clients.connect('msgpack');
    const rawSocket = await clients.connect('json', 'realm1', overRawSocket(server.port));
    const events = new Inbox<unknown[]>();
    await webSocket.session.subscribe('mixed.news', (args) => events.push(args));
    await rawSocket.session.register('mixed.double', (args) => (args[0] as number) * 2);

    await rawSocket.session.publish('mixed.news', ['from rawsocket'], {}, { acknowledge: true });
    expect((await events.waitFor(1))[0]).toEqual(['from rawsocket']);
    expect(await webSocket.session.call('mixed.double', [21])).toBe(42);
  });

  it('WELCOME over RawSocket announces the same roles and features as over WebSocket (RawSocket is no feature)', async () => {
    const webSocket = await clients.connect('json');
    const rawSocket = await clients.connect('json', 'realm1', overRawSocket(ownPort));
    expect(rawSocket.welcome.roles).toEqual(webSocket.welcome.roles);
  });

  it('a RawSocket callee that drops its connection without GOODBYE loses its registration', async () => {
    const callee = await clients.connect('json', 'realm1', overRawSocket(ownPort));
    const caller = await clients.connect('json');
    await callee.session.register('rs.gone', () => 'here');
    expect(await caller.session.call('rs.gone')).toBe('here');

    await callee.drop();
    const error = await rejectionOf(caller.session.call('rs.gone'));
    expect(error.error).toBe('wamp.error.no_such_procedure');
  });

  it('the shared HTTP port keeps serving /health over keep-alive and WAMP over WebSocket while RawSocket sessions are open', async () => {
    const rawSocket = await clients.connect('json', 'realm1', overRawSocket(server.port));
    const webSocket = await clients.connect('cbor');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answers: Array<{ status: number | undefined; reused: boolean }> = [];
      for (let i = 0; i < 3; i++) {
        answers.push(
          await new Promise((resolve, reject) => {
            const request = httpRequest(`${server.httpUrl}/health`, { agent }, (response) => {
              response.resume();
              response.on('end', () => resolve({ status: response.statusCode, reused: request.reusedSocket }));
            });
            request.on('error', reject);
            request.end();
          }),
        );
      }
      // One TCP connection for all three: the sniffer hands HTTP connections over whole, keep-alive included.
      expect(answers).toEqual([
        { status: 200, reused: false },
        { status: 200, reused: true },
        { status: 200, reused: true },
      ]);
    } finally {
      agent.destroy();
    }
    await webSocket.session.register('ws.ping', () => 'pong');
    expect(await rawSocket.session.call('ws.ping')).toBe('pong');
  });
});

// The scripts run through py_over_rawsocket.py, which works around a bug of autobahn-python 22.7's RawSocket client.
describe('autobahn-python over RawSocket', () => {
  let server: RunningServer;
  let ownPort: number;
  const clients = new AutobahnClients(() => server.wampUrl);

  beforeAll(async () => {
    const problem = pythonAutobahnProblem();
    if (problem !== undefined) throw new Error(`cannot run the autobahn-python tests: ${problem}`);
    server = await startServer(['--rawsocket-port', '0']);
    ownPort = ownRawSocketPortOf(server);
  });

  afterEach(async () => {
    await clients.closeAll();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describe.each(SERIALIZERS)('with %s', (serializer) => {
    it('a Python callee on the shared HTTP port (rs://) serves a Node WebSocket caller, bytes included', async () => {
      const callee = new PythonScript('py_over_rawsocket.py', ['py_callee.py', `rs://127.0.0.1:${server.port}`, 'realm1', serializer]);
      try {
        await callee.waitForLine('ready');
        const { session } = await clients.connect(serializer);
        expect(await session.call('com.py.add', [2, 3])).toBe(5);
        const sum = (await session.call('com.py.add', [1, 2, 3], { label: 'six' })) as AutobahnResult;
        expect(sum.kwargs).toEqual({ count: 3, label: 'six' });
        // Over JSON, bytes travel as the spec's "\0" + base64 string; the others carry them natively.
        const bytes = Buffer.from([0, 1, 254, 255]);
        const reversed = (await session.call('com.py.reverse_bytes', [serializer === 'json' ? `\u0000${bytes.toString('base64')}` : bytes])) as AutobahnResult;
        expect(reversed.kwargs).toEqual({ type: 'bytes' });
        const back = reversed.args[0];
        expect(serializer === 'json' ? [...Buffer.from((back as string).slice(1), 'base64')] : [...(back as Uint8Array)]).toEqual([255, 254, 1, 0]);
      } finally {
        expect(await callee.stop()).toBe(0);
      }
    });

    it('a Python client on the --rawsocket-port calls, gets an error, receives an event and publishes', async () => {
      const prefix = `com.rs.${serializer}`;
      const node = await clients.connect(serializer);
      await node.session.register(`${prefix}.greet`, (args, kwargs) => new autobahn.Result([`Hello, ${String(args[0])}${String(kwargs.punctuation)}`], { language: 'node' }));
      await node.session.register(`${prefix}.fail`, (args) => {
        throw new autobahn.Error('com.node.error.refused', ['node says no'], { received: args.length });
      });
      // CBOR carries bytes for the Node side whatever the Python client speaks.
      const bytesCallee = serializer === 'json' ? await clients.connect('cbor') : node;
      await bytesCallee.session.register(`${prefix}.reverse`, (args) => Buffer.from(args[0] as Uint8Array).reverse());
      const fromPython = new Inbox<{ args: unknown[]; kwargs: Dict }>();
      await node.session.subscribe(`${prefix}.from_python`, (args, kwargs) => fromPython.push({ args, kwargs }));

      const script = new PythonScript('py_over_rawsocket.py', ['py_client.py', `rs://127.0.0.1:${ownPort}`, 'realm1', serializer, prefix]);
      try {
        await script.waitForLine('subscribed');
        await node.session.publish(`${prefix}.news`, [1, 'two'], { three: 3 }, { acknowledge: true });
        const { result } = (await script.waitForLine('result')) as { result: Dict };
        expect(await script.exit()).toBe(0);
        expect(result.greet).toEqual({ args: ['Hello, python!'], kwargs: { language: 'node' } });
        expect(result.fail).toEqual({ error: 'com.node.error.refused', args: ['node says no'], kwargs: { received: 2 } });
        expect(result.reverse).toEqual({ type: 'bytes', hex: 'fffe0100' });
        expect(result.news).toEqual({ args: [1, 'two'], kwargs: { three: 3 } });
        const [event] = await fromPython.waitFor(1);
        expect(event).toEqual({ args: ['hi', 42], kwargs: { ok: true } });
      } finally {
        await script.stop();
      }
    });
  });
});

describe('handshake, framing and bad input (a hand-driven TCP client)', () => {
  /** `--max-message-size 100000`: the handshake can only say powers of two, so the router announces 2^16. */
  const LIMIT = 65_536;
  let server: RunningServer;
  let ownPort: number;
  const clients = new AutobahnClients(() => server.wampUrl);
  /** A WebSocket and a RawSocket session that stay connected while each test misbehaves next to them. */
  let bystanders: { webSocket: AutobahnClient; rawSocket: AutobahnClient; events: Inbox<unknown> };
  let round = 0;

  beforeAll(async () => {
    server = await startServer(['--rawsocket-port', '0', '--max-message-size', '100000']);
    ownPort = ownRawSocketPortOf(server);
    const webSocket = await connectAutobahn(server.wampUrl, 'json');
    const rawSocket = await connectAutobahn(server.wampUrl, 'json', 'realm1', overRawSocket(ownPort));
    const events = new Inbox<unknown>();
    await rawSocket.session.subscribe('bystander.news', (args) => events.push(args[0]));
    await rawSocket.session.register('bystander.echo', (args) => args[0]);
    bystanders = { webSocket, rawSocket, events };
  });

  afterEach(async () => {
    await clients.closeAll();
    // The server is alive and the bystanders never noticed: publish→event and call→result still go through.
    expect(server.process.exitCode).toBeNull();
    const token = `round-${++round}`;
    await bystanders.webSocket.session.publish('bystander.news', [token], {}, { acknowledge: true });
    await bystanders.events.waitUntil((items) => items.includes(token), `the bystander event ${token}`);
    expect(await bystanders.webSocket.session.call('bystander.echo', [token])).toBe(token);
  });

  afterAll(async () => {
    await bystanders?.webSocket.close();
    await bystanders?.rawSocket.close();
    expect(await server?.stop()).toBe(0);
  });

  it.each([
    ['JSON', SerializerCode.json],
    ['MessagePack', SerializerCode.msgpack],
    ['CBOR', SerializerCode.cbor],
  ])('accepts %s: echoes the serializer and announces 2^16, the largest power of two within the limit', async (_name, code) => {
    const client = await probe(ownPort);
    expect([...(await client.handshake(handshakeRequest(code)))]).toEqual([0x7f, (7 << 4) | code, 0, 0]);
  });

  it('announces the protocol maximum, 16 MiB (LLLL = 15), with the default limit', async () => {
    const defaults = await startServer();
    try {
      const client = await probe(defaults.port);
      expect([...(await client.handshake(handshakeRequest(SerializerCode.json, 0)))]).toEqual([0x7f, 0xf1, 0, 0]);
      await client.close();
    } finally {
      await defaults.stop();
    }
  });

  it.each([
    ['UBJSON (4), which we do not ship', SerializerCode.ubjson],
    ['0, which is illegal', 0],
    ['15, which is reserved', 15],
  ])('answers serializer %s with error 1, "serializer unsupported", and closes', async (_what, code) => {
    const client = await probe(ownPort);
    expect([...(await client.handshake(handshakeRequest(code)))]).toEqual([0x7f, 1 << 4, 0, 0]);
    await client.waitClosed();
  });

  it('answers reserved handshake octets that are not zero with error 3, "use of reserved bits", and closes', async () => {
    const client = await probe(server.port);
    expect([...(await client.handshake(handshakeRequest(SerializerCode.json, 15, [0, 1])))]).toEqual([0x7f, 3 << 4, 0, 0]);
    await client.waitClosed();
  });

  it('closes a connection on the RawSocket port whose first octet is not 0x7F, without a reply', async () => {
    const client = await probe(ownPort);
    client.write(Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
    await client.waitClosed();
    expect(client.unread.length).toBe(0);
  });

  it('completes a handshake and reads frames written one octet per TCP write', async () => {
    const client = await probe(server.port);
    await client.writeByteByByte(handshakeRequest(SerializerCode.json));
    expect([...(await client.read(4))]).toEqual([0x7f, 0x71, 0, 0]);
    await client.writeByteByByte(jsonFrame([WAMP.HELLO, 'realm1', { roles: HELLO_ROLES }]));
    expect((await client.nextMessage())[0]).toBe(WAMP.WELCOME);
    await client.writeByteByByte(jsonFrame([WAMP.CALL, 1, {}, 'bystander.echo', ['byte by byte']]));
    expect(await client.nextMessage()).toEqual([WAMP.RESULT, 1, {}, ['byte by byte']]);
  });

  it('reads the handshake and HELLO from one write, and many frames (with a PING among them) from another', async () => {
    const client = await probe(ownPort);
    client.write(Buffer.concat([handshakeRequest(SerializerCode.json), jsonFrame([WAMP.HELLO, 'realm1', { roles: HELLO_ROLES }])]));
    expect((await client.read(4))[0]).toBe(0x7f);
    expect((await client.nextMessage())[0]).toBe(WAMP.WELCOME);

    const calls = Array.from({ length: 20 }, (_, i) => jsonFrame([WAMP.CALL, i + 1, {}, 'bystander.echo', [i]]));
    client.write(Buffer.concat([...calls.slice(0, 10), frame(FrameType.ping, 'in between'), ...calls.slice(10)]));
    const received: unknown[] = [];
    for (let i = 0; i < 21; i++) {
      const next = await client.nextFrame();
      received.push(next.type === FrameType.message ? JSON.parse(next.payload.toString('utf8')) : { type: next.type, payload: next.payload.toString('utf8') });
    }
    expect(received).toContainEqual({ type: FrameType.pong, payload: 'in between' });
    const results = received.filter((item): item is unknown[] => Array.isArray(item));
    expect(results.map((result) => result[1]).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const result of results) expect(result).toEqual([WAMP.RESULT, result[1], {}, [(result[1] as number) - 1]]);
  });

  it('answers a PING with one PONG echoing the payload, any octets, right after the handshake too', async () => {
    const client = await probe(ownPort);
    await client.handshake(handshakeRequest(SerializerCode.cbor));
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    client.write(frame(FrameType.ping, payload));
    const pong = await client.nextFrame();
    expect(pong.type).toBe(FrameType.pong);
    expect([...pong.payload]).toEqual([...payload]);
    client.write(frame(FrameType.ping, Buffer.alloc(0)));
    expect(await client.nextFrame()).toEqual({ type: FrameType.pong, payload: Buffer.alloc(0) });
  });

  it('accepts a message of exactly the announced maximum and closes the connection on a frame one octet longer', async () => {
    const { probe: client } = await joinedProbe(ownPort);
    const bare = JSON.stringify([WAMP.CALL, 1, {}, 'bystander.echo', ['']]);
    const exact = JSON.stringify([WAMP.CALL, 1, {}, 'bystander.echo', ['x'.repeat(LIMIT - Buffer.byteLength(bare))]]);
    expect(Buffer.byteLength(exact)).toBe(LIMIT);
    client.write(frame(FrameType.message, exact));
    const result = await client.nextMessage();
    expect(result.slice(0, 3)).toEqual([WAMP.RESULT, 1, {}]);

    // The header alone is enough: the router refuses the frame before any of its payload arrives.
    const header = Buffer.alloc(4);
    header.writeUIntBE(LIMIT + 1, 1, 3);
    client.write(header);
    await client.waitClosed();
  });

  it('closes a connection whose frame header has reserved bits set or an unknown frame type', async () => {
    for (const first of [0x10, 0x03, 0x07]) {
      const { probe: client } = await joinedProbe(server.port);
      client.write(Buffer.from([first, 0, 0, 2, 0x5b, 0x5d]));
      await client.waitClosed();
    }
  });

  it('aborts a session whose message is not valid JSON with wamp.error.protocol_violation, then closes', async () => {
    const { probe: client } = await joinedProbe(ownPort);
    client.write(frame(FrameType.message, '[48, 1, {}, "bystander.echo", [oops'));
    const abort = await client.nextMessage();
    expect(abort).toEqual([WAMP.ABORT, { message: expect.any(String) }, 'wamp.error.protocol_violation']);
    await client.waitClosed();
  });

  it('aborts a connection whose first message is garbage bytes before HELLO, then closes', async () => {
    const client = await probe(ownPort);
    await client.handshake(handshakeRequest(SerializerCode.msgpack));
    client.write(frame(FrameType.message, Buffer.from([0xc1, 0xff, 0x00])));
    const reply = await client.nextFrame();
    expect(reply.type).toBe(FrameType.message);
    expect(unpack(reply.payload)).toEqual([WAMP.ABORT, { message: expect.any(String) }, 'wamp.error.protocol_violation']);
    await client.waitClosed();
  });

  it('closes a connection rather than send it a message longer than the maximum its handshake asked for', async () => {
    // LLLL = 1: this client takes messages of at most 1024 octets (WELCOME, with the advanced features it
    // announces, no longer fits into LLLL = 0's 512).
    const { probe: client } = await joinedProbe(ownPort, 1);
    client.write(jsonFrame([WAMP.SUBSCRIBE, 1, {}, 'small.client']));
    const [code, , subscriptionId] = await client.nextMessage();
    expect(code).toBe(WAMP.SUBSCRIBED);

    await bystanders.webSocket.session.publish('small.client', ['fits'], {}, { acknowledge: true });
    expect(await client.nextMessage()).toEqual([WAMP.EVENT, subscriptionId, expect.any(Number), expect.any(Object), ['fits']]);
    await bystanders.webSocket.session.publish('small.client', ['x'.repeat(1100)], {}, { acknowledge: true });
    await client.waitClosed();
    expect(client.unread.length).toBe(0);
    expect(server.output()).toContain('closing a RawSocket connection: a message is longer than the client accepts');
  });

  it('answers an HTTP request on the shared port as HTTP while RawSocket clients are connected there', async () => {
    await joinedProbe(server.port);
    expect(await health(server.httpUrl)).toMatchObject({ status: 'ok' });
    const response = await fetch(`${server.httpUrl}/nowhere`);
    expect(response.status).toBe(404);
  });
});

describe('the standalone server\'s RawSocket flags', () => {
  it('takes the RawSocket port from FOX_RAWSOCKET_PORT', async () => {
    const port = await freePort();
    const server = await startServer([], { FOX_RAWSOCKET_PORT: String(port) });
    try {
      expect(ownRawSocketPortOf(server)).toBe(port);
      const client = await probe(port);
      expect([...(await client.handshake(handshakeRequest(SerializerCode.json)))]).toEqual([0x7f, 0xf1, 0, 0]);
      await client.close();
    } finally {
      await server.stop();
    }
  });

  it('exits with one line, status 1, when the RawSocket port is taken', async () => {
    const taken = await listeningServer();
    try {
      const port = (taken.address() as { port: number }).port;
      const result = await runServerToExit(['--port', '0', '--rawsocket-port', String(port)]);
      expect(result.code).toBe(1);
      const lines = result.stderr.split('\n').filter((line) => line.length > 0);
      expect(lines).toEqual([`fox-wamp: rawsocket port ${port} on 127.0.0.1 is already in use (choose another with --rawsocket-port, or 0 for any free port)`]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('refuses a --rawsocket-port equal to --port (the HTTP port serves RawSocket already) with status 2', async () => {
    const result = await runServerToExit(['--port', '8089', '--rawsocket-port', '8089']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('fox-wamp: rawsocket port 8089 is the HTTP port, which serves RawSocket already; choose another or leave it out');
  });

  it('rejects a --rawsocket-port that is not a port number with status 2', async () => {
    const result = await runServerToExit(['--rawsocket-port', 'seven']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^fox-wamp: .*--rawsocket-port/);
  });
});

describe('WampRawSocketListener options, embedded (@fox-wamp/core)', () => {
  let router: Router;
  let listener: WampRawSocketListener | undefined;

  beforeAll(() => {
    router = new Router({ realms: ['realm1'], logger: SILENT_LOGGER });
  });

  afterEach(async () => {
    await listener?.close();
    listener = undefined;
  });

  afterAll(async () => {
    await router.close();
  });

  it('closes a connection that sends no handshake within handshakeTimeoutMs', async () => {
    listener = await WampRawSocketListener.listen(router, { port: 0, handshakeTimeoutMs: 200 });
    const client = await probe(listener.address.port);
    client.write([0x7f, 0xf1]); // half a handshake
    const started = Date.now();
    await client.waitClosed(3_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(client.unread.length).toBe(0);
  });

  it('answers error 4, "maximum connection count reached", beyond maxConnections', async () => {
    listener = await WampRawSocketListener.listen(router, { port: 0, maxConnections: 1 });
    const first = await probe(listener.address.port);
    expect((await first.handshake(handshakeRequest(SerializerCode.json)))[1]).toBe(0xf1);
    const second = await probe(listener.address.port);
    expect([...(await second.handshake(handshakeRequest(SerializerCode.json)))]).toEqual([0x7f, 4 << 4, 0, 0]);
    await second.waitClosed();
    expect(first.isOpen).toBe(true);
  });

  it('with pingIntervalMs, PINGs its clients and drops one that stays silent, keeping one that answers', async () => {
    listener = await WampRawSocketListener.listen(router, { port: 0, pingIntervalMs: 100 });
    const silent = await probe(listener.address.port);
    await silent.handshake(handshakeRequest(SerializerCode.json));
    // npm autobahn answers PINGs with PONGs by itself.
    const answering = await connectAutobahn('tcp://unused', 'json', 'realm1', overRawSocket(listener.address.port));
    try {
      const ping = await silent.nextFrame(2_000);
      expect(ping.type).toBe(FrameType.ping);
      await silent.waitClosed(2_000);
      expect(answering.connection.isConnected).toBe(true);
      await answering.session.register('still.here', () => 'yes');
      expect(await answering.session.call('still.here')).toBe('yes');
    } finally {
      await answering.close();
    }
  });

  it('decodes a handshake and frames that arrive one octet per chunk, and many frames in one chunk', async () => {
    const acceptor = new WampRawSocketAcceptor(router);
    const socket = new ScriptedSocket();
    let chunks = 0;
    socket.on('data', () => chunks++);
    acceptor.accept(socket as unknown as Socket);
    try {
      const opening = Buffer.concat([
        handshakeRequest(SerializerCode.json),
        jsonFrame([WAMP.HELLO, 'realm1', { roles: HELLO_ROLES }]),
        jsonFrame([WAMP.SUBSCRIBE, 1, {}, 'octets']),
      ]);
      for (const octet of opening) socket.receive(Buffer.from([octet]));
      // Two publications (acknowledged, delivered back to the publisher) and a PING, in one chunk.
      socket.receive(
        Buffer.concat([
          jsonFrame([WAMP.PUBLISH, 2, { acknowledge: true, exclude_me: false }, 'octets', ['first']]),
          frame(FrameType.ping, 'between'),
          jsonFrame([WAMP.PUBLISH, 3, { acknowledge: true, exclude_me: false }, 'octets', ['second']]),
        ]),
      );
      await socket.waitUntilWritten((written) => splitFramesAfterHandshake(written).length >= 7, 'seven frames from the router');
      expect(chunks).toBe(opening.length + 1);
      expect([...socket.written.subarray(0, 4)]).toEqual([0x7f, 0xf1, 0, 0]);
      const frames = splitFramesAfterHandshake(socket.written);
      const decoded = frames.map((item) => (item.type === FrameType.message ? JSON.parse(item.payload.toString('utf8')) : [`type ${item.type}`, item.payload.toString('utf8')]));
      // WELCOME and SUBSCRIBED first; then the PONG, two EVENTs in publication order and two PUBLISHED, whose
      // order relative to each other the router does not promise (PUBLISHED waits for the store).
      expect(decoded.slice(0, 2).map((message) => message[0])).toEqual([WAMP.WELCOME, WAMP.SUBSCRIBED]);
      const rest = decoded.slice(2);
      expect(rest).toHaveLength(5);
      expect(rest).toContainEqual(['type 2', 'between']);
      expect(rest.filter((message) => message[0] === WAMP.EVENT).map((event) => event[4])).toEqual([['first'], ['second']]);
      expect(rest.filter((message) => message[0] === WAMP.PUBLISHED).map((published) => published[1]).sort()).toEqual([2, 3]);
    } finally {
      acceptor.close();
    }
  });

  it('refuses a maxMessageSize below 512 bytes, which the handshake cannot express', async () => {
    await expect(WampRawSocketListener.listen(router, { port: 0, maxMessageSize: 511 })).rejects.toThrow(/at least 512/);
  });
});

function listeningServer(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = await listeningServer();
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function splitFramesAfterHandshake(written: Buffer) {
  return written.length < 4 ? [] : splitFrames(written.subarray(4));
}

