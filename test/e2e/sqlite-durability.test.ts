import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AutobahnClients, withTimeout, type AutobahnClient, type Dict } from '../support/autobahn-client.js';
import { subscribeEvents, type ReceivedEvent } from '../support/autobahn-events.js';
import { runServerToExit, startServer, type RunningServer } from '../support/server-process.js';

// The durable store (`--store sqlite:<path>`) against the worst case: the server process killed with SIGKILL
// in the middle of a stream of writes. Every write the router acknowledged must be there after a restart on
// the same file, wills of sessions that died with the process are applied at startup, and event IDs never
// go back.

const tempDirs: string[] = [];
const servers: RunningServer[] = [];
const clientSets: AutobahnClients[] = [];

afterEach(async () => {
  for (const set of clientSets.splice(0)) await set.closeAll();
  for (const server of servers.splice(0)) await server.stop('SIGKILL');
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fox-durability-'));
  tempDirs.push(dir);
  return dir;
}

async function startSqliteServer(dbPath: string): Promise<{ server: RunningServer; clients: AutobahnClients }> {
  // A history long enough to hold the whole stream, so the `after` replay after the restart can be checked too.
  const server = await startServer(['--store', `sqlite:${dbPath}`, '--history-size', '100000']);
  servers.push(server);
  const clients = new AutobahnClients(() => server.wampUrl);
  clientSets.push(clients);
  return { server, clients };
}

let markerCount = 0;

/** Subscribes with `options` and returns what arrives before a live marker published afterwards (the replay). */
async function replayBeforeMarker(subscriber: AutobahnClient, publisher: AutobahnClient, topic: string, options: Dict) {
  const { events } = await subscribeEvents(subscriber.session, topic, { match: 'prefix', ...options });
  // Unique, because an `after` replay may contain the markers of earlier checks.
  const marker = `marker ${++markerCount}`;
  await publisher.session.publish(`${topic}.marker`, [marker], {}, { acknowledge: true });
  const received = await events.waitUntil((items) => items.some((event) => event.args[0] === marker), 'the live marker', 10_000);
  const markerAt = received.findIndex((event) => event.args[0] === marker);
  return { replayed: received.slice(0, markerAt), marker: received[markerAt]! };
}

/**
 * Streams acknowledged retained writes `stream.k<i>` = i with at most `window` outstanding, recording every i
 * the router acknowledged, and calls `onAcked` after each acknowledgement. Stops at the first failure (the
 * connection is gone).
 */
function streamWrites(client: AutobahnClient, window: number, onAcked: (acked: ReadonlySet<number>) => void): ReadonlySet<number> {
  const acked = new Set<number>();
  let next = 1;
  let inFlight = 0;
  let failed = false;
  const pump = () => {
    while (!failed && client.connection.isOpen && inFlight < window) {
      const i = next++;
      inFlight++;
      Promise.resolve(client.session.publish(`stream.k${i}`, [i], {}, { acknowledge: true, retain: true })).then(
        () => {
          inFlight--;
          acked.add(i);
          onAcked(acked);
          pump();
        },
        () => {
          inFlight--;
          failed = true;
        },
      );
    }
  };
  pump();
  return acked;
}

describe('the sqlite store when the server is killed', () => {
  it('keeps every acknowledged write, applies pending wills at restart, and continues event IDs above the old ones', async () => {
    const dbPath = join(tempDir(), 'state.db');
    const first = await startSqliteServer(dbPath);
    const [holder, probe, streamer] = await first.clients.connectMany('json', 3);

    // State that must outlive the crash, or be cleaned up by it.
    await holder.session.publish('dur.kept', ['kept'], {}, { acknowledge: true, retain: true });
    await holder.session.publish('dur.lock', [], { owner: 'holder' }, { acknowledge: true, retain: true, when: null, will: null, watch: true });
    await holder.session.publish('dur.presence', ['online'], {}, { acknowledge: true, retain: true, will: 'offline' });
    const { events: probed } = await subscribeEvents(probe.session, 'stream', { match: 'prefix' });

    // Kill the server from inside an acknowledgement, with a full window of writes still on the wire.
    const KILL_AFTER = 300;
    let killed = false;
    const acked = streamWrites(streamer, 50, (soFar) => {
      if (!killed && soFar.size >= KILL_AFTER) {
        killed = true;
        first.server.process.kill('SIGKILL');
      }
    });
    await withTimeout(streamer.closed, 10_000, 'the streaming client to lose the killed server');
    expect(await first.server.stop()).toBeNull(); // it died of the signal
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER);
    const lastIdBefore = Math.max(...probed.items.map((event) => event.eventId));

    const second = await startSqliteServer(dbPath);
    const [reader, publisher, historian] = await second.clients.connectMany('json', 3);

    // Every acknowledged write is stored, each with its own value.
    const { replayed: stored, marker } = await replayBeforeMarker(reader, publisher, 'stream', { retained: true });
    const storedValues = new Map(stored.map((event) => [event.topic, event.args[0]]));
    const missing = [...acked].filter((i) => storedValues.get(`stream.k${i}`) !== i);
    expect(missing, `acknowledged writes lost: ${missing.slice(0, 20).join(', ')}`).toEqual([]);
    for (const [topic, value] of storedValues) expect(topic).toBe(`stream.k${String(value)}`);

    // New event IDs continue above every one handed out before the kill.
    expect(marker.eventId).toBeGreaterThan(lastIdBefore);

    // The holder's wills were applied at startup: the lock is gone, the presence says offline.
    const { replayed: dur } = await replayBeforeMarker(reader, publisher, 'dur', { retained: true });
    expect(Object.fromEntries(dur.map((event) => [event.topic, event.args[0] ?? event.kwargs]))).toEqual({
      'dur.kept': 'kept',
      'dur.presence': 'offline',
    });

    // The event history survived too: an `after` replay from before the stream has every acknowledged write,
    // all below the new event IDs.
    const { replayed: history, marker: liveAfter } = await replayBeforeMarker(historian, publisher, 'stream', { after: 0 });
    const historyValues = new Set(history.filter((event) => event.topic.startsWith('stream.k')).map((event) => event.args[0] as number));
    expect([...acked].filter((i) => !historyValues.has(i))).toEqual([]);
    expect(isIncreasing(history.map((event: ReceivedEvent) => event.eventId))).toBe(true);
    expect(liveAfter.eventId).toBeGreaterThan(Math.max(...history.map((event) => event.eventId)));
  });
});

describe('--store errors', () => {
  it.each([
    ['an unknown store', () => 'redis-like://nowhere'],
    ['sqlite without a path', () => 'sqlite:'],
    ['a sqlite file in a directory that does not exist', () => `sqlite:${join(tempDir(), 'missing', 'state.db')}`],
    ['a sqlite path that is a directory', () => `sqlite:${tempDir()}`],
  ])('exits with status 2 and one line of explanation for %s', async (_what, store) => {
    const { code, stdout, stderr } = await runServerToExit(['--port', '0', '--store', store()]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/store|sqlite/);
  });
});

function isIncreasing(values: readonly number[]): boolean {
  return values.every((value, i) => i === 0 || value > values[i - 1]!);
}
