import { performance } from 'node:perf_hooks';
import type { AutobahnSession } from './autobahn-client.js';
import { startRedis, type RunningRedis } from './redis-process.js';
import { startServer, type RunningServer } from './server-process.js';

/**
 * Several processes of the built server on one redis-server: one router (issue #8, scale-out). Each process is
 * started as a user would (`--store redis://… --node-id … --lease-time …`), on free ports.
 */
export interface RouterCluster {
  readonly redis: RunningRedis;
  readonly leaseMs: number;
  /** The running process with this node ID (a replacement after `restart`). */
  node(nodeId: string): RunningServer;
  readonly nodeIds: readonly string[];
  /** SIGKILL: the process dies without a word (no lease retirement). Resolves with the process clock at the kill. */
  kill(nodeId: string): Promise<number>;
  /** Starts a process again under the node ID (a new instance for the cluster), if it is not running. */
  restart(nodeId: string): Promise<void>;
  /** Starts again every process that was killed. */
  restartKilled(): Promise<void>;
  /** The last lines each of these processes printed, for failure messages. */
  outputs(nodeIds: readonly string[]): string;
  /** Stops every process (SIGTERM: each leaves the cluster) and the Redis server. */
  stop(): Promise<void>;
}

export async function startRouterCluster(nodeIds: readonly string[], leaseMs: number): Promise<RouterCluster> {
  const redis = await startRedis();
  const store = `${redis.url}/0`;
  const start = (nodeId: string) => startServer(['--store', store, '--node-id', nodeId, '--lease-time', String(leaseMs)]);
  const nodes = new Map<string, RunningServer>();
  try {
    const started = await Promise.all(nodeIds.map(start));
    nodeIds.forEach((id, index) => nodes.set(id, started[index]!));
  } catch (error) {
    await Promise.all([...nodes.values()].map((node) => node.stop('SIGKILL')));
    await redis.stop();
    throw error;
  }
  const isRunning = (server: RunningServer) => server.process.exitCode === null && server.process.signalCode === null;
  const cluster: RouterCluster = {
    redis,
    leaseMs,
    nodeIds,
    node(nodeId) {
      const server = nodes.get(nodeId);
      if (server === undefined) throw new Error(`no router node ${nodeId}`);
      return server;
    },
    async kill(nodeId) {
      const server = cluster.node(nodeId);
      const at = performance.now();
      await server.stop('SIGKILL');
      return at;
    },
    async restart(nodeId) {
      if (isRunning(cluster.node(nodeId))) return;
      nodes.set(nodeId, await start(nodeId));
    },
    async restartKilled() {
      for (const nodeId of nodeIds) await cluster.restart(nodeId);
    },
    outputs(ids) {
      return ids.map((id) => `--- ${id} ---\n${cluster.node(id).output().split('\n').slice(-40).join('\n')}`).join('\n');
    },
    async stop() {
      await Promise.all([...nodes.values()].map((node) => node.stop()));
      await redis.stop();
    },
  };
  return cluster;
}

/**
 * Resolves once the router process `session` is on counts `callees` callees of `procedure` (Registration Meta
 * API, which shows that process's dealer, proxies of other processes' callees included). A call that finds no
 * callee reads the cluster's registry before it fails, so a single callee is reached right after REGISTERED;
 * but a second callee of a shared registration joins the other processes' round robin only when its
 * announcement arrives over Redis pub/sub. Tests about how calls are spread wait for this; there is no event
 * to await, so this polls, bounded.
 */
export async function calleesVisible(session: AutobahnSession, procedure: string, callees: number, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let seen = 0;
  for (;;) {
    const id = (await session.call('wamp.registration.lookup', [procedure])) as number | null;
    seen = id === null ? 0 : ((await session.call('wamp.registration.count_callees', [id])) as number);
    if (seen >= callees) return;
    if (performance.now() > deadline) throw new Error(`${procedure} has ${seen} callee(s) on this process after ${timeoutMs} ms, not ${callees}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
