import { randomBytes } from 'node:crypto';
import type { NodeMessage, RealmBackplane } from '../cluster/backplane.js';
import type { RouterLogger } from '../router/logger.js';
import type { Realm } from '../router/realm.js';
import type { MigratedSession } from './mqtt-session.js';

/** How long a node waits for another to hand a session over before it starts the client afresh. */
const HANDOVER_TIMEOUT_MS = 3000;

/**
 * Persistent MQTT sessions across the router processes of a cluster, for one realm: the engine's directory
 * says which process holds each client's session; a client that connects to another process (clean start
 * off) has its session handed over from there — subscriptions, the QoS 1/2 messages waiting for it, the
 * QoS 2 packet IDs received — and the old process lets it go. Messages published while the hand-over
 * travels (one round trip between the processes) may miss the session.
 */
export class MqttSessionMigration {
  private readonly waiting = new Map<string, (state: MigratedSession | undefined) => void>();

  constructor(
    private readonly realm: Realm,
    private readonly backplane: RealmBackplane,
    /** Gives up the local session of `clientId` (if `authid` may have it): its state, or undefined. */
    private readonly handOver: (clientId: string, authid: string | undefined) => MigratedSession | undefined,
    private readonly logger: RouterLogger,
  ) {
    realm.handleNodeMessages('mqtt-claim', (message) => this.claimed(message as Extract<NodeMessage, { type: 'mqtt-claim' }>));
    realm.handleNodeMessages('mqtt-state', (message) => {
      const { key, state } = message as Extract<NodeMessage, { type: 'mqtt-state' }>;
      this.waiting.get(key)?.((state ?? undefined) as MigratedSession | undefined);
    });
  }

  /** The session of `clientId` held by another process, handed over here; undefined when there is none. */
  async claim(clientId: string, authid: string | undefined): Promise<MigratedSession | undefined> {
    const owner = await this.backplane.mqttOwner(clientId, 'get').catch(() => undefined);
    if (owner === undefined || owner === this.backplane.node) return undefined;
    const key = randomBytes(8).toString('hex');
    return new Promise<MigratedSession | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        this.logger.warn('another router node did not hand an MQTT session over in time: starting afresh', { clientId, node: owner });
        resolve(undefined);
      }, HANDOVER_TIMEOUT_MS);
      this.waiting.set(key, (state) => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve(state);
      });
      this.backplane.send(owner, { type: 'mqtt-claim', from: this.backplane.node, key, clientId, authid });
    });
  }

  /** This process holds the session of `clientId` now. */
  owned(clientId: string): void {
    this.backplane.mqttOwner(clientId, 'set').catch((error: unknown) => this.directoryFailed(clientId, error));
  }

  /** The session of `clientId` ended here. */
  released(clientId: string): void {
    this.backplane.mqttOwner(clientId, 'drop').catch((error: unknown) => this.directoryFailed(clientId, error));
  }

  private claimed(message: Extract<NodeMessage, { type: 'mqtt-claim' }>): void {
    const state = this.handOver(message.clientId, message.authid);
    this.backplane.send(message.from, { type: 'mqtt-state', key: message.key, state: state ?? null });
  }

  private directoryFailed(clientId: string, error: unknown): void {
    this.logger.warn('the cluster did not take a change of the MQTT session directory', { realm: this.realm.name, clientId, error: String(error) });
  }
}
