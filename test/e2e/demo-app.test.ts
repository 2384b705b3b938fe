import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectAutobahn, Inbox, rejectionOf, type AutobahnClient, type AutobahnResult } from '../support/autobahn-client.js';
import { startDemo, type RunningDemo } from '../support/demo-process.js';

// The demo app (apps/demo), built and started as `npm run demo` starts it, driven by autobahn clients.

let demo: RunningDemo;
const clients: AutobahnClient[] = [];

beforeAll(async () => {
  demo = await startDemo();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  expect(await demo.stop()).toEqual({ code: null, signal: 'SIGTERM' });
  expect(demo.output()).not.toMatch(/\bERROR\b/);
});

async function connect(): Promise<AutobahnClient> {
  const client = await connectAutobahn(demo.wampUrl, 'json');
  clients.push(client);
  return client;
}

describe('demo app', () => {
  it('serves the chat page on the WAMP port, pointing its client at the WAMP path', async () => {
    const response = await fetch(demo.httpUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain('<title>fox-wamp chat</title>');
    expect(page).toContain(`location.host + '${new URL(demo.wampUrl).pathname}'`);
  });

  it('delivers a chat message published by one client to another, and keeps it in the history', async () => {
    const alice = await connect();
    const bob = await connect();
    const inbox = new Inbox<Record<string, unknown>>();
    await bob.session.subscribe('chat.message', (_args, kwargs) => inbox.push(kwargs));
    await alice.session.publish('chat.message', [], { user: 'alice', text: 'hi bob' }, { acknowledge: true });
    expect(await inbox.waitFor(1)).toEqual([{ user: 'alice', text: 'hi bob' }]);
    const history = (await bob.session.call('chat.history')) as { user: string; text: string }[];
    expect(history.map(({ user, text }) => `${user}: ${text}`)).toContain('alice: hi bob');
  });

  it('keeps the recent messages as the retained entry chat.recent, for a newcomer\'s retained subscription', async () => {
    const texts = (messages: unknown) => (messages as { user: string; text: string }[]).map(({ user, text }) => `${user}: ${text}`);
    const alice = await connect();
    const updates = new Inbox<unknown>();
    await alice.session.subscribe('chat.recent', (args) => updates.push(args[0]));
    await alice.session.call('chat.post', [], { user: 'alice', text: 'for later' });
    // Once this update is out, the retained entry holds the message.
    await updates.waitUntil((items) => items.some((messages) => texts(messages).includes('alice: for later')), 'the chat.recent update');

    const newcomer = await connect();
    const replay = new Inbox<{ messages: unknown; retained: boolean }>();
    await newcomer.session.subscribe('chat.recent', (args, _kwargs, details) => replay.push({ messages: args[0], retained: details.retained }), {
      get_retained: true,
    });
    const [first] = await replay.waitFor(1);
    expect(first!.retained).toBe(true);
    expect(texts(first!.messages)).toContain('alice: for later');
  });

  it('posts through chat.post, validating the message', async () => {
    const alice = await connect();
    const inbox = new Inbox<Record<string, unknown>>();
    await alice.session.subscribe('chat.message', (_args, kwargs) => inbox.push(kwargs));
    const posted = (await alice.session.call('chat.post', [], { user: 'alice', text: 'via post' })) as { at: string };
    expect((await inbox.waitFor(1))[0]).toEqual({ user: 'alice', text: 'via post', at: posted.at });
    const error = await rejectionOf(alice.session.call('chat.post', [], { user: '', text: 42 }));
    expect(error.error).toBe('wamp.error.invalid_argument');
    expect(error.kwargs.messages).toEqual(expect.arrayContaining(['text must be a string']));
  });

  it('echoes args and kwargs with service.echo under concurrency 10, for many calls at once', async () => {
    const client = await connect();
    const results = (await Promise.all(
      Array.from({ length: 25 }, (_, n) => client.session.call('service.echo', [n, 'x'], { n })),
    )) as AutobahnResult[];
    expect(results.map((result) => [result.args, result.kwargs])).toEqual(Array.from({ length: 25 }, (_, n) => [[n, 'x'], { n }]));
  });

  it('runs demo.report.run one caller at a time under the resource lock, whoever calls', async () => {
    const [watcher, first, second] = [await connect(), await connect(), await connect()];
    const holders = new Inbox<string>();
    await watcher.session.subscribe('demo.report.lock', (_args, kwargs) => holders.push((kwargs as { report?: string }).report ?? 'free'));
    const results = await Promise.all([
      first.session.call('demo.report.run', ['alpha']),
      second.session.call('demo.report.run', ['beta']),
    ]);
    expect(results).toEqual([
      { report: 'alpha', lines: 5 },
      { report: 'beta', lines: 4 },
    ]);
    // Every take of the lock is followed by its release before the next take: the two never overlapped.
    const [firstHolder, , secondHolder] = await holders.waitFor(4);
    expect(await holders.waitFor(4)).toEqual([firstHolder, 'free', secondHolder, 'free']);
    expect([firstHolder, secondHolder].sort()).toEqual(['alpha', 'beta']);
  });
});
