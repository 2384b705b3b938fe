import type { AutobahnRegistration, AutobahnSession, Dict, InvocationDetails } from './autobahn-client.js';

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

const INVOCATION = 68;

interface SessionInternals {
  _MESSAGE_MAP: Record<number, (message: unknown[]) => void>;
}

/** The details of the INVOCATION being dispatched right now, per session (endpoints run inside the dispatch). */
const dispatching = new WeakMap<AutobahnSession, { details: Dict | undefined }>();

/**
 * autobahn builds an endpoint's `details` from a fixed list of fields and drops `retained`, the value a
 * reducer needs (wampy and the router's in-process clients pass it on). autobahn calls the endpoint
 * synchronously inside its INVOCATION handler, so wrapping that handler lets the endpoint read the raw
 * details of the message it is called for.
 */
function tapInvocationDetails(session: AutobahnSession): { details: Dict | undefined } {
  let tap = dispatching.get(session);
  if (tap !== undefined) return tap;
  const internals = session as unknown as SessionInternals;
  const original = internals._MESSAGE_MAP[INVOCATION]!;
  const current: { details: Dict | undefined } = { details: undefined };
  internals._MESSAGE_MAP[INVOCATION] = (message) => {
    current.details = message[3] as Dict;
    try {
      original(message);
    } finally {
      current.details = undefined;
    }
  };
  tap = current;
  dispatching.set(session, tap);
  return tap;
}

/**
 * Registers `reduce` as a reducer of the topics `pattern` matches (`{ reducer: true }` plus `options`), with
 * the retained value it is handed read from the INVOCATION's details.
 */
export function registerReducer(session: AutobahnSession, pattern: string, reduce: Reduce, options: Dict = {}): PromiseLike<AutobahnRegistration> {
  const tap = tapInvocationDetails(session);
  return session.register(
    pattern,
    (args, kwargs, details: InvocationDetails) => {
      const raw = tap.details ?? {};
      return reduce({ topic: details.procedure, retained: raw.retained, args, kwargs });
    },
    { reducer: true, ...options },
  );
}
