import type { EventDelivery, InvocationDelivery } from '../router/deliveries.js';
import type { Payload } from '../router/payload.js';
import type { SendQueueDepth, Session, SessionPeer } from '../router/session.js';
import type { Subscription } from '../router/subscription.js';
import { mqttTopicOf, type TopicLevels } from '../router/topic.js';
import type { ParsedFilter } from './mqtt-topics.js';

export type QoS = 0 | 1 | 2;

/** One subscription of an MQTT session, with the options of the SUBSCRIBE that made it (MQTT 5 3.8.3.1). */
export interface MqttSubscription {
  readonly parsed: ParsedFilter;
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: 0 | 1 | 2;
  readonly subscriptionId: number | undefined;
  readonly subscription: Subscription;
}

/** A message on its way to this session's client. */
export interface OutgoingMessage {
  readonly levels: TopicLevels;
  readonly payload: Payload;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly subscriptionIds: readonly number[];
}

/** A QoS 1 or 2 message sent and not yet acknowledged (MQTT 4.4): resent on reconnect. */
export interface InFlightMessage {
  readonly message: OutgoingMessage;
  /** `publish`: waiting for PUBACK / PUBREC; `pubrel`: PUBREL sent, waiting for PUBCOMP. */
  state: 'publish' | 'pubrel';
}

/**
 * What a session carries to another router process of the cluster when its client resumes it there: its
 * subscriptions (as SUBSCRIBE asked for them), what waits for the client, and the QoS 2 packet IDs received.
 */
export interface MigratedSession {
  readonly subscriptions: readonly {
    readonly filter: string;
    readonly qos: QoS;
    readonly noLocal: boolean;
    readonly retainAsPublished: boolean;
    readonly retainHandling: 0 | 1 | 2;
    readonly subscriptionId: number | undefined;
  }[];
  /** In-flight messages first (in packet-ID order), then the queue: all to be sent again. */
  readonly pending: readonly OutgoingMessage[];
  readonly receivedQos2: readonly number[];
}

/** What the session needs from the network connection it is attached to. */
export interface SessionLink {
  /** The client's Receive Maximum: how many QoS 1/2 PUBLISHes may be unacknowledged. */
  readonly receiveMaximum: number;
  /** Sends a PUBLISH; false when it could not be sent (larger than the client's Maximum Packet Size). */
  sendPublish(message: OutgoingMessage, packetId: number, dup: boolean): boolean;
  sendPubrel(packetId: number): void;
  /** The router ends the session: tell the client why (v5 DISCONNECT) and close. */
  disconnect(reasonCode: number, reason: string): void;
  /** Bytes written to the client and not yet handed to the operating system (metrics). */
  bufferedBytes(): number;
}

/** How the session reaches whoever manages sessions (the gate): to end it when the router says so. */
export interface SessionOwner {
  endSession(session: MqttSession, reasonCode: number, reason: string): void;
  /** The session dropped a message: its queue was full (the overflow policy, for metrics). */
  messageDropped(session: MqttSession): void;
}

export interface SessionLimits {
  /** Messages queued per session (offline, or over the client's Receive Maximum); more are dropped. */
  readonly maxQueuedMessages: number;
}

const MAX_PACKET_ID = 0xffff;

/**
 * The state of one MQTT session (MQTT 4.1): its subscriptions, the QoS 1/2 messages in flight both ways, and
 * the messages queued while the client is away or over its Receive Maximum. It outlives network connections
 * when the client asked for a persistent session; while it lives, its router session stays in the realm, so
 * its subscriptions keep matching and messages queue for it.
 */
export class MqttSession implements SessionPeer {
  realmSession!: Session;
  /** By topic filter text (`$share/g/f` included): a new SUBSCRIBE to the same filter replaces the options. */
  readonly subscriptions = new Map<string, MqttSubscription>();
  /** The same subscriptions by the router's subscription ID, which events carry. */
  private readonly byRouterId = new Map<number, MqttSubscription>();
  readonly inFlight = new Map<number, InFlightMessage>();
  private readonly queue: OutgoingMessage[] = [];
  /** Packet IDs of QoS 2 PUBLISHes received and not yet released (MQTT 4.3.3: deliver once). */
  readonly receivedQos2 = new Set<number>();
  link: SessionLink | undefined;
  /** Seconds the session lives after its connection ends (MQTT 5 Session Expiry; 3.1.1 clean session 0: forever). */
  expirySeconds = 0;
  expiryTimer: NodeJS.Timeout | undefined;
  /** Messages dropped because the queue was full (metrics, logs). */
  dropped = 0;
  private nextPacketId = 1;
  /** Events of the current delivery round, merged per publication (overlapping subscriptions: one copy). */
  private batch: Map<number, { event: EventDelivery; qos: QoS; retain: boolean; ids: number[] }> | undefined;
  private readonly flushBatch = () => this.flush();

  constructor(
    readonly clientId: string,
    readonly realmName: string,
    private readonly owner: SessionOwner,
    private readonly limits: SessionLimits,
  ) {}

  addSubscription(filter: string, entry: MqttSubscription): void {
    const previous = this.subscriptions.get(filter);
    if (previous !== undefined) this.byRouterId.delete(previous.subscription.id);
    this.subscriptions.set(filter, entry);
    this.byRouterId.set(entry.subscription.id, entry);
  }

  removeSubscription(filter: string): MqttSubscription | undefined {
    const entry = this.subscriptions.get(filter);
    if (entry === undefined) return undefined;
    this.subscriptions.delete(filter);
    this.byRouterId.delete(entry.subscription.id);
    return entry;
  }

  // --- SessionPeer: what the router sends to this session ---

  sendEvent(event: EventDelivery): void {
    const entry = this.byRouterId.get(event.subscriptionId);
    if (entry === undefined) return;
    if (entry.noLocal && event.publisherId === this.realmSession.id && !event.retained) return;
    const publishedQos = event.payload.properties?.qos ?? 0;
    const qos = Math.min(publishedQos, entry.qos) as QoS;
    const retain = event.retained === true || (entry.retainAsPublished && event.retainedWrite);
    const ids = entry.subscriptionId === undefined ? [] : [entry.subscriptionId];
    if (entry.parsed.shareGroup !== undefined || (this.subscriptions.size === 1 && this.batch === undefined)) {
      // A shared subscription's copy is its own (MQTT 5 4.8.2): never merged with others. A session with one
      // subscription has nothing to merge, so it skips the round trip through the batch.
      this.deliver({ levels: event.levels, payload: event.payload, qos, retain, subscriptionIds: ids });
      return;
    }
    if (this.batch === undefined) {
      this.batch = new Map();
      queueMicrotask(this.flushBatch);
    }
    const pending = this.batch.get(event.publicationId);
    if (pending === undefined) {
      this.batch.set(event.publicationId, { event, qos, retain, ids });
      return;
    }
    // Overlapping subscriptions (MQTT-3.3.4-2, MQTT 5 3.3.4): one copy at the highest QoS with every identifier.
    pending.qos = Math.max(pending.qos, qos) as QoS;
    pending.retain ||= retain;
    pending.ids.push(...ids);
  }

  sendInvocation(_invocation: InvocationDelivery): void {
    // MQTT sessions never register procedures.
  }

  close(reason: string, message: string): void {
    const code = reason === 'wamp.close.system_shutdown' ? 0x8b : 0x98;
    this.owner.endSession(this, code, message);
  }

  // --- delivery with flow control ---

  private flush(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (batch === undefined) return;
    for (const { event, qos, retain, ids } of batch.values()) {
      this.deliver({ levels: event.levels, payload: event.payload, qos, retain, subscriptionIds: ids });
    }
  }

  private deliver(message: OutgoingMessage): void {
    const link = this.link;
    if (message.qos === 0) {
      // QoS 0 is not queued for an absent client (as Mosquitto's default); it goes at once otherwise.
      if (link !== undefined && !isExpired(message)) link.sendPublish(message, 0, false);
      return;
    }
    if (link !== undefined && this.queue.length === 0 && this.inFlight.size < link.receiveMaximum) {
      this.sendInFlight(link, message);
      return;
    }
    if (this.queue.length >= this.limits.maxQueuedMessages) {
      this.dropped++;
      this.owner.messageDropped(this);
      return;
    }
    this.queue.push(message);
  }

  private sendInFlight(link: SessionLink, message: OutgoingMessage): void {
    if (isExpired(message)) return;
    const packetId = this.takePacketId();
    this.inFlight.set(packetId, { message, state: 'publish' });
    // A message the client could not take (Maximum Packet Size) counts as delivered (MQTT-3.1.2-25).
    if (!link.sendPublish(message, packetId, false)) this.inFlight.delete(packetId);
  }

  /** Sends queued messages while the client's Receive Maximum allows. */
  pump(): void {
    const link = this.link;
    if (link === undefined) return;
    while (this.queue.length > 0 && this.inFlight.size < link.receiveMaximum) {
      this.sendInFlight(link, this.queue.shift()!);
    }
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): the message is done. */
  acknowledged(packetId: number): boolean {
    if (!this.inFlight.delete(packetId)) return false;
    this.pump();
    return true;
  }

  /** PUBREC: the QoS 2 message moves on to its release. Returns false for an unknown packet ID. */
  received(packetId: number, failed: boolean): boolean {
    const entry = this.inFlight.get(packetId);
    if (entry === undefined || entry.state !== 'publish') return false;
    if (failed) {
      this.acknowledged(packetId);
      return true;
    }
    entry.state = 'pubrel';
    this.link?.sendPubrel(packetId);
    return true;
  }

  /** A connection took the session up: resend what is in flight (DUP set, MQTT-4.4.0-1), then the queue. */
  resume(link: SessionLink): void {
    this.link = link;
    for (const [packetId, entry] of this.inFlight) {
      if (entry.state === 'pubrel') link.sendPubrel(packetId);
      else if (!link.sendPublish(entry.message, packetId, true)) this.inFlight.delete(packetId);
    }
    this.pump();
  }

  detach(): void {
    this.link = undefined;
  }

  /** Its state for another process (payloads as plain data): the caller ends this session right after. */
  exportState(plain: (payload: Payload) => Payload): MigratedSession {
    const messages = [...[...this.inFlight.values()].filter((entry) => entry.state === 'publish').map((entry) => entry.message), ...this.queue];
    return {
      subscriptions: [...this.subscriptions].map(([filter, entry]) => ({
        filter,
        qos: entry.qos,
        noLocal: entry.noLocal,
        retainAsPublished: entry.retainAsPublished,
        retainHandling: entry.retainHandling,
        subscriptionId: entry.subscriptionId,
      })),
      pending: messages.map((message) => ({ ...message, payload: plain(message.payload) })),
      receivedQos2: [...this.receivedQos2],
    };
  }

  /** Takes what another process's session had waiting (its subscriptions are restored by the gate). */
  importPending(state: MigratedSession): void {
    for (const message of state.pending) this.queue.push(message);
    for (const packetId of state.receivedQos2) this.receivedQos2.add(packetId);
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  sendQueue(): SendQueueDepth {
    return { bufferedBytes: this.link?.bufferedBytes() ?? 0, queuedMessages: this.queue.length };
  }

  private takePacketId(): number {
    for (;;) {
      const id = this.nextPacketId;
      this.nextPacketId = id === MAX_PACKET_ID ? 1 : id + 1;
      if (!this.inFlight.has(id)) return id;
    }
  }
}

function isExpired(message: OutgoingMessage): boolean {
  const expiresAt = message.payload.properties?.expiresAt;
  return expiresAt !== undefined && expiresAt <= Date.now();
}

/** The MQTT topic name of a message. */
export function topicNameOf(message: OutgoingMessage): string {
  return mqttTopicOf(message.levels);
}
