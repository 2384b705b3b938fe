/** What a WAMP handler serves: a call (`@WampProcedure`) or an event (`@WampSubscribe`). */
export type WampMessageKind = 'call' | 'event';

/**
 * One call or event as the Nest pipeline sees it: the first (and only) argument of the execution context
 * of type `wamp`, so `context.switchToRpc().getData()` and `getWampContext(context)` both return it.
 */
export class WampContext {
  constructor(
    readonly kind: WampMessageKind,
    /** The realm the message arrived in. */
    readonly realm: string,
    /** The concrete procedure or topic (for a pattern registration it differs from the registered URI). */
    readonly uri: string,
    readonly args: unknown[],
    readonly kwargs: Record<string, unknown>,
    /** INVOCATION or EVENT details as the router sent them (`caller`, `publisher`, `topic`, ...). */
    readonly details: Record<string, unknown>,
    private readonly sendProgress?: (result: unknown) => void,
  ) {}

  /** Sends a progressive result to the caller, if it asked for them (calls only). */
  progress(result: unknown): void {
    if (this.sendProgress === undefined) throw new Error('progressive results exist for calls only');
    this.sendProgress(result);
  }
}
