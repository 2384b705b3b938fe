import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AutobahnClients, withTimeout, type AutobahnSession } from '../support/autobahn-client.js';
import { roundTrip, subscribeEvents, type ReceivedEvent } from '../support/autobahn-events.js';
import { startPublisherProcess, type PublisherProcess } from '../support/publisher-process.js';
import { startServer, type RunningServer } from '../support/server-process.js';

// A will fires when its holder's process dies without a word: `kill -9` leaves no GOODBYE, only the kernel
// closing the dead process's socket, which the router sees as a lost connection.

let server: RunningServer;
const clients = new AutobahnClients(() => server.wampUrl);
const children: PublisherProcess[] = [];

beforeAll(async () => {
  server = await startServer();
});

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()));
  await clients.closeAll();
});

afterAll(async () => {
  await server?.stop();
});

/** The seed's lock: retained, only if absent, waiting until it is, deleted when the holder goes away. */
const LOCK_OPTIONS = { retain: true, when: null, will: null, watch: true };

function lock(session: AutobahnSession, topic: string, owner: string) {
  return Promise.resolve(session.publish(topic, [], { owner }, { acknowledge: true, ...LOCK_OPTIONS }));
}

/** What an event says about the key: its value, or `deleted` for the empty publication of a deletion. */
function valueOf(event: ReceivedEvent): unknown {
  if (Object.keys(event.kwargs).length > 0) return event.kwargs;
  return event.args.length === 0 ? 'deleted' : event.args[0];
}

describe('wills of a client process killed with SIGKILL', () => {
  it('releases the lock to the waiting session and publishes the will values', async () => {
    const [watcher, waiter, reader] = await clients.connectMany('json', 3);
    const { events } = await subscribeEvents(watcher.session, 'killed.#');

    const holder = await startPublisherProcess(server.wampUrl, [
      { topic: 'killed.lock', kwargs: { owner: 'child' }, options: LOCK_OPTIONS },
      { topic: 'killed.presence', args: ['online'], options: { retain: true, will: 'offline' } },
    ]);
    children.push(holder);

    let waiterHolds = false;
    const acquired = lock(waiter.session, 'killed.lock', 'waiter').then(() => (waiterHolds = true));
    await roundTrip(waiter.session); // the waiter's publish is parked now
    expect(waiterHolds).toBe(false);

    await holder.kill();
    await withTimeout(acquired, 5_000, 'the lock after its holder was killed');

    const seen = await events.waitFor(5);
    await roundTrip(watcher.session);
    const changesOf = (topic: string) => seen.filter((event) => event.topic === topic).map(valueOf);
    expect(changesOf('killed.lock')).toEqual([{ owner: 'child' }, 'deleted', { owner: 'waiter' }]);
    expect(changesOf('killed.presence')).toEqual(['online', 'offline']);
    expect(seen).toHaveLength(5);

    // The store holds the wills' outcome: the new owner, and the will value.
    const { events: replay } = await subscribeEvents(reader.session, 'killed.#', { retained: true });
    const stored = await replay.waitFor(2);
    await roundTrip(reader.session);
    const byTopic = stored.map((event) => [event.topic, valueOf(event), event.retained]).sort(([a], [b]) => String(a).localeCompare(String(b)));
    expect(byTopic).toEqual([
      ['killed.lock', { owner: 'waiter' }, true],
      ['killed.presence', 'offline', true],
    ]);
  });

  it('does not fire the will of a killed process on a key another session has written since', async () => {
    const [watcher, writer] = await clients.connectMany('json', 2);
    const { events } = await subscribeEvents(watcher.session, 'overwritten.#');
    const holder = await startPublisherProcess(server.wampUrl, [
      { topic: 'overwritten.status', args: ['child'], options: { retain: true, will: 'child gone' } },
      // A will that must fire: once its change arrives, the router has handled the lost connection (the wills
      // of one session are applied together, so a wrong one on `status` would come with it).
      { topic: 'overwritten.flag', args: ['up'], options: { retain: true, will: 'down' } },
    ]);
    children.push(holder);
    await writer.session.publish('overwritten.status', ['writer'], {}, { acknowledge: true, retain: true });
    await holder.kill();

    const seen = await events.waitUntil((items) => items.some((event) => event.args[0] === 'down'), "the flag's will");
    await roundTrip(watcher.session);
    expect(seen.map((event) => [event.topic, valueOf(event)])).toEqual([
      ['overwritten.status', 'child'],
      ['overwritten.flag', 'up'],
      ['overwritten.status', 'writer'],
      ['overwritten.flag', 'down'],
    ]);
  });
});
