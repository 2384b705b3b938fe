import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { autobahn, AutobahnClients, Inbox, rejectionOf, SERIALIZERS, type AutobahnResult, type Dict } from '../support/autobahn-client.js';
import { PythonScript, pythonAutobahnProblem } from '../support/python-process.js';
import { startServer, type RunningServer } from '../support/server-process.js';

// autobahn-python (Debian's python3-autobahn 22.7, asyncio) and npm autobahn talking to each other through the
// built server, once per serializer. The Python side is in test/python: py_callee.py registers com.py.*,
// py_client.py calls, subscribes and publishes against what the Node side provides, and reports on stdout.

let server: RunningServer;

beforeAll(async () => {
  const problem = pythonAutobahnProblem();
  if (problem !== undefined) throw new Error(`cannot run the autobahn-python tests: ${problem}`);
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
});

/** Bytes as a plain array, whatever the decoder made of them (Buffer, Uint8Array). */
function bytesOf(value: unknown): number[] {
  expect(value).toBeInstanceOf(Uint8Array);
  return [...(value as Uint8Array)];
}

/**
 * npm autobahn's JSON serializer knows nothing of binary values, so over JSON the Node side writes and reads the
 * spec's form for them itself: the string "\0" + base64, which autobahn-python turns into `bytes`.
 */
function bytesForWire(serializer: string, bytes: number[]): unknown {
  return serializer === 'json' ? `\u0000${Buffer.from(bytes).toString('base64')}` : Buffer.from(bytes);
}

function bytesFromWire(serializer: string, value: unknown): number[] {
  if (serializer !== 'json') return bytesOf(value);
  expect(typeof value === 'string' && value.startsWith('\u0000'), `${String(value)} is "\\0" + base64`).toBe(true);
  return [...Buffer.from((value as string).slice(1), 'base64')];
}

describe.each(SERIALIZERS)('autobahn-python and npm autobahn over %s', (serializer) => {
  const clients = new AutobahnClients(() => server.wampUrl);

  afterEach(async () => {
    await clients.closeAll();
  });

  describe('a Python callee, a Node caller', () => {
    let callee: PythonScript;

    beforeAll(async () => {
      callee = new PythonScript('py_callee.py', [server.wampUrl, 'realm1', serializer]);
      const ready = await callee.waitForLine('ready');
      expect(ready.session).toEqual(expect.any(Number));
    });

    afterAll(async () => {
      // The callee leaves with GOODBYE on SIGTERM and exits 0; its registrations go with it.
      expect(await callee?.stop()).toBe(0);
    });

    it('calls com.py.add with positional args and gets the sum as a single result', async () => {
      const { session } = await clients.connect(serializer);
      expect(await session.call('com.py.add', [2, 3])).toBe(5);
      expect(await session.call('com.py.add', [1.5, 2.25, -1])).toBe(2.75);
    });

    it('calls com.py.add with kwargs and gets args and kwargs back', async () => {
      const { session } = await clients.connect(serializer);
      const result = (await session.call('com.py.add', [1, 2, 3], { label: 'six' })) as AutobahnResult;
      expect(result).toBeInstanceOf(autobahn.Result);
      expect(result.args).toEqual([6]);
      expect(result.kwargs).toEqual({ count: 3, label: 'six' });
    });

    it("receives a Python ApplicationError with its URI, args and kwargs", async () => {
      const { session } = await clients.connect(serializer);
      const error = await rejectionOf(session.call('com.py.fail', ['x', 'y']));
      expect(error.error).toBe('com.py.error.invalid_input');
      expect(error.args).toEqual(['python says no', 2]);
      expect(error.kwargs).toEqual({ field: 'amount', limit: 10 });
    });

    it('sends bytes that Python receives as bytes, and gets bytes back', async () => {
      const { session } = await clients.connect(serializer);
      const sent = bytesForWire(serializer, [0, 1, 127, 128, 254, 255]);
      const result = (await session.call('com.py.reverse_bytes', [sent])) as AutobahnResult;
      expect(result.kwargs).toEqual({ type: 'bytes' });
      expect(bytesFromWire(serializer, result.args[0])).toEqual([255, 254, 128, 127, 1, 0]);
    });
  });

  it('a Python client calls a Node callee, gets its error, receives its event and publishes to it', async () => {
    const prefix = `com.node.${serializer}`;
    const node = await clients.connect(serializer);
    await node.session.register(`${prefix}.greet`, (args, kwargs) => new autobahn.Result([`Hello, ${String(args[0])}${String(kwargs.punctuation)}`], { language: 'node' }));
    await node.session.register(`${prefix}.fail`, (args) => {
      throw new autobahn.Error('com.node.error.refused', ['node says no'], { received: args.length });
    });
    // The bytes procedure speaks CBOR even when the Python client speaks JSON: the router turns the spec's
    // "\0" + base64 string into binary for it and back.
    const bytesCallee = serializer === 'json' ? await clients.connect('cbor') : node;
    await bytesCallee.session.register(`${prefix}.reverse`, (args) => Buffer.from(bytesOf(args[0])).reverse());
    const fromPython = new Inbox<{ args: unknown[]; kwargs: Dict; publication: number }>();
    await node.session.subscribe(`${prefix}.from_python`, (args, kwargs, details) =>
      fromPython.push({ args, kwargs, publication: details.publication }),
    );

    const script = new PythonScript('py_client.py', [server.wampUrl, 'realm1', serializer, prefix]);
    try {
      // The script subscribes, says so, and waits for this event before it publishes.
      await script.waitForLine('subscribed');
      await node.session.publish(`${prefix}.news`, [1, 'two'], { three: 3 }, { acknowledge: true });
      const { result } = (await script.waitForLine('result')) as { result: Dict };
      expect(await script.exit()).toBe(0);

      expect(result.greet).toEqual({ args: ['Hello, python!'], kwargs: { language: 'node' } });
      expect(result.fail).toEqual({ error: 'com.node.error.refused', args: ['node says no'], kwargs: { received: 2 } });
      expect(result.news).toEqual({ args: [1, 'two'], kwargs: { three: 3 } });
      expect(result.reverse).toEqual({ type: 'bytes', hex: 'fffe0100' });

      const [event] = await fromPython.waitFor(1);
      expect(event!.args).toEqual(['hi', 42]);
      expect(event!.kwargs).toEqual({ ok: true });
      expect(event!.publication).toBe(result.publication_id);
    } finally {
      await script.stop();
    }
  });
});
