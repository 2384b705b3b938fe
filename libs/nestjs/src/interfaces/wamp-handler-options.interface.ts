import type { InvokePolicy, MatchPolicy } from '@fox-wamp/core';

/** Options of `@WampProcedure(uri, options)`. */
export interface WampProcedureOptions {
  /** How many invocations this handler serves at once; further calls wait in FIFO order. Unlimited if absent. */
  readonly concurrency?: number;
  /** `exact` (default), `prefix` or `wildcard`; fox-wamp's in-URI `*` and `#` work under `exact`. */
  readonly match?: MatchPolicy;
  /** Shared-registration policy (default `single`). */
  readonly invoke?: InvokePolicy;
  /**
   * Serve as a reducer: `uri` is a topic pattern, and every event published on a matching topic comes to
   * this handler with the topic's retained value as `@Details('retained')` (`null` when it has none); the
   * return value becomes the topic's new retained value and is published to its subscribers.
   */
  readonly reducer?: boolean;
  /** Realm to register in (default: the module's default realm). */
  readonly realm?: string;
}

/** Options of `@WampSubscribe(topic, options)`. */
export interface WampSubscribeOptions {
  /** `exact` (default), `prefix` or `wildcard`; fox-wamp's in-URI `*` and `#` work under `exact`. */
  readonly match?: MatchPolicy;
  /**
   * Receive the realm's retained entries that match the topic first (`@Details('retained')` is then true),
   * then the live events. The handler gets a session of its own, so other handlers of the same topic do
   * not see the replay.
   */
  readonly retained?: boolean;
  /**
   * Server-side filter on each event's value (its kwargs, or its one arg): subset equality
   * (`{ type: 'post' }`) or query operators (`{ n: { $gt: 5 } }`). Events that do not match never arrive.
   */
  readonly filter?: Record<string, unknown>;
  /** Realm to subscribe in (default: the module's default realm). */
  readonly realm?: string;
}

/** What the decorators store on a method; read by the explorer at startup. */
export interface WampProcedureMetadata {
  readonly uri: string;
  readonly options: WampProcedureOptions;
}

export interface WampSubscribeMetadata {
  readonly topic: string;
  readonly options: WampSubscribeOptions;
}
