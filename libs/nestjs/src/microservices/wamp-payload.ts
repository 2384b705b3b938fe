import { WampResult } from '@fox-wamp/core';

/**
 * The one value a `@MessagePattern`/`@EventPattern` handler receives as `data` (and a `ClientProxy` caller
 * as its result), from WAMP's args and kwargs: kwargs alone → kwargs; one arg alone → that arg; several
 * args alone → the args array; nothing → undefined; both → `{ args, kwargs }`.
 */
export function valueOf(args: unknown[], kwargs: Record<string, unknown>): unknown {
  const hasKwargs = Object.keys(kwargs).length > 0;
  if (args.length === 0) return hasKwargs ? kwargs : undefined;
  if (hasKwargs) return { args, kwargs };
  return args.length === 1 ? args[0] : args;
}

/** The other way: a `WampResult` as is; `undefined` as nothing; any other value as the one positional arg. */
export function toWampResult(value: unknown): WampResult | undefined {
  if (value instanceof WampResult || value === undefined) return value;
  return new WampResult([value]);
}
