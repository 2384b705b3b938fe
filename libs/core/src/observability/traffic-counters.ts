import type { MeteredProtocol, OverflowAction } from './router-metrics.js';

/** Messages and their bytes on the wire. */
export interface Tally {
  messages: number;
  bytes: number;
}

export type Direction = 'received' | 'sent';

type ByType = Map<string, Tally>;

/**
 * The router's monotonic counters as plain numbers: wire traffic by protocol, direction and message type,
 * and what the overflow policy did. Counting is a map look-up and two additions, cheap enough for every
 * message; exporters (Prometheus, MQTT `$SYS`) read the numbers when they need them.
 */
export class TrafficCounters {
  private readonly traffic: Record<MeteredProtocol, Record<Direction, ByType>> = {
    wamp: { received: new Map(), sent: new Map() },
    mqtt: { received: new Map(), sent: new Map() },
  };
  private readonly overflows: Record<MeteredProtocol, Record<OverflowAction, number>> = {
    wamp: { dropped: 0, disconnected: 0 },
    mqtt: { dropped: 0, disconnected: 0 },
  };

  count(protocol: MeteredProtocol, direction: Direction, type: string, bytes: number): void {
    const byType = this.traffic[protocol][direction];
    const tally = byType.get(type);
    if (tally === undefined) {
      byType.set(type, { messages: 1, bytes });
      return;
    }
    tally.messages++;
    tally.bytes += bytes;
  }

  countOverflow(protocol: MeteredProtocol, action: OverflowAction): void {
    this.overflows[protocol][action]++;
  }

  /** Tallies by message type of one protocol and direction (live: do not modify). */
  byType(protocol: MeteredProtocol, direction: Direction): ReadonlyMap<string, Readonly<Tally>> {
    return this.traffic[protocol][direction];
  }

  /** One message type's tally (zero when none was seen). */
  of(protocol: MeteredProtocol, direction: Direction, type: string): Tally {
    const tally = this.traffic[protocol][direction].get(type);
    return tally === undefined ? { messages: 0, bytes: 0 } : { ...tally };
  }

  /** Every message type of one protocol and direction, summed. */
  total(protocol: MeteredProtocol, direction: Direction): Tally {
    const sum = { messages: 0, bytes: 0 };
    for (const tally of this.traffic[protocol][direction].values()) {
      sum.messages += tally.messages;
      sum.bytes += tally.bytes;
    }
    return sum;
  }

  overflowCount(protocol: MeteredProtocol, action: OverflowAction): number {
    return this.overflows[protocol][action];
  }
}
