import type { AutobahnSession, Dict } from './autobahn-client.js';

/** WAMP message codes whose details a test reads off the wire. */
export const WampCode = { EVENT: 36, INVOCATION: 68 } as const;

interface SessionInternals {
  _MESSAGE_MAP: Record<number, (message: unknown[]) => void>;
}

/** Per session and message code: the details of the message being dispatched right now. */
const taps = new WeakMap<AutobahnSession, Map<number, { details: Dict | undefined }>>();

/**
 * autobahn builds a handler's `details` argument from a fixed list of fields and drops the rest (`event_id` of an
 * EVENT, `retained` of a reducer's INVOCATION, ...). Its dispatcher looks handlers up in `_MESSAGE_MAP` per message
 * and calls them synchronously, so wrapping the entry for `code` lets a handler read the raw details of the
 * message it is being called for: `tap.details` while the handler runs, undefined otherwise.
 */
export function tapWireDetails(session: AutobahnSession, code: number): { readonly details: Dict | undefined } {
  let byCode = taps.get(session);
  if (byCode === undefined) {
    byCode = new Map();
    taps.set(session, byCode);
  }
  const existing = byCode.get(code);
  if (existing !== undefined) return existing;
  const internals = session as unknown as SessionInternals;
  const original = internals._MESSAGE_MAP[code]!;
  const current: { details: Dict | undefined } = { details: undefined };
  internals._MESSAGE_MAP[code] = (message) => {
    // EVENT and INVOCATION both carry their details at index 3.
    current.details = message[3] as Dict;
    try {
      original(message);
    } finally {
      current.details = undefined;
    }
  };
  byCode.set(code, current);
  return current;
}
