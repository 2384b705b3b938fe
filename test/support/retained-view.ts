import type { AutobahnSession, Dict } from './autobahn-client.js';
import { roundTrip, subscribeEvents, type ReceivedEvent } from './autobahn-events.js';

/**
 * An event's value as the router's `when` and `filter` see it: kwargs when present, else its one arg, else
 * its args; undefined for an empty event (a deleted retained value).
 */
export function eventValue(event: Pick<ReceivedEvent, 'args' | 'kwargs'>): unknown {
  if (Object.keys(event.kwargs).length > 0) return event.kwargs;
  if (event.args.length === 0) return undefined;
  return event.args.length === 1 ? event.args[0] : event.args;
}

/**
 * The retained entries matching `topic` as a new subscriber sees them (`get_retained: true`), by topic. The
 * replay is complete once an acknowledged publish of the same session has come back: the router sends the
 * replay before it handles anything the session sent later.
 */
export async function retainedView(session: AutobahnSession, topic: string, options: Dict = {}): Promise<Map<string, unknown>> {
  const { subscription, events } = await subscribeEvents(session, topic, { get_retained: true, ...options });
  await roundTrip(session);
  await subscription.unsubscribe();
  return new Map(events.items.filter((event) => event.retained).map((event) => [event.topic, eventValue(event)]));
}
