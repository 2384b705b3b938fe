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
}

export interface RegisterOptions {
  readonly match?: MatchPolicy;
  readonly invoke?: InvokePolicy;
  /** How many invocations this callee serves at once; more calls wait in FIFO order. Unlimited if absent. */
  readonly concurrency?: number;
}

export interface CallOptions {
  /** The caller accepts progressive results. */
  readonly receiveProgress?: boolean;
  /** Caller identification. */
  readonly discloseMe?: boolean;
}

export interface YieldOptions {
  readonly progress?: boolean;
}
