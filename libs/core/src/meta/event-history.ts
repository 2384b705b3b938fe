import type { HistoryEvent } from '../retained/realm-store.js';
import { valueOf } from '../retained/retained-value.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import { hasKwargs } from '../router/payload.js';
import type { Realm } from '../router/realm.js';
import type { Subscription } from '../router/subscription.js';
import { levelsOfKey, wampUriOf, type TopicLevels } from '../router/topic.js';
import { patternMatches } from '../router/topic-pattern.js';
import { idArgument, iso8601, type MetaService } from './meta-service.js';

/** How many history events are read from the store at a time. */
const PAGE_SIZE = 1000;

/**
 * Event History (`event_history`): `wamp.subscription.get_events(subscription, **query)` answers with the
 * events of the realm's history that the subscription matches (its pattern and its filter), as the spec's
 * event records, oldest first unless `reverse`. The history is the realm store's (`--history-size`,
 * `--history-age`); with no history kept, the answer is an empty list.
 */
export function attachEventHistory(realm: Realm, service: MetaService): void {
  service.register('wamp.subscription.get_events', async (args, kwargs) => {
    const id = idArgument(args, 0, 'subscription');
    const subscription = realm.broker.getSubscription(id);
    if (subscription === undefined) throw new RouterError(ErrorUri.noSuchSubscription, `no subscription ${id} in this realm`);
    const query = historyQuery(kwargs);
    const events = selected(await eventsOf(realm, subscription), query);
    return { args: [events.map((event) => eventRecord(subscription, event))] };
  });
}

/**
 * The topic levels of a history event. The one place that knows how the store writes a topic (a topic key,
 * see router/topic.ts): if that representation changes, only this changes.
 */
function levelsOf(event: HistoryEvent): TopicLevels {
  return levelsOfKey(event.topic);
}

/** The realm's history events the subscription matches, oldest first. */
async function eventsOf(realm: Realm, subscription: Subscription): Promise<HistoryEvent[]> {
  const matching: HistoryEvent[] = [];
  for (let after = 0; ; ) {
    const page = await realm.store.history(after, PAGE_SIZE);
    for (const event of page) {
      if (!patternMatches(subscription.pattern, levelsOf(event))) continue;
      if (subscription.filter !== undefined && !subscription.filter.test(valueOf(event.payload))) continue;
      matching.push(event);
    }
    if (page.length < PAGE_SIZE) return matching;
    after = page[page.length - 1]!.eventId;
  }
}

/** The spec's ArgumentsKw of `get_events`, checked. */
interface HistoryQuery {
  readonly reverse: boolean;
  readonly limit?: number;
  readonly topic?: string;
  /** Time bounds in ms since the epoch: `from` ≤ t, `after` < t, t < `before`, t ≤ `until`. */
  readonly fromTime?: number;
  readonly afterTime?: number;
  readonly beforeTime?: number;
  readonly untilTime?: number;
  readonly fromPublication?: number;
  readonly afterPublication?: number;
  readonly beforePublication?: number;
  readonly untilPublication?: number;
}

const QUERY_KEYS = [
  'reverse',
  'limit',
  'topic',
  'from_time',
  'after_time',
  'before_time',
  'until_time',
  'from_publication',
  'after_publication',
  'before_publication',
  'until_publication',
];

function historyQuery(kwargs: Readonly<Record<string, unknown>>): HistoryQuery {
  const unknown = Object.keys(kwargs).find((key) => !QUERY_KEYS.includes(key));
  if (unknown !== undefined) throw invalid(`unknown option ${unknown} (known: ${QUERY_KEYS.join(', ')})`);
  const { reverse = false, limit, topic } = kwargs;
  if (typeof reverse !== 'boolean') throw invalid('reverse must be true or false');
  if (limit !== undefined && !isPositiveInteger(limit)) throw invalid('limit must be a positive integer');
  if (topic !== undefined && (typeof topic !== 'string' || topic === '')) throw invalid('topic must be a URI');
  return {
    reverse,
    limit: limit as number | undefined,
    topic: topic as string | undefined,
    fromTime: timeOption(kwargs, 'from_time'),
    afterTime: timeOption(kwargs, 'after_time'),
    beforeTime: timeOption(kwargs, 'before_time'),
    untilTime: timeOption(kwargs, 'until_time'),
    fromPublication: publicationOption(kwargs, 'from_publication'),
    afterPublication: publicationOption(kwargs, 'after_publication'),
    beforePublication: publicationOption(kwargs, 'before_publication'),
    untilPublication: publicationOption(kwargs, 'until_publication'),
  };
}

/** RFC 3339 date-time: a date, `T`, a time, and a zone (`Z` or an offset). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function timeOption(kwargs: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const value = kwargs[key];
  if (value === undefined) return undefined;
  const time = typeof value === 'string' && RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw invalid(`${key} must be an RFC 3339 timestamp, e.g. 2024-05-01T12:00:00.000Z`);
  return time;
}

function publicationOption(kwargs: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const value = kwargs[key];
  if (value === undefined) return undefined;
  if (!isPositiveInteger(value)) throw invalid(`${key} must be a publication ID`);
  return value;
}

/**
 * Applies the query. The `*_publication` bounds are positions in the subscription's events (publication IDs
 * are random, not ordered), so they are found first; all conditions hold together (logical AND).
 */
function selected(events: readonly HistoryEvent[], query: HistoryQuery): HistoryEvent[] {
  let first = 0;
  let end = events.length;
  const position = (publication: number, key: string) => {
    const index = events.findIndex((event) => event.publicationId === publication);
    if (index < 0) throw invalid(`${key}: publication ${publication} is not in this subscription's history`);
    return index;
  };
  if (query.fromPublication !== undefined) first = Math.max(first, position(query.fromPublication, 'from_publication'));
  if (query.afterPublication !== undefined) first = Math.max(first, position(query.afterPublication, 'after_publication') + 1);
  if (query.untilPublication !== undefined) end = Math.min(end, position(query.untilPublication, 'until_publication') + 1);
  if (query.beforePublication !== undefined) end = Math.min(end, position(query.beforePublication, 'before_publication'));
  const result = events.slice(first, Math.max(first, end)).filter(
    (event) =>
      (query.topic === undefined || wampUriOf(levelsOf(event)) === query.topic) &&
      (query.fromTime === undefined || event.publishedAt >= query.fromTime) &&
      (query.afterTime === undefined || event.publishedAt > query.afterTime) &&
      (query.beforeTime === undefined || event.publishedAt < query.beforeTime) &&
      (query.untilTime === undefined || event.publishedAt <= query.untilTime),
  );
  if (query.reverse) result.reverse();
  return query.limit === undefined ? result : result.slice(0, query.limit);
}

/**
 * The spec's event record. `details` are what EVENT carried that the history knows: `event_id`, and `topic`
 * for a pattern subscription. The publisher is not named: the history does not keep whether it disclosed
 * itself.
 */
function eventRecord(subscription: Subscription, event: HistoryEvent): Record<string, unknown> {
  const details: Record<string, unknown> = { event_id: event.eventId };
  if (subscription.isPattern) details.topic = wampUriOf(levelsOf(event));
  const record: Record<string, unknown> = {
    timestamp: iso8601(event.publishedAt),
    subscription: subscription.id,
    publication: event.publicationId,
    details,
  };
  const { args, kwargs } = event.payload;
  if (args !== undefined && (args.length > 0 || hasKwargs(event.payload))) record.args = args;
  if (hasKwargs(event.payload)) record.kwargs = kwargs;
  return record;
}

function invalid(message: string): RouterError {
  return new RouterError(ErrorUri.invalidArgument, message);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
