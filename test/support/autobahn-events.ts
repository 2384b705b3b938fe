import { Inbox, type AutobahnSession, type AutobahnSubscription, type Dict } from './autobahn-client.js';
import { tapWireDetails, WampCode } from './autobahn-wire-details.js';

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

/** Subscribes and collects every EVENT, with its wire details, in arrival order. */
export async function subscribeEvents(
  session: AutobahnSession,
  topic: string,
  options: Dict = {},
): Promise<{ subscription: AutobahnSubscription; events: Inbox<ReceivedEvent> }> {
  const tap = tapWireDetails(session, WampCode.EVENT);
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
