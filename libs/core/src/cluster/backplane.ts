import type { WriteCondition } from '../retained/realm-store.js';
import type { HistoryRetention } from '../retained/realm-store.js';
import type { Payload } from '../router/payload.js';
import type { InvokePolicy, PublishOptions } from '../router/options.js';
import type { MatchPolicy } from '../router/topic-pattern.js';

/**
 * One publication as it travels between router processes and sits in the shared history. A superset of
 * `HistoryEvent`, so the history stream holds the same bytes the fan-out carries.
 */
export interface ClusterEvent {
  /** The topic key (`topicKey`). */
  readonly topic: string;
  /** Plain data (`plainPayload`): it is serialized. */
  readonly payload: Payload;
  readonly publisherId: number;
  readonly publicationId: number;
  /** Milliseconds since the epoch. */
  readonly publishedAt: number;
  /** 0 on the wire: the engine assigns it, and the receiver sets it from the engine's answer. */
  readonly eventId: number;
  /** The node instance the publisher is on (a publisher's own node may find its session for `exclude_me`). */
  readonly node: string;
  /** The delivery rules of the publication; absent for the common case (exclude_me, nothing listed). */
  readonly rules?: DeliveryRules;
  /** The publisher's identity, when it asked to be disclosed. */
  readonly disclosed?: { readonly authid: string; readonly authrole: string };
  /** A retained write (MQTT Retain As Published). */
  readonly retainedWrite?: boolean;
}

/** The publish options a receiving node needs to pick subscribers (`PublishOptions` without the state ones). */
export type DeliveryRules = Pick<PublishOptions, (typeof DELIVERY_RULE_NAMES)[number]>;

export const DELIVERY_RULE_NAMES = ['excludeMe', 'exclude', 'eligible', 'excludeAuthid', 'eligibleAuthid', 'excludeAuthrole', 'eligibleAuthrole', 'discloseMe'] as const;

/** A retained or conditional publication for the engine to apply atomically, with its event. */
export interface BackplaneWrite {
  readonly topic: string;
  readonly payload: Payload;
  readonly condition?: WriteCondition;
  /** What the entry becomes when the publisher's session ends (`null`: deleted); absent: no will. */
  readonly will?: Payload | null;
  /** The event to deliver and keep (its `eventId` is assigned by the engine). */
  readonly event: ClusterEvent;
  /** The event of the will, prepared now: the engine applies it when the session ends, even if this process is dead. */
  readonly willEvent?: ClusterEvent;
  /** Keep the event in the history (not for publications addressed to chosen subscribers). */
  readonly keep: boolean;
  /** With `watch`: the ID under which the publish waits when its condition does not hold. */
  readonly waiterId?: string;
}

export type BackplaneWriteOutcome =
  | { readonly kind: 'applied'; readonly eventId: number }
  /** The condition did not hold; `current` is the entry's event as stored (undefined: no entry). */
  | { readonly kind: 'refused'; readonly current: Payload | undefined }
  /** The condition did not hold and the publish waits (`watch`): `onWaiterApplied` reports it later. */
  | { readonly kind: 'parked' };

/** A registration's callee as the other nodes learn of it. */
export interface RemoteCallee {
  readonly node: string;
  readonly sessionId: number;
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly policy: InvokePolicy;
  /** Invocations the callee serves at once; absent: no limit. */
  readonly concurrency?: number;
  /** Whether the callee can be interrupted (it announced call canceling). */
  readonly interruptible: boolean;
  readonly progressive: boolean;
  /** Whether it takes Payload Passthru Mode. */
  readonly passthru: boolean;
}

/** A session as the cluster's session directory lists it (`wamp.session.count/list/get` across nodes). */
export interface ClusterSessionInfo {
  readonly node: string;
  readonly session: number;
  readonly authid: string;
  readonly authrole: string;
  readonly authmethod: string;
  readonly authprovider: string;
  readonly transport: string;
  readonly protocol: string;
}

/** A message from one node to another about a call (forwarded CALL, its answers, interrupts). */
export type NodeMessage =
  | { readonly type: 'call'; readonly from: string; readonly key: string; readonly callee: number; readonly uri: string; readonly match: MatchPolicy; readonly procedure: string; readonly payload: Payload; readonly details: Record<string, unknown>; readonly caller: number; readonly progress: boolean }
  | { readonly type: 'chunk'; readonly from: string; readonly key: string; readonly payload: Payload; readonly progress: boolean }
  | { readonly type: 'interrupt'; readonly from: string; readonly key: string; readonly mode: 'kill' | 'killnowait' }
  | { readonly type: 'result'; readonly key: string; readonly payload: Payload; readonly progress: boolean }
  | { readonly type: 'error'; readonly key: string; readonly uri: string; readonly message: string; readonly payload: Payload }
  /** An MQTT client resumes its session on the sender's node: the owner hands the session over. */
  | { readonly type: 'mqtt-claim'; readonly from: string; readonly key: string; readonly clientId: string; readonly authid: string | undefined }
  /** The handed-over MQTT session (`MigratedSession`), or null when there is none for that client. */
  | { readonly type: 'mqtt-state'; readonly key: string; readonly state: unknown };

export interface RealmBackplaneListener {
  /** An event of the realm, from any node (this one included), in the engine's order. */
  event(event: ClusterEvent): void;
  /** A publish parked by `watch` on this node was applied by the engine. */
  waiterApplied(waiterId: string, eventId: number): void;
  calleeAdded(callee: RemoteCallee): void;
  calleeRemoved(node: string, sessionId: number, match: MatchPolicy, uri: string): void;
  nodeMessage(message: NodeMessage): void;
  /** A node has members of a shared subscription (`key`: `Subscription.key`) now, or has none any more. */
  shareChanged(node: string, key: string, present: boolean): void;
  /** A node instance is gone (reaped or retired): what it held in the engine is already cleaned up. */
  nodeDown(node: string): void;
}

/**
 * One realm's share of the backplane: where a router process sends what other processes must see, and hears
 * what they did. Each call is one atomic step in the engine.
 */
export interface RealmBackplane {
  readonly node: string;
  /** Loads what the engine knows already (callees of other nodes) and starts listening. */
  start(listener: RealmBackplaneListener): Promise<void>;
  /** A plain publication: resolves with its event ID once it is in the engine (and on its way to every node). */
  publish(event: ClusterEvent, keep: boolean): Promise<number>;
  write(write: BackplaneWrite): Promise<BackplaneWriteOutcome>;
  sessionJoined(info: ClusterSessionInfo): Promise<void>;
  /** The session is over: its wills fire and its parked publishes go. Resolves with the number of wills fired. */
  sessionLeft(sessionId: number): Promise<number>;
  /** Rejects with the policy already registered when the registration conflicts with the cluster's. */
  addCallee(callee: RemoteCallee): Promise<void>;
  removeCallee(sessionId: number, match: MatchPolicy, uri: string): Promise<void>;
  send(node: string, message: NodeMessage): void;
  /** This node has members of the shared subscription `key` now (`present`), or none any more. */
  share(key: string, present: boolean): Promise<void>;
  /** The nodes with members of each shared subscription, as `[node, key]` pairs. */
  shares(): Promise<[string, string][]>;
  /**
   * The MQTT session directory: which node holds a client's session (`get`: undefined when none, or when its node
   * is gone), this node does now (`set`), or does no more (`drop`, only if it still is this node).
   */
  mqttOwner(clientId: string, op: 'get' | 'set' | 'drop'): Promise<string | undefined>;
  /** Every callee the cluster's registry holds now (this node's included). */
  callees(): Promise<RemoteCallee[]>;
  sessions(): Promise<ClusterSessionInfo[]>;
  close(): Promise<void>;
}

/** The process's membership of the cluster; opens realms. */
export interface Backplane {
  /** This process's node instance: the configured node ID plus a suffix per start, so a restart is a new instance. */
  readonly node: string;
  /** The configured (or generated) node ID, for logs and health. */
  readonly nodeId: string;
  readonly description: string;
  /** Whether the engine is reachable and this node holds its lease. */
  readonly healthy: boolean;
  openRealm(realm: string, retention: HistoryRetention): RealmBackplane;
  /** Leaves the cluster: the lease is given up and what this node held is cleaned up at once. */
  close(): Promise<void>;
}

/** The cluster already has this procedure under a policy the new registration cannot join. */
export class RegistrationConflict extends Error {
  constructor(readonly registeredPolicy: string) {
    super(`registered in the cluster with invocation policy '${registeredPolicy}'`);
  }
}

/** The key of a registration in the cluster registry. */
export function registrationKeyOf(match: MatchPolicy, uri: string): string {
  return `${match}|${uri}`;
}
