import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Errors } from 'wampy';
import { AutobahnClients, rejectionOf, type AutobahnPromise } from '../support/autobahn-client.js';
import { PythonScript, pythonAutobahnProblem } from '../support/python-process.js';
import { RawWampClient, WampCode, type WireMessage } from '../support/raw-wamp-client.js';
import { startServer, type RunningServer } from '../support/server-process.js';
import { WampyClients } from '../support/wampy-client.js';

// Call canceling (CANCEL / INTERRUPT, modes skip, kill and killnowait), call timeouts (CALL.Options.timeout)
// and progressive call invocations (CALL progress: true)
// through the built server. The callee is autobahn-python (test/python/py_slow_callee.py), which announces
// callee.features.call_canceling and cancels the handler's task on INTERRUPT, or a raw client whose HELLO
// announces the feature or not. Callers: npm autobahn, wampy, and a raw client where the router's own ERROR
// must be seen (autobahn-js rejects a skip/killnowait cancel locally without waiting for it).

const CANCEL = 49;
const INTERRUPT = 69;
const SLOW = 'com.cancel.slow';
/** Long enough never to run out during a test: a call that ends did so because it was canceled. */
const FOREVER_S = 30;

let server: RunningServer;
let callee: PythonScript;
let wampyClients: WampyClients;

beforeAll(async () => {
  const problem = pythonAutobahnProblem();
  if (problem !== undefined) throw new Error(`cannot run the autobahn-python tests: ${problem}`);
  server = await startServer();
  wampyClients = new WampyClients(server.wampUrl, 'json');
  callee = new PythonScript('py_slow_callee.py', [server.wampUrl, 'realm1', 'json', SLOW]);
  await callee.waitForLine('ready');
});

afterAll(async () => {
  await callee?.stop();
  await server?.stop();
});

const autobahnClients = new AutobahnClients(() => server.wampUrl);
const rawClients: RawWampClient[] = [];

afterEach(async () => {
  await autobahnClients.closeAll();
  await wampyClients?.closeAll();
  for (const client of rawClients.splice(0)) client.terminate();
});

let labelCounter = 0;
/** A label of its own for each call to the Python callee, so each test waits for its own steps. */
function newLabel(what: string): string {
  return `${what}-${++labelCounter}`;
}

let requestCounter = 0;
function nextRequestId(): number {
  return ++requestCounter;
}

const CANCELING = { call_canceling: true };
const STREAMING = { call_canceling: true, progressive_call_invocations: true };

/** A raw client whose HELLO announces `features` for both its caller and its callee role (none by default). */
async function rawSession(features: Record<string, boolean> = {}): Promise<RawWampClient> {
  const client = await RawWampClient.connect(server.wampUrl);
  rawClients.push(client);
  const role = { features };
  client.send([WampCode.HELLO, 'realm1', { roles: { caller: role, callee: role } }]);
  const welcome = await client.nextMessage();
  expect(welcome[0]).toBe(WampCode.WELCOME);
  return client;
}

/** Sends a request and returns the next message, which must be of type `expected`. */
async function exchange(client: RawWampClient, message: WireMessage, expected: number): Promise<WireMessage> {
  client.send(message);
  const reply = await client.nextMessage();
  expect(reply[0], `reply to ${JSON.stringify(message)}: ${JSON.stringify(reply)}`).toBe(expected);
  return reply;
}

/** A raw callee registered for a fresh procedure; returns the procedure URI. */
async function rawCallee(client: RawWampClient, name: string): Promise<string> {
  // wampy accepts only letters, digits and _ in URI components.
  const procedure = `com.cancel.raw.${name.replaceAll('-', '_')}.${nextRequestId()}`;
  await exchange(client, [WampCode.REGISTER, nextRequestId(), {}, procedure], WampCode.REGISTERED);
  return procedure;
}

/** The ERROR a raw caller gets for its CALL `requestId`. */
function expectCallError(message: WireMessage, requestId: number, uri: string): void {
  expect(message.slice(0, 3)).toEqual([WampCode.ERROR, WampCode.CALL, requestId]);
  expect(message[4]).toBe(uri);
}

describe('call canceling with an autobahn-python callee', () => {
  it('kill: the callee is interrupted, and its answer to the INTERRUPT reaches the npm autobahn caller', async () => {
    const { session } = await autobahnClients.connect('json');
    const label = newLabel('kill');
    const call = session.call(SLOW, [label, FOREVER_S]) as AutobahnPromise<unknown> & { cancel(options?: object): void };
    await callee.waitForLine(`started:${label}`);
    call.cancel({ mode: 'kill' });
    // With kill, autobahn-js waits for the router's answer, which is the callee's ERROR after the INTERRUPT.
    const error = await rejectionOf(call);
    expect(callee.lines).toContainEqual({ [`interrupted:${label}`]: true });
    expect(error.error).toBe('wamp.error.canceled');
    expect(error.args).toEqual([`${label} was interrupted`]);
    expect(callee.lines).not.toContainEqual({ [`finished:${label}`]: true });
  });

  it('killnowait: the caller gets wamp.error.canceled at once and the callee is interrupted', async () => {
    const caller = await rawSession(CANCELING);
    const label = newLabel('killnowait');
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, {}, SLOW, [label, FOREVER_S]]);
    await callee.waitForLine(`started:${label}`);
    caller.send([CANCEL, requestId, { mode: 'killnowait' }]);
    expectCallError(await caller.nextMessage(), requestId, 'wamp.error.canceled');
    await callee.waitForLine(`interrupted:${label}`);
  });

  it('no mode given: canceled as killnowait (caller answered at once, callee interrupted)', async () => {
    const caller = await rawSession(CANCELING);
    const label = newLabel('default');
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, {}, SLOW, [label, FOREVER_S]]);
    await callee.waitForLine(`started:${label}`);
    caller.send([CANCEL, requestId, {}]);
    expectCallError(await caller.nextMessage(), requestId, 'wamp.error.canceled');
    await callee.waitForLine(`interrupted:${label}`);
  });

  it('skip: the caller gets wamp.error.canceled at once, the callee runs to the end and its result is dropped', async () => {
    const caller = await rawSession(CANCELING);
    const label = newLabel('skip');
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, {}, SLOW, [label, 0.3]]);
    await callee.waitForLine(`started:${label}`);
    caller.send([CANCEL, requestId, { mode: 'skip' }]);
    expectCallError(await caller.nextMessage(), requestId, 'wamp.error.canceled');
    await callee.waitForLine(`finished:${label}`);
    // The skipped call's YIELD left the callee before this call's: were it forwarded, it would arrive first.
    const next = nextRequestId();
    caller.send([WampCode.CALL, next, {}, SLOW, ['after-skip', 0]]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, next, {}, ['after-skip']]);
    expect(callee.lines).not.toContainEqual({ [`interrupted:${label}`]: true });
  });

  it('a caller that leaves gets its in-flight call interrupted at the callee', async () => {
    const { session, drop } = await autobahnClients.connect('json');
    const label = newLabel('caller-left');
    session.call(SLOW, [label, FOREVER_S]).then(undefined, () => {});
    await callee.waitForLine(`started:${label}`);
    await drop();
    await callee.waitForLine(`interrupted:${label}`);
  });

  it('wampy: cancel() is allowed now and its call fails with wamp.error.canceled; the callee is interrupted', async () => {
    const { client } = await wampyClients.connect();
    const label = newLabel('wampy');
    const result = client.call(SLOW, [label, FOREVER_S]);
    const requestId = client.getOpStatus().reqId!;
    await callee.waitForLine(`started:${label}`);
    expect(client.cancel(requestId, { mode: 'killnowait' })).toBe(true);
    const error: unknown = await result.then(
      () => expect.fail('the canceled call succeeded'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Errors.CallError);
    expect((error as InstanceType<typeof Errors.CallError>).errorUri).toBe('wamp.error.canceled');
    await callee.waitForLine(`interrupted:${label}`);
  });
});

describe('call canceling with a raw callee', () => {
  it('kill: the callee gets INTERRUPT [69, invocation, {mode: "kill"}] and its YIELD still reaches the caller', async () => {
    const calleeClient = await rawSession(CANCELING);
    const procedure = await rawCallee(calleeClient, 'kill');
    const caller = await rawSession(CANCELING);
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, {}, procedure, [1]]);
    const invocation = await calleeClient.nextMessage();
    expect(invocation[0]).toBe(WampCode.INVOCATION);
    caller.send([CANCEL, requestId, { mode: 'kill' }]);
    expect(await calleeClient.nextMessage()).toEqual([INTERRUPT, invocation[1], { mode: 'kill' }]);
    // The callee finished before it handled the INTERRUPT: with kill, the caller gets that answer.
    calleeClient.send([WampCode.YIELD, invocation[1], {}, ['done anyway']]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, requestId, {}, ['done anyway']]);
  });

  it('killnowait: INTERRUPT with mode killnowait, and a late YIELD is dropped without harm', async () => {
    const calleeClient = await rawSession(CANCELING);
    const procedure = await rawCallee(calleeClient, 'killnowait');
    const caller = await rawSession(CANCELING);
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, {}, procedure, [1]]);
    const invocation = await calleeClient.nextMessage();
    caller.send([CANCEL, requestId, { mode: 'killnowait' }]);
    expectCallError(await caller.nextMessage(), requestId, 'wamp.error.canceled');
    expect(await calleeClient.nextMessage()).toEqual([INTERRUPT, invocation[1], { mode: 'killnowait' }]);
    calleeClient.send([WampCode.YIELD, invocation[1], {}, ['too late']]);
    // Both sessions carry on: a new call goes through, and the caller saw nothing of the late YIELD.
    const next = nextRequestId();
    caller.send([WampCode.CALL, next, {}, procedure, [2]]);
    const second = await calleeClient.nextMessage();
    expect(second[0]).toBe(WampCode.INVOCATION);
    calleeClient.send([WampCode.YIELD, second[1], {}, ['second']]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, next, {}, ['second']]);
  });

  it('a callee that did not announce call_canceling gets no INTERRUPT: kill falls back to skip', async () => {
    const calleeClient = await rawSession();
    const procedure = await rawCallee(calleeClient, 'no-feature');
    const caller = await rawSession(CANCELING);
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, {}, procedure, [1]]);
    const invocation = await calleeClient.nextMessage();
    caller.send([CANCEL, requestId, { mode: 'kill' }]);
    expectCallError(await caller.nextMessage(), requestId, 'wamp.error.canceled');
    // The next thing the callee hears is the next INVOCATION, not an INTERRUPT.
    const next = nextRequestId();
    caller.send([WampCode.CALL, next, {}, procedure, [2]]);
    const second = await calleeClient.nextMessage();
    expect(second[0]).toBe(WampCode.INVOCATION);
    expect(second[4]).toEqual([2]);
    // Its answer to the skipped invocation is dropped; the one to the live one arrives.
    calleeClient.send([WampCode.YIELD, invocation[1], {}, ['skipped']]);
    calleeClient.send([WampCode.YIELD, second[1], {}, ['live']]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, next, {}, ['live']]);
  });

  it('a call waiting for a busy callee (concurrency 1) is canceled without reaching it', async () => {
    const calleeClient = await rawSession(CANCELING);
    const procedure = `com.cancel.raw.queued.${nextRequestId()}`;
    await exchange(calleeClient, [WampCode.REGISTER, nextRequestId(), { _concurrency: 1 }, procedure], WampCode.REGISTERED);
    const caller = await rawSession(CANCELING);
    const first = nextRequestId();
    const queued = nextRequestId();
    caller.send([WampCode.CALL, first, {}, procedure, ['first']]);
    const invocation = await calleeClient.nextMessage();
    caller.send([WampCode.CALL, queued, {}, procedure, ['queued']]);
    caller.send([CANCEL, queued, { mode: 'kill' }]);
    expectCallError(await caller.nextMessage(), queued, 'wamp.error.canceled');
    calleeClient.send([WampCode.YIELD, invocation[1], {}, ['first done']]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, first, {}, ['first done']]);
    // The canceled call never became an INVOCATION: a third call is the callee's next message.
    const third = nextRequestId();
    caller.send([WampCode.CALL, third, {}, procedure, ['third']]);
    const next = await calleeClient.nextMessage();
    expect(next[0]).toBe(WampCode.INVOCATION);
    expect(next[4]).toEqual(['third']);
  });
});

describe('bad CANCEL input', () => {
  it('a CANCEL for a request that is not an open call is ignored, and the session carries on', async () => {
    const caller = await rawSession(CANCELING);
    caller.send([CANCEL, 987654, { mode: 'kill' }]);
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, {}, SLOW, ['after-unknown-cancel', 0]]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, requestId, {}, ['after-unknown-cancel']]);
    // Canceling the call that just finished changes nothing either.
    caller.send([CANCEL, requestId, {}]);
    const again = nextRequestId();
    caller.send([WampCode.CALL, again, {}, SLOW, ['still-fine', 0]]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, again, {}, ['still-fine']]);
  });

  it('a mode the spec does not define aborts the session with wamp.error.protocol_violation', async () => {
    const caller = await rawSession(CANCELING);
    const label = newLabel('bad-mode');
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, {}, SLOW, [label, FOREVER_S]]);
    await callee.waitForLine(`started:${label}`);
    caller.send([CANCEL, requestId, { mode: 'later' }]);
    const abort = await caller.nextMessage();
    expect(abort[0]).toBe(WampCode.ABORT);
    expect(abort[2]).toBe('wamp.error.protocol_violation');
    await caller.closedWithin();
    // The caller is gone, so its call is interrupted at the callee like any other orphaned call.
    await callee.waitForLine(`interrupted:${label}`);
  });

  it('an INTERRUPT sent by a client is a protocol violation', async () => {
    const client = await rawSession(CANCELING);
    client.send([INTERRUPT, 1, {}]);
    const abort = await client.nextMessage();
    expect(abort[0]).toBe(WampCode.ABORT);
    expect(abort[2]).toBe('wamp.error.protocol_violation');
    await client.closedWithin();
  });
});

describe('call timeouts', () => {
  it('npm autobahn: a call with timeout fails with wamp.error.timeout and the callee is interrupted', async () => {
    const { session } = await autobahnClients.connect('json');
    const label = newLabel('timeout');
    const started = Date.now();
    const error = await rejectionOf(session.call(SLOW, [label, FOREVER_S], {}, { timeout: 300 }));
    expect(error.error).toBe('wamp.error.timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await callee.waitForLine(`interrupted:${label}`);
  });

  it('a call that answers within its timeout gets its result', async () => {
    const { session } = await autobahnClients.connect('json');
    await expect(session.call(SLOW, ['quick', 0], {}, { timeout: 5_000 })).resolves.toBe('quick');
  });

  it('wampy: the timeout option makes the call fail with wamp.error.timeout', async () => {
    const { client } = await wampyClients.connect();
    const label = newLabel('wampy-timeout');
    const error: unknown = await client.call(SLOW, [label, FOREVER_S], { timeout: 300 }).then(
      () => expect.fail('the call succeeded'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Errors.CallError);
    expect((error as InstanceType<typeof Errors.CallError>).errorUri).toBe('wamp.error.timeout');
    await callee.waitForLine(`interrupted:${label}`);
  });

  it('a callee without call_canceling is not interrupted on timeout; the caller still gets wamp.error.timeout', async () => {
    const calleeClient = await rawSession();
    const procedure = await rawCallee(calleeClient, 'timeout-skip');
    const caller = await rawSession(CANCELING);
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, { timeout: 200 }, procedure, [1]]);
    const invocation = await calleeClient.nextMessage();
    // The timeout is the dealer's business: it is not forwarded to the callee.
    expect(invocation[3]).toEqual({});
    expectCallError(await caller.nextMessage(), requestId, 'wamp.error.timeout');
    // No INTERRUPT: the next thing the callee hears is the next INVOCATION.
    const next = nextRequestId();
    caller.send([WampCode.CALL, next, {}, procedure, [2]]);
    const second = await calleeClient.nextMessage();
    expect(second[0]).toBe(WampCode.INVOCATION);
    expect(second[4]).toEqual([2]);
  });

  it('a timeout that is not a non-negative integer is refused with wamp.error.invalid_argument', async () => {
    const caller = await rawSession(CANCELING);
    for (const timeout of [-1, 'soon', 1.5]) {
      const requestId = nextRequestId();
      caller.send([WampCode.CALL, requestId, { timeout }, SLOW, ['never', 0]]);
      expectCallError(await caller.nextMessage(), requestId, 'wamp.error.invalid_argument');
    }
    // timeout 0 means no timeout.
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, { timeout: 0 }, SLOW, ['zero', 0]]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, requestId, {}, ['zero']]);
  });
});

describe('progressive call invocations', () => {
  // wampy 8 streams with progress: true but does not announce caller.features.progressive_call_invocations
  // in HELLO (the spec would abort it); the router accepts it, or wampy could not stream at all.
  it('wampy progressiveCall: every chunk reaches the callee as an INVOCATION with one request ID, the last without progress', async () => {
    const calleeClient = await rawSession(STREAMING);
    const procedure = await rawCallee(calleeClient, 'stream');
    const { client } = await wampyClients.connect();
    const { result, sendData } = client.progressiveCall(procedure, ['chunk-1']);
    const first = await calleeClient.nextMessage();
    expect(first).toEqual([WampCode.INVOCATION, expect.any(Number), expect.any(Number), { progress: true }, ['chunk-1']]);
    sendData(['chunk-2']);
    expect(await calleeClient.nextMessage()).toEqual([WampCode.INVOCATION, first[1], first[2], { progress: true }, ['chunk-2']]);
    sendData(['chunk-3'], { progress: false });
    expect(await calleeClient.nextMessage()).toEqual([WampCode.INVOCATION, first[1], first[2], {}, ['chunk-3']]);
    calleeClient.send([WampCode.YIELD, first[1], {}, ['got 3 chunks']]);
    expect((await result).argsList).toEqual(['got 3 chunks']);
  });

  it('options of the first CALL hold for every chunk (disclose_me), and later options are ignored', async () => {
    const calleeClient = await rawSession(STREAMING);
    const procedure = await rawCallee(calleeClient, 'frozen');
    const caller = await rawSession(STREAMING);
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, { progress: true, disclose_me: true }, procedure, [1]]);
    const first = await calleeClient.nextMessage();
    expect(first[3]).toMatchObject({ progress: true, caller: expect.any(Number) });
    caller.send([WampCode.CALL, requestId, { receive_progress: true }, procedure, [2]]);
    const last = await calleeClient.nextMessage();
    expect(last[1]).toBe(first[1]);
    const { progress: _progress, ...frozen } = first[3] as Record<string, unknown>;
    expect(last[3]).toEqual(frozen);
    calleeClient.send([WampCode.YIELD, first[1], {}, ['ok']]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, requestId, {}, ['ok']]);
  });

  it('a callee that does not announce the feature: the call fails with wamp.error.feature_not_supported', async () => {
    const calleeClient = await rawSession(CANCELING);
    const procedure = await rawCallee(calleeClient, 'no-stream');
    const { client } = await wampyClients.connect();
    const { result } = client.progressiveCall(procedure, ['chunk-1']);
    const error: unknown = await result.then(
      () => expect.fail('the call succeeded'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Errors.CallError);
    expect((error as InstanceType<typeof Errors.CallError>).errorUri).toBe('wamp.error.feature_not_supported');
    // Nothing reached the callee: its next message is a plain call's INVOCATION.
    const caller = await rawSession();
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, {}, procedure, ['plain']]);
    const invocation = await calleeClient.nextMessage();
    expect(invocation[4]).toEqual(['plain']);
  });

  it('a chunk that crosses the callee\'s early answer is dropped, and the request ID does not start a new call', async () => {
    const calleeClient = await rawSession(STREAMING);
    const procedure = await rawCallee(calleeClient, 'early');
    const caller = await rawSession(STREAMING);
    const requestId = nextRequestId();
    caller.send([WampCode.CALL, requestId, { progress: true }, procedure, [1]]);
    const first = await calleeClient.nextMessage();
    calleeClient.send([WampCode.YIELD, first[1], {}, ['enough']]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, requestId, {}, ['enough']]);
    caller.send([WampCode.CALL, requestId, { progress: true }, procedure, [2]]);
    const next = nextRequestId();
    caller.send([WampCode.CALL, next, {}, procedure, ['plain']]);
    const invocation = await calleeClient.nextMessage();
    expect(invocation[4]).toEqual(['plain']);
    calleeClient.send([WampCode.YIELD, invocation[1], {}, ['plain done']]);
    expect(await caller.nextMessage()).toEqual([WampCode.RESULT, next, {}, ['plain done']]);
  });

  it('a caller that leaves mid-stream gets the invocation interrupted (killnowait)', async () => {
    const calleeClient = await rawSession(STREAMING);
    const procedure = await rawCallee(calleeClient, 'left');
    const caller = await rawSession(STREAMING);
    caller.send([WampCode.CALL, nextRequestId(), { progress: true }, procedure, [1]]);
    const first = await calleeClient.nextMessage();
    caller.terminate();
    expect(await calleeClient.nextMessage()).toEqual([INTERRUPT, first[1], { mode: 'killnowait' }]);
  });
});
