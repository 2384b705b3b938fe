import type { WhenCondition } from '../retained/retained-value.js';
import type { MatchPolicy } from './topic-pattern.js';

/** Invocation policies of shared registrations (spec: "Shared Registration"). */
export type InvokePolicy = 'single' | 'roundrobin' | 'random' | 'first' | 'last';

export const INVOKE_POLICIES: readonly InvokePolicy[] = ['single', 'roundrobin', 'random', 'first', 'last'];

export function isInvokePolicy(value: unknown): value is InvokePolicy {
  return typeof value === 'string' && (INVOKE_POLICIES as readonly string[]).includes(value);
}

/** Protocol-neutral subscribe options; gates translate their wire options to these. */
export interface SubscribeOptions {
  readonly match?: MatchPolicy;
  /** Receive the matching retained entries first, flagged `retained` (WAMP `get_retained`, fox-wamp `retained`). */
  readonly retained?: boolean;
  /** Server-side filter on each event's value (MongoDB-style query; see `compileFilter`). */
  readonly filter?: Record<string, unknown>;
  /** Replay the realm's history after this event ID first (0: all that is kept), then continue live. */
  readonly after?: number;
}

/** Protocol-neutral publish options. */
export interface PublishOptions {
  /** Do not deliver to the publisher itself (spec default: true). */
  readonly excludeMe?: boolean;
  /** Subscriber black- and whitelisting. */
  readonly exclude?: readonly number[];
  readonly eligible?: readonly number[];
  readonly excludeAuthid?: readonly string[];
  readonly eligibleAuthid?: readonly string[];
  readonly excludeAuthrole?: readonly string[];
  readonly eligibleAuthrole?: readonly string[];
  /** Publisher identification: add the publisher's session id, authid and authrole to EVENT details. */
  readonly discloseMe?: boolean;
  /** Keep the publication as the topic's retained entry (an empty payload deletes the entry). */
  readonly retain?: boolean;
  /** Apply (and deliver) the publication only if the retained entry meets this condition. Implies `retain`. */
  readonly when?: WhenCondition;
  /** With `when`: wait until the condition holds instead of failing. */
  readonly watch?: boolean;
  /**
   * Implies `retain`. When the publisher's session ends while the entry is still its write, the entry becomes
   * this value (`null` deletes it). Absent: no will.
   */
  readonly will?: unknown;
}

/**
 * A publication for chosen subscribers only (black/white listing). The history does not keep it: an `after`
 * replay or `wamp.subscription.get_events` would show it to sessions it was not meant for (spec: Event History).
 */
export function isAddressed(options: PublishOptions): boolean {
  return (
    options.exclude !== undefined ||
    options.eligible !== undefined ||
    options.excludeAuthid !== undefined ||
    options.eligibleAuthid !== undefined ||
    options.excludeAuthrole !== undefined ||
    options.eligibleAuthrole !== undefined
  );
}

export interface RegisterOptions {
  readonly match?: MatchPolicy;
  readonly invoke?: InvokePolicy;
  /** How many invocations this callee serves at once; more calls wait in FIFO order. Unlimited if absent. */
  readonly concurrency?: number;
  /**
   * A reducer (fox-wamp's `reducer`): the pattern is a topic pattern, and every event published on a matching
   * topic is handed to this registration with the topic's retained value (`details.retained`); what it returns
   * becomes the topic's new retained value. Never reached by calls. See `reduce/reducers.ts`.
   */
  readonly reducer?: boolean;
}

export interface CallOptions {
  /** The caller accepts progressive results. */
  readonly receiveProgress?: boolean;
  /** Caller identification. */
  readonly discloseMe?: boolean;
  /** Call timeout (ms): the dealer cancels the call when it expires (`wamp.error.timeout`). 0 or absent: none. */
  readonly timeout?: number;
  /** Progressive call invocations: more chunks of this call follow (`continueCall`), the last without it. */
  readonly progress?: boolean;
  /**
   * Router-internal, never read from a client's CALL: details added to the INVOCATION (a reducer's
   * `retained` value).
   */
  readonly invocationDetails?: Readonly<Record<string, unknown>>;
}

/** How a caller cancels a call (spec: Call Canceling). */
export type CancelMode = 'skip' | 'kill' | 'killnowait';

export interface YieldOptions {
  readonly progress?: boolean;
}
