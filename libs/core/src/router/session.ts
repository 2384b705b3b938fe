import type { Call } from './call.js';
import type { Registration } from './registration.js';
import type { EventDelivery, InvocationDelivery } from './deliveries.js';
import type { Realm } from './realm.js';
import type { Subscription } from './subscription.js';
import { SequentialIds } from './ids.js';

/** The protocol a session speaks, for meta data and logs. */
export type SessionProtocol = 'wamp' | 'mqtt' | 'local';

/** Who a session is and how it is connected; shown in WELCOME, meta events and logs. */
export interface SessionInfo {
  readonly protocol: SessionProtocol;
  readonly authid: string;
  readonly authrole: string;
  readonly authmethod: string;
  readonly authprovider: string;
  /** What the authentication returned beside the identity (WELCOME.Details.authextra). */
  readonly authextra?: Record<string, unknown>;
  /** e.g. `websocket`, `rawsocket`, `tcp`, `local`. */
  readonly transport: string;
  readonly serializer?: string;
  readonly remoteAddress?: string;
}

/**
 * What the router needs from whoever holds the other end of a session (a protocol gate, or an in-process
 * client). The broker and dealer talk to sessions only through this: they never see a protocol.
 */
export interface SessionPeer {
  sendEvent(event: EventDelivery): void;
  sendInvocation(invocation: InvocationDelivery): void;
  /**
   * Interrupts an invocation (spec: Call Canceling). Returns false, sending nothing, when this peer cannot be
   * interrupted (a WAMP callee that did not announce `call_canceling`): the dealer then cancels as `skip`.
   */
  sendInterrupt?(invocationId: number, mode: 'kill' | 'killnowait'): boolean;
  /** Whether `sendInterrupt` would interrupt (the callee announced call canceling); absent: as `sendInterrupt` is defined. */
  acceptsInterrupts?(): boolean;
  /**
   * Whether this peer, as a callee, takes progressive call invocations (spec: it announced both
   * `progressive_call_invocations` and `call_canceling`). Absent: it does not.
   */
  acceptsProgressiveInvocations?(): boolean;
  /**
   * Whether this peer, in `role`, takes messages in Payload Passthru Mode (a WAMP client announced
   * `<role>.features.payload_passthru_mode`). Absent: it takes them as they are (an MQTT client gets the
   * `args[0]` bytes, an in-process client sees the `ppt_*` details).
   */
  acceptsPayloadPassthru?(role: 'subscriber' | 'caller' | 'callee'): boolean;
  /** The router ends the session (shutdown, kick, realm closed): say goodbye with `reason` and let go. */
  close(reason: string, message: string): void;
  /** What waits to be sent to this peer, sampled for metrics. Absent: nothing waits (an in-process peer). */
  sendQueue?(): SendQueueDepth;
}

/** How far a session's client is behind: bytes in its connection's send buffer, messages in its session's queue. */
export interface SendQueueDepth {
  readonly bufferedBytes: number;
  readonly queuedMessages: number;
}

/** The router's record of one joined session: what it has subscribed, registered, called and is serving. */
export class Session {
  readonly joinedAt = Date.now();
  readonly subscriptions = new Set<Subscription>();
  readonly registrations = new Set<Registration>();
  /** Calls this session made that have not finished. */
  readonly calls = new Set<Call>();
  /** Invocations sent to this session (as callee), by the INVOCATION request ID. */
  readonly invocations = new Map<number, Call>();
  /** INVOCATION request IDs are session scope: 1, 2, 3, ... */
  readonly invocationIds = new SequentialIds();
  /**
   * Subscriptions still receiving their retained entries or history: live events for them wait here and
   * follow the replay, so the subscriber sees no gap and no duplicate.
   */
  catchingUp: Map<Subscription, EventDelivery[]> | undefined;
  private open = true;

  constructor(
    readonly id: number,
    readonly realm: Realm,
    readonly peer: SessionPeer,
    readonly info: SessionInfo,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  /** Marks the session gone; called once by the realm when it leaves. */
  markClosed(): void {
    this.open = false;
  }
}
