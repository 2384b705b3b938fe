import { Inbox, type AutobahnSession, type AutobahnSubscription, type Dict } from './autobahn-client.js';

/** An EVENT as an autobahn subscriber received it, with the wire details autobahn does not pass on. */
export interface ReceivedEvent {
  /** The concrete topic (EVENT details for pattern subscriptions, else the subscribed URI). */
  readonly topic: string;
  readonly args: unknown[];
  readonly kwargs: Dict;
  /** EVENT.Details.retained: the event is a stored entry replayed to a new subscriber. */
  readonly retained: boolean;
  /** EVENT.Details.event_id: the realm's event sequence number. */
  readonly eventId: number;
  /** EVENT.Details as they came over the wire. */
  readonly details: Dict;
}

const EVENT = 36;

interface SessionInternals {
  _MESSAGE_MAP: Record<number, (message: unknown[]) => void>;
}

/** The details of the EVENT being dispatched right now, per session (handlers run inside the dispatch). */
const dispatching = new WeakMap<AutobahnSession, { details: Dict | undefined }>();

/**
 * autobahn builds its handler's `details` argument from a fixed list of fields and drops the rest, among
 * them `event_id`. Its dispatcher looks handlers up in `_MESSAGE_MAP` per message, so wrapping the EVENT
 * entry lets the handler read the raw details of the message it is being called for.
 */
function tapEventDetails(session: AutobahnSession): { details: Dict | undefined } {
  let tap = dispatching.get(session);
  if (tap !== undefined) return tap;
  const internals = session as unknown as SessionInternals;
  const original = internals._MESSAGE_MAP[EVENT]!;
  const current: { details: Dict | undefined } = { details: undefined };
  internals._MESSAGE_MAP[EVENT] = (message) => {
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

/** Subscribes and collects every EVENT, with its wire details, in arrival order. */
export async function subscribeEvents(
  session: AutobahnSession,
  topic: string,
  options: Dict = {},
): Promise<{ subscription: AutobahnSubscription; events: Inbox<ReceivedEvent> }> {
  const tap = tapEventDetails(session);
  const events = new Inbox<ReceivedEvent>();
  const subscription = await session.subscribe(
    topic,
    (args, kwargs, event) => {
      const details = tap.details ?? {};
      events.push({ topic: event.topic, args, kwargs, retained: event.retained, eventId: details.event_id as number, details });
    },
    options,
  );
  return { subscription, events };
}

/**
 * Resolves once the router has processed everything `session` sent before: an acknowledged publish on a
 * topic nobody uses. The router handles a session's messages in order, and store operations one at a time,
 * so anything this session queued earlier (a parked `watch` publish, a subscribe's replay) has been handled.
 */
export async function roundTrip(session: AutobahnSession): Promise<void> {
  await session.publish('test.round_trip', [], {}, { acknowledge: true });
}
