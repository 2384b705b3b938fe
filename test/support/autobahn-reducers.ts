import type { AutobahnRegistration, AutobahnSession, Dict, InvocationDetails } from './autobahn-client.js';
import { tapWireDetails, WampCode } from './autobahn-wire-details.js';

/** What a reducer is handed for one event: the topic's retained value and the event itself. */
export interface ReducerInput {
  /** The topic the event was published on. */
  readonly topic: string;
  /** INVOCATION.Details.retained: the topic's current value, `null` when it has none. */
  readonly retained: unknown;
  readonly args: unknown[];
  readonly kwargs: Dict;
}

/** A reducer as a test writes it: the new value (or a promise of it, or an `autobahn.Result`, or a throw). */
export type Reduce = (input: ReducerInput) => unknown;

/**
 * Registers `reduce` as a reducer of the topics `pattern` matches (`{ reducer: true }` plus `options`), with
 * the retained value it is handed read from the INVOCATION's details.
 */
export function registerReducer(session: AutobahnSession, pattern: string, reduce: Reduce, options: Dict = {}): PromiseLike<AutobahnRegistration> {
  const tap = tapWireDetails(session, WampCode.INVOCATION);
  return session.register(
    pattern,
    (args, kwargs, details: InvocationDetails) => {
      const raw = tap.details ?? {};
      return reduce({ topic: details.procedure, retained: raw.retained, args, kwargs });
    },
    { reducer: true, ...options },
  );
}
