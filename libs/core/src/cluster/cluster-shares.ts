import type { RouterLogger } from '../router/logger.js';
import type { Subscription } from '../router/subscription.js';
import type { RealmBackplane } from './backplane.js';

/**
 * Shared subscriptions (MQTT `$share/<group>/<filter>`) across the router processes of a cluster: each event
 * goes to one member of the group in the whole cluster. Every process sees every event (the broadcast), and
 * every process knows which processes have members of each group (the engine's registry): the event's
 * publication ID picks one of those processes, the same on all of them, and that process picks its member in
 * turn. While membership changes travel (one Redis round trip), an event may reach two processes' members or
 * none.
 */
export class ClusterShares {
  /** Other processes with members, per shared subscription key. */
  private readonly nodesByKey = new Map<string, Set<string>>();

  constructor(
    private readonly backplane: RealmBackplane,
    private readonly logger: RouterLogger,
  ) {}

  /** Whether this process delivers `publicationId` to its members of the shared subscription. */
  owns(subscription: Subscription, publicationId: number): boolean {
    const others = this.nodesByKey.get(subscription.key);
    if (others === undefined || others.size === 0) return true;
    const nodes = [...others, this.backplane.node].sort();
    return nodes[publicationId % nodes.length] === this.backplane.node;
  }

  /** This process's first member joined (`present`), or its last one left. */
  local(subscription: Subscription, present: boolean): void {
    this.backplane.share(subscription.key, present).catch((error: unknown) => {
      this.logger.warn('the cluster did not take a change of a shared subscription', { subscription: subscription.key, error: String(error) });
    });
  }

  changed(node: string, key: string, present: boolean): void {
    let nodes = this.nodesByKey.get(key);
    if (present) {
      if (nodes === undefined) this.nodesByKey.set(key, (nodes = new Set()));
      nodes.add(node);
    } else if (nodes !== undefined) {
      nodes.delete(node);
      if (nodes.size === 0) this.nodesByKey.delete(key);
    }
  }

  nodeDown(node: string): void {
    for (const key of [...this.nodesByKey.keys()]) this.changed(node, key, false);
  }
}
