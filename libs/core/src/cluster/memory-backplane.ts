import { randomBytes } from 'node:crypto';
import { MemoryRealmStore } from '../retained/memory-realm-store.js';
import type { HistoryRetention, RealmStore, RetainedEntry, StoreProvider } from '../retained/realm-store.js';
import { writeConditionHolds } from '../retained/write-condition.js';
import type { MatchPolicy } from '../router/topic-pattern.js';
import type { Payload } from '../router/payload.js';
import {
  RegistrationConflict,
  registrationKeyOf,
  type Backplane,
  type BackplaneWrite,
  type BackplaneWriteOutcome,
  type ClusterEvent,
  type ClusterSessionInfo,
  type NodeMessage,
  type RealmBackplane,
  type RealmBackplaneListener,
  type RemoteCallee,
} from './backplane.js';

/** A publish parked by `watch`, in the engine. */
interface Waiter {
  readonly write: BackplaneWrite;
  readonly node: string;
}

/** The engine's state of one realm. */
class RealmEngine {
  readonly listeners = new Map<string, RealmBackplaneListener>();
  readonly waiters = new Map<string, Waiter[]>();
  /** The prepared will event of each entry that has a will, by topic. */
  readonly willEvents = new Map<string, ClusterEvent>();
  readonly sessions = new Map<number, ClusterSessionInfo>();
  readonly callees = new Map<string, RemoteCallee>();
  readonly policies = new Map<string, { policy: string; count: number }>();
  readonly shares = new Map<string, Set<string>>();
  readonly mqttOwners = new Map<string, string>();
  /** One engine operation at a time, as Redis runs one script at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly store: RealmStore) {}

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Fan-out to every node of the realm (this one included), after the operation, in order. */
  emitToAll(deliver: (listener: RealmBackplaneListener) => void, except?: string): void {
    for (const [node, listener] of this.listeners) if (node !== except) queueMicrotask(() => deliver(listener));
  }
}

/**
 * The in-memory backplane: several routers in one process behave as one router, with the semantics of the Redis
 * backplane implemented in plain TypeScript — the reference model the shared suite
 * (`test/unit/backplane-conformance.test.ts`) holds the Redis implementation to. One `MemoryCluster` is the
 * engine; each router gets a node of it (`cluster.node(id)`) and the cluster's shared store (`cluster.store`).
 * `crash(node)` retires a node as the Redis reaper does when a lease runs out.
 */
export class MemoryCluster {
  private readonly realms = new Map<string, RealmEngine>();
  private readonly nodes = new Map<string, MemoryBackplane>();

  /** The store every router of this cluster must use: one realm store per realm, shared. */
  readonly store: StoreProvider = {
    description: 'memory (cluster)',
    openRealm: (realm, retention) => this.realm(realm, retention).store,
    close: async () => {},
  };

  node(nodeId: string): MemoryBackplane {
    const node = new MemoryBackplane(this, nodeId);
    this.nodes.set(node.node, node);
    return node;
  }

  /** A node dies: what it held is cleaned up (its sessions' wills fire) and the others hear of it. */
  async crash(node: string): Promise<void> {
    this.nodes.delete(node);
    for (const engine of this.realms.values()) {
      engine.listeners.delete(node);
      await engine.run(async () => {
        for (const [id, info] of [...engine.sessions]) if (info.node === node) await eraseSession(engine, id);
        for (const [field, callee] of [...engine.callees]) if (callee.node === node) dropCallee(engine, field, callee);
        for (const [key, nodes] of engine.shares) {
          if (!nodes.delete(node)) continue;
          engine.emitToAll((listener) => listener.shareChanged(node, key, false));
        }
      });
      engine.emitToAll((listener) => listener.nodeDown(node));
    }
  }

  /** @internal */
  realm(name: string, retention: HistoryRetention): RealmEngine {
    let engine = this.realms.get(name);
    if (engine === undefined) this.realms.set(name, (engine = new RealmEngine(new MemoryRealmStore(retention))));
    return engine;
  }
}

export class MemoryBackplane implements Backplane {
  readonly node: string;
  readonly description = 'memory';
  readonly healthy = true;

  constructor(
    private readonly cluster: MemoryCluster,
    readonly nodeId: string,
  ) {
    this.node = `${nodeId}#${randomBytes(4).toString('hex')}`;
  }

  openRealm(realm: string, retention: HistoryRetention): RealmBackplane {
    return new MemoryRealmBackplane(this.cluster.realm(realm, retention), this.node);
  }

  close(): Promise<void> {
    return this.cluster.crash(this.node);
  }

  /** Stops this node as if its process had died: the engine retires it at once (there is no lease to wait for). */
  abandon(): void {
    void this.cluster.crash(this.node);
  }
}

class MemoryRealmBackplane implements RealmBackplane {
  constructor(
    private readonly engine: RealmEngine,
    readonly node: string,
  ) {}

  async start(listener: RealmBackplaneListener): Promise<void> {
    this.engine.listeners.set(this.node, listener);
    for (const callee of this.engine.callees.values()) if (callee.node !== this.node) listener.calleeAdded(callee);
    for (const [key, nodes] of this.engine.shares) for (const node of nodes) if (node !== this.node) listener.shareChanged(node, key, true);
  }

  publish(event: ClusterEvent, keep: boolean): Promise<number> {
    return this.engine.run(() => emit(this.engine, event, keep));
  }

  write(write: BackplaneWrite): Promise<BackplaneWriteOutcome> {
    const engine = this.engine;
    return engine.run(async () => {
      const current = await engine.store.get(write.topic);
      if (!writeConditionHolds(write.condition, current)) {
        if (write.waiterId !== undefined) {
          const queue = engine.waiters.get(write.topic) ?? [];
          queue.push({ write, node: this.node });
          engine.waiters.set(write.topic, queue);
          return { kind: 'parked' };
        }
        return { kind: 'refused', current: current?.payload };
      }
      const eventId = await apply(engine, write);
      await handOff(engine, write.topic);
      return { kind: 'applied', eventId };
    });
  }

  async sessionJoined(info: ClusterSessionInfo): Promise<void> {
    await this.engine.run(async () => void this.engine.sessions.set(info.session, info));
  }

  sessionLeft(sessionId: number): Promise<number> {
    return this.engine.run(() => eraseSession(this.engine, sessionId));
  }

  addCallee(callee: RemoteCallee): Promise<void> {
    const engine = this.engine;
    return engine.run(async () => {
      const field = calleeField(callee.node, callee.sessionId, callee.match, callee.uri);
      if (engine.callees.has(field)) return;
      const key = registrationKeyOf(callee.match, callee.uri);
      const registered = engine.policies.get(key);
      if (registered !== undefined) {
        if (registered.policy === 'single' || callee.policy === 'single' || registered.policy !== callee.policy) throw new RegistrationConflict(registered.policy);
        registered.count++;
      } else {
        engine.policies.set(key, { policy: callee.policy, count: 1 });
      }
      engine.callees.set(field, callee);
      engine.emitToAll((listener) => listener.calleeAdded(callee), callee.node);
    });
  }

  removeCallee(sessionId: number, match: MatchPolicy, uri: string): Promise<void> {
    const field = calleeField(this.node, sessionId, match, uri);
    return this.engine.run(async () => {
      const callee = this.engine.callees.get(field);
      if (callee !== undefined) dropCallee(this.engine, field, callee);
    });
  }

  send(node: string, message: NodeMessage): void {
    const listener = this.engine.listeners.get(node);
    // Through a structured clone, as bytes through Redis: the receiver gets its own copy.
    if (listener !== undefined) queueMicrotask(() => listener.nodeMessage(structuredClone(message)));
  }

  async share(key: string, present: boolean): Promise<void> {
    const engine = this.engine;
    await engine.run(async () => {
      let nodes = engine.shares.get(key);
      if (present) {
        if (nodes === undefined) engine.shares.set(key, (nodes = new Set()));
        nodes.add(this.node);
      } else if (nodes === undefined || !nodes.delete(this.node)) {
        return;
      }
      engine.emitToAll((listener) => listener.shareChanged(this.node, key, present), this.node);
    });
  }

  async shares(): Promise<[string, string][]> {
    return [...this.engine.shares].flatMap(([key, nodes]) => [...nodes].map((node): [string, string] => [node, key]));
  }

  mqttOwner(clientId: string, op: 'get' | 'set' | 'drop'): Promise<string | undefined> {
    const owners = this.engine.mqttOwners;
    return this.engine.run(async () => {
      if (op === 'set') owners.set(clientId, this.node);
      else if (op === 'drop' && owners.get(clientId) === this.node) owners.delete(clientId);
      if (op !== 'get') return undefined;
      const owner = owners.get(clientId);
      return owner !== undefined && this.engine.listeners.has(owner) ? owner : undefined;
    });
  }

  async callees(): Promise<RemoteCallee[]> {
    return [...this.engine.callees.values()];
  }

  async sessions(): Promise<ClusterSessionInfo[]> {
    return [...this.engine.sessions.values()];
  }

  async close(): Promise<void> {}
}

/** The next event ID, the history entry, the fan-out: as the Redis `emit`. */
async function emit(engine: RealmEngine, event: ClusterEvent, keep: boolean): Promise<number> {
  const { first: eventId } = await engine.store.reserveEventIds(1);
  if (keep) {
    await engine.store.appendHistory({
      eventId,
      topic: event.topic,
      payload: event.payload,
      publisherId: event.publisherId,
      publicationId: event.publicationId,
      publishedAt: event.publishedAt,
    });
  }
  const delivered = Object.assign(structuredClone(event), { eventId });
  engine.emitToAll((listener) => listener.event(delivered));
  return eventId;
}

/** Applies a write whose condition holds: the entry (with its will), the event. Returns the event ID. */
async function apply(engine: RealmEngine, write: BackplaneWrite): Promise<number> {
  const eventId = await emit(engine, write.event, write.keep);
  const will: Payload | null | undefined = write.willEvent === undefined ? undefined : write.will;
  await engine.store.write({
    topic: write.topic,
    payload: write.payload,
    publisherId: write.event.publisherId,
    publicationId: write.event.publicationId,
    eventId,
    ...(will !== undefined ? { will } : {}),
  });
  if (write.willEvent !== undefined) engine.willEvents.set(write.topic, write.willEvent);
  else engine.willEvents.delete(write.topic);
  return eventId;
}

/** The first parked publish whose condition now holds wins, and so on: as the Redis `handOff`. */
async function handOff(engine: RealmEngine, topic: string): Promise<void> {
  for (;;) {
    const queue = engine.waiters.get(topic);
    if (queue === undefined) return;
    const current = await engine.store.get(topic);
    const index = queue.findIndex((waiter) => writeConditionHolds(waiter.write.condition, current));
    if (index < 0) return;
    const [waiter] = queue.splice(index, 1) as [Waiter];
    if (queue.length === 0) engine.waiters.delete(topic);
    const eventId = await apply(engine, waiter.write);
    const listener = engine.listeners.get(waiter.node);
    if (listener !== undefined) queueMicrotask(() => listener.waiterApplied(waiter.write.waiterId!, eventId));
  }
}

/** A session is over: its parked publishes go, its wills fire (each only while the entry is still its write). */
async function eraseSession(engine: RealmEngine, sessionId: number): Promise<number> {
  for (const [topic, queue] of engine.waiters) {
    const kept = queue.filter((waiter) => waiter.write.event.publisherId !== sessionId);
    if (kept.length === 0) engine.waiters.delete(topic);
    else engine.waiters.set(topic, kept);
  }
  let fired = 0;
  for (const entry of await engine.store.willsOf(sessionId)) {
    if (await fireWill(engine, entry)) fired++;
  }
  engine.sessions.delete(sessionId);
  return fired;
}

async function fireWill(engine: RealmEngine, entry: RetainedEntry): Promise<boolean> {
  const willEvent = engine.willEvents.get(entry.topic);
  const current = await engine.store.get(entry.topic);
  if (willEvent === undefined || current?.publicationId !== entry.publicationId) return false;
  const payload = entry.will ?? {};
  await apply(engine, { topic: entry.topic, payload, event: { ...willEvent, payload }, keep: true });
  await handOff(engine, entry.topic);
  return true;
}

function dropCallee(engine: RealmEngine, field: string, callee: RemoteCallee): void {
  engine.callees.delete(field);
  const key = registrationKeyOf(callee.match, callee.uri);
  const registered = engine.policies.get(key);
  if (registered !== undefined && --registered.count <= 0) engine.policies.delete(key);
  engine.emitToAll((listener) => listener.calleeRemoved(callee.node, callee.sessionId, callee.match, callee.uri), callee.node);
}

function calleeField(node: string, sessionId: number, match: MatchPolicy, uri: string): string {
  return `${node}|${sessionId}|${registrationKeyOf(match, uri)}`;
}
