import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { deserialize, serialize } from 'node:v8';
import type { Redis } from 'ioredis';
import { pack, unpack } from 'msgpackr';
import { luaPack, type LuaPackable } from './lua-msgpack.js';
import { RedisConnection, parseRedisUrl, type HealthListener, type RedisConnectionOptions } from '../retained/redis-connection.js';
import { encodeStoredEntry } from '../retained/redis-store-provider.js';
import { fingerprint, valueFingerprints } from '../retained/redis-value-fingerprint.js';
import { isDeletion } from '../retained/retained-value.js';
import type { HistoryRetention, WriteCondition } from '../retained/realm-store.js';
import { SILENT_LOGGER, type RouterLogger } from '../router/logger.js';
import { plainPayload, type Payload } from '../router/payload.js';
import type { MatchPolicy } from '../router/topic-pattern.js';
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
import {
  CLUSTER_LEASE,
  CLUSTER_OPEN_REALM,
  CLUSTER_PUBLISH,
  CLUSTER_REAP,
  CLUSTER_REGISTER,
  CLUSTER_RETIRE,
  CLUSTER_SESSION_JOIN,
  CLUSTER_MQTT_OWNER,
  CLUSTER_SESSION_LEAVE,
  CLUSTER_SHARE,
  CLUSTER_UNREGISTER,
  CLUSTER_WRITE,
} from './redis-cluster-scripts.js';

export interface RedisBackplaneOptions extends RedisConnectionOptions {
  /** This router's name in the cluster (default: `<hostname>-<pid>`). */
  readonly nodeId?: string;
  /**
   * How long a node's lease lasts without renewal (ms, default 5000). A node that dies is reaped, and its
   * sessions' wills fire, within this time plus one reaper pass (half of it).
   */
  readonly leaseMs?: number;
  /** Told when this node lost its lease (it was paused or cut off too long): it must end its sessions. */
  readonly onFenced?: () => void;
}

type ScriptCall = (...args: (string | Buffer | number)[]) => Promise<unknown>;

const SCRIPTS = {
  clusterPublish: CLUSTER_PUBLISH,
  clusterWrite: CLUSTER_WRITE,
  clusterSessionJoin: CLUSTER_SESSION_JOIN,
  clusterSessionLeave: CLUSTER_SESSION_LEAVE,
  clusterRegister: CLUSTER_REGISTER,
  clusterUnregister: CLUSTER_UNREGISTER,
  clusterLease: CLUSTER_LEASE,
  clusterReap: CLUSTER_REAP,
  clusterRetire: CLUSTER_RETIRE,
  clusterOpenRealm: CLUSTER_OPEN_REALM,
  clusterShare: CLUSTER_SHARE,
  clusterMqttOwner: CLUSTER_MQTT_OWNER,
} as const;

type ScriptName = keyof typeof SCRIPTS;

const SPACE = 0x20;

/**
 * The Redis backplane: several router processes on one Redis behave as one router. Every state transition is
 * one Lua script (`redis-cluster-scripts.ts`); events fan out over Redis pub/sub to every node, which delivers
 * to its own subscribers (phase 1 of the research note: broadcast, local matching).
 *
 * Liveness: each node holds a lease in Redis (renewed every third of `leaseMs`); every node runs the reaper,
 * whose one script retires a node whose lease ran out: its sessions' wills fire exactly once, its parked
 * publishes and callees go, and the others hear of it (pending calls to its callees fail). A node whose lease
 * ran out is fenced: the engine refuses its writes, and it ends its own sessions.
 */
export class RedisBackplane implements Backplane {
  readonly node: string;
  readonly nodeId: string;
  readonly description: string;
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly scripts: Record<ScriptName, ScriptCall>;
  private readonly subscriber: Redis;
  private readonly realms = new Map<string, RedisRealmBackplane>();
  private readonly channels = new Map<string, (message: Buffer) => void>();
  private readonly logger: RouterLogger;
  private leaseHeld = false;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  private constructor(
    private readonly connection: RedisConnection,
    private readonly options: RedisBackplaneOptions,
  ) {
    this.logger = options.logger ?? SILENT_LOGGER;
    this.nodeId = options.nodeId ?? `${hostname()}-${process.pid}`;
    this.node = `${this.nodeId}#${randomBytes(4).toString('hex')}`;
    this.prefix = connection.location.prefix;
    this.description = connection.location.description;
    this.leaseMs = options.leaseMs ?? 5000;
    const client = connection.client;
    const scripts = {} as Record<ScriptName, ScriptCall>;
    for (const [name, lua] of Object.entries(SCRIPTS) as [ScriptName, string][]) {
      client.defineCommand(name, { lua, numberOfKeys: 0 });
      scripts[name] = (client as unknown as Record<string, ScriptCall>)[`${name}Buffer`]!.bind(client);
    }
    this.scripts = scripts;
    // Subscriptions wait for the connection (offline queue on); ioredis subscribes again after a reconnect.
    this.subscriber = client.duplicate({ enableOfflineQueue: true, connectionName: 'fox-wamp-cluster-events', commandTimeout: undefined });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.channels.get(channel.toString('utf8'))?.(message));
  }

  /** Connects, takes this node's lease and starts the reaper; rejects (one line) when Redis cannot be reached. */
  static async connect(url: string, options: RedisBackplaneOptions = {}): Promise<RedisBackplane> {
    const connection = new RedisConnection(parseRedisUrl(url), { autoPipelining: true, ...options });
    const backplane = new RedisBackplane(connection, options);
    try {
      await connection.connected();
      await backplane.join();
    } catch (error) {
      await backplane.close().catch(() => undefined);
      throw new Error(`cannot join the cluster on redis ${connection.location.description}: ${(error as Error).message ?? connection.unavailableReason()}`);
    }
    return backplane;
  }

  get healthy(): boolean {
    return this.connection.healthy && this.leaseHeld && this.subscriber.status === 'ready';
  }

  onHealthChange(listener: HealthListener): () => void {
    return this.connection.onHealthChange(listener);
  }

  openRealm(realm: string, retention: HistoryRetention): RealmBackplane {
    const existing = this.realms.get(realm);
    if (existing !== undefined) return existing;
    const opened = new RedisRealmBackplane(this, realm, `${this.prefix}:{${realm}}:`, retention);
    this.realms.set(realm, opened);
    return opened;
  }

  /** Leaves the cluster at once (the others need not wait for the lease to run out). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    if (this.leaseHeld) await this.script('clusterRetire', '', this.node).catch(() => undefined);
    this.leaseHeld = false;
    this.subscriber.disconnect();
    await this.connection.close();
  }

  /**
   * Stops this node as if its process had died (for tests and failure drills): no retirement, no more lease
   * renewals, the connections cut. The other nodes reap it once its lease runs out.
   */
  abandon(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.subscriber.disconnect();
    this.connection.client.disconnect();
  }

  /** @internal */
  script(name: ScriptName, base: string, ...args: (string | Buffer | number)[]): Promise<unknown> {
    return this.connection.run(() => this.scripts[name](this.prefix, base, this.node, ...args));
  }

  /** @internal A plain command on the command connection. */
  run<T>(operation: (client: Redis) => Promise<T>): Promise<T> {
    return this.connection.run(operation);
  }

  /** @internal Listens on a channel (this node's subscriber connection). */
  async listen(channel: string, handler: (message: Buffer) => void): Promise<void> {
    this.channels.set(channel, handler);
    await this.subscriber.subscribe(channel);
  }

  /** @internal */
  publishRaw(channel: string, message: Buffer): void {
    this.connection.run((client) => client.publish(channel, message)).catch((error: unknown) => {
      this.logger.warn('a message to another router node was not sent', { channel, error: String(error) });
    });
  }


  private async join(): Promise<void> {
    await this.listen(`${this.prefix}:cluster`, (message) => {
      const text = message.toString('utf8');
      if (!text.startsWith('DOWN ')) return;
      const node = text.slice(5);
      if (node === this.node) return this.fence('the cluster retired this node');
      for (const realm of this.realms.values()) realm.nodeDown(node);
    });
    await this.script('clusterLease', '', this.leaseMs, 'join');
    this.leaseHeld = true;
    this.logger.info('joined the cluster', { node: this.node, engine: this.description, leaseMs: this.leaseMs });
    const renew = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
    const reap = setInterval(() => void this.reap(), Math.max(50, Math.floor(this.leaseMs / 2)));
    renew.unref();
    reap.unref();
    this.timers = [renew, reap];
  }

  private lastRenewal = Date.now();

  private async renew(): Promise<void> {
    try {
      const renewed = (await this.script('clusterLease', '', this.leaseMs, 'renew')) as number;
      if (renewed === 1) {
        this.lastRenewal = Date.now();
        if (!this.leaseHeld) this.logger.info('holding the cluster lease again', { node: this.node });
        this.leaseHeld = true;
        return;
      }
      this.fence('its lease ran out before it was renewed');
      // A fresh lease: the sessions that remain were ended by the fence.
      await this.script('clusterLease', '', this.leaseMs, 'join');
      this.leaseHeld = true;
      this.lastRenewal = Date.now();
    } catch (error) {
      // Cut off from Redis: past the lease, the others will reap this node, so it must not act as a member.
      if (Date.now() - this.lastRenewal > this.leaseMs && this.leaseHeld) this.fence(`it cannot reach redis (${String(error)})`);
    }
  }

  private async reap(): Promise<void> {
    try {
      const reaped = (await this.script('clusterReap', '')) as Buffer[];
      for (const node of reaped) this.logger.warn('reaped a router node whose lease ran out', { node: node.toString('utf8') });
    } catch {
      // The renewal reports an unreachable Redis; a failed pass is retried on the next tick.
    }
  }

  private fence(why: string): void {
    if (!this.leaseHeld) return;
    this.leaseHeld = false;
    this.logger.error('this router node lost its cluster lease: ending its sessions', { node: this.node, why });
    this.options.onFenced?.();
  }
}

class RedisRealmBackplane implements RealmBackplane {
  readonly node: string;
  private listener: RealmBackplaneListener | undefined;

  constructor(
    private readonly cluster: RedisBackplane,
    private readonly realm: string,
    private readonly base: string,
    private readonly retention: HistoryRetention,
  ) {
    this.node = cluster.node;
  }

  async start(listener: RealmBackplaneListener): Promise<void> {
    this.listener = listener;
    await this.cluster.script('clusterOpenRealm', this.base, this.realm, this.retention.maxEvents, this.retention.maxAgeMs);
    await this.cluster.listen(`${this.base}ev`, (message) => this.onEvent(message));
    await this.cluster.listen(`${this.base}ctl`, (message) => this.onControl(message));
    await this.cluster.listen(`${this.base}n:${this.node}`, (message) => this.onNodeMessage(message));
    // Callees that registered before this node listened (one announced meanwhile is added twice: harmless).
    for (const callee of await this.callees()) if (callee.node !== this.node) listener.calleeAdded(callee);
    for (const [node, key] of await this.shares()) if (node !== this.node) listener.shareChanged(node, key, true);
  }

  async mqttOwner(clientId: string, op: 'get' | 'set' | 'drop'): Promise<string | undefined> {
    const owner = (await this.cluster.script('clusterMqttOwner', this.base, clientId, op)) as Buffer | null;
    return owner === null ? undefined : owner.toString('utf8');
  }

  async share(key: string, present: boolean): Promise<void> {
    await this.cluster.script('clusterShare', this.base, `${this.node}|${key}`, present ? '+' : '-');
  }

  async shares(): Promise<[string, string][]> {
    const fields = await this.cluster.run((client) => client.hkeys(`${this.base}shares`));
    return fields.map((field) => splitShareField(field));
  }

  async callees(): Promise<RemoteCallee[]> {
    const values = await this.cluster.run((client) => client.hvals(`${this.base}callees`));
    return values.map((json) => JSON.parse(json) as RemoteCallee);
  }

  async publish(event: ClusterEvent, keep: boolean): Promise<number> {
    return (await this.cluster.script('clusterPublish', this.base, serialize(event), keep ? '1' : '0')) as number;
  }

  async write(write: BackplaneWrite): Promise<BackplaneWriteOutcome> {
    const spec = writeSpec(write, this.node);
    const reply = (await this.cluster.script('clusterWrite', this.base, spec)) as [number, Buffer | number | null];
    const [kind, detail] = reply;
    if (kind === 1) return { kind: 'applied', eventId: detail as number };
    const current = detail === null ? undefined : (deserialize(detail as Buffer) as { payload: Payload }).payload;
    return kind === 2 ? { kind: 'parked' } : { kind: 'refused', current };
  }

  async sessionJoined(info: ClusterSessionInfo): Promise<void> {
    await this.cluster.script('clusterSessionJoin', this.base, String(info.session), pack(info));
  }

  async sessionLeft(sessionId: number): Promise<number> {
    return (await this.cluster.script('clusterSessionLeave', this.base, String(sessionId))) as number;
  }

  async addCallee(callee: RemoteCallee): Promise<void> {
    const reply = (await this.cluster.script(
      'clusterRegister',
      this.base,
      registrationKeyOf(callee.match, callee.uri),
      callee.policy,
      calleeField(callee.node, callee.sessionId, callee.match, callee.uri),
      JSON.stringify(callee),
    )) as [number, Buffer?];
    if (reply[0] !== 1) throw new RegistrationConflict(reply[1]?.toString('utf8') ?? 'single');
  }

  async removeCallee(sessionId: number, match: MatchPolicy, uri: string): Promise<void> {
    await this.cluster.script('clusterUnregister', this.base, calleeField(this.node, sessionId, match, uri));
  }

  send(node: string, message: NodeMessage): void {
    this.cluster.publishRaw(`${this.base}n:${node}`, Buffer.concat([Buffer.from('M '), serialize(message)]));
  }

  async sessions(): Promise<ClusterSessionInfo[]> {
    const values = await this.cluster.run((client) => client.hvalsBuffer(`${this.base}sessions`));
    return values.map((value) => unpack(value) as ClusterSessionInfo);
  }

  async close(): Promise<void> {}

  /** @internal */
  nodeDown(node: string): void {
    this.listener?.nodeDown(node);
  }

  private onEvent(message: Buffer): void {
    const space = message.indexOf(SPACE);
    const eventId = Number(message.toString('latin1', 0, space));
    const event = deserialize(message.subarray(space + 1)) as { -readonly [K in keyof ClusterEvent]: ClusterEvent[K] };
    // Set on the decoded object, not `{ ...event, eventId }`: this runs per event (docs/performance.md, rule 1).
    event.eventId = eventId;
    this.listener?.event(event);
  }

  private onControl(message: Buffer): void {
    const text = message.toString('utf8');
    if (text.startsWith('R+ ')) {
      const callee = JSON.parse(text.slice(3)) as RemoteCallee;
      if (callee.node !== this.node) this.listener?.calleeAdded(callee);
    } else if (text.startsWith('S+ ') || text.startsWith('S- ')) {
      const [node, key] = splitShareField(text.slice(3));
      if (node !== this.node) this.listener?.shareChanged(node, key, text[1] === '+');
    } else if (text.startsWith('R- ')) {
      const field = parseCalleeField(text.slice(3));
      if (field !== undefined && field.node !== this.node) this.listener?.calleeRemoved(field.node, field.sessionId, field.match, field.uri);
    }
  }

  private onNodeMessage(message: Buffer): void {
    if (message[0] === 0x57 /* W */) {
      const [, waiterId, eventId] = message.toString('utf8').split(' ');
      this.listener?.waiterApplied(waiterId!, Number(eventId));
      return;
    }
    this.listener?.nodeMessage(deserialize(message.subarray(2)) as NodeMessage);
  }
}

function splitShareField(field: string): [node: string, key: string] {
  const bar = field.indexOf('|');
  return [field.slice(0, bar), field.slice(bar + 1)];
}

function calleeField(node: string, sessionId: number, match: MatchPolicy, uri: string): string {
  return `${node}|${sessionId}|${registrationKeyOf(match, uri)}`;
}

function parseCalleeField(field: string): { node: string; sessionId: number; match: MatchPolicy; uri: string } | undefined {
  const parts = field.split('|');
  if (parts.length < 4) return undefined;
  return { node: parts[0]!, sessionId: Number(parts[1]), match: parts[2] as MatchPolicy, uri: parts.slice(3).join('|') };
}

/** The msgpack write spec the Lua scripts read (field names in `redis-cluster-scripts.ts`). */
function writeSpec(write: BackplaneWrite, node: string): Buffer {
  const spec: Record<string, LuaPackable> = { ...entryFields(write.topic, write.payload, write.event), n: node, s: String(write.event.publisherId) };
  addCondition(spec, write.condition);
  if (write.keep) spec.h = '1';
  if (write.waiterId !== undefined) spec.q = write.waiterId;
  if (write.will !== undefined && write.willEvent !== undefined) {
    const will: Record<string, LuaPackable> = {
      ...entryFields(write.topic, write.will ?? {}, write.willEvent),
      n: node,
      s: String(write.event.publisherId),
      h: '1',
    };
    spec.wl = luaPack(will);
  }
  return luaPack(spec);
}

function entryFields(topic: string, payload: Payload, event: ClusterEvent): Record<string, LuaPackable> {
  const fields: Record<string, LuaPackable> = { t: topic, p: String(event.publicationId), m: serialize(event) };
  if (isDeletion(payload)) {
    fields.d = true;
    return fields;
  }
  const value = valueFingerprints(payload);
  fields.e = encodeStoredEntry({
    topic,
    payload: plainPayload(payload),
    publisherId: event.publisherId,
    publicationId: event.publicationId,
    eventId: 0,
    updatedAt: event.publishedAt,
  });
  if (value.object) fields.o = true;
  if (value.fields.length > 0) fields.vf = value.fields;
  return fields;
}

function addCondition(spec: Record<string, LuaPackable>, condition: WriteCondition | undefined): void {
  if (condition === undefined) return;
  if (condition.kind === 'absent') spec.k = 'absent';
  else if (condition.kind === 'publication') {
    spec.k = 'publication';
    spec.ca = String(condition.publicationId);
  } else {
    spec.k = 'contains';
    const pairs: string[] = [];
    for (const [field, expected] of Object.entries(condition.fields)) pairs.push(field, fingerprint(expected));
    spec.cp = pairs;
  }
}
