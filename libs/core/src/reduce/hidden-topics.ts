import type { TopicPattern } from '../router/topic-pattern.js';
import { topicKey, type TopicLevels } from '../router/topic.js';

/**
 * Router-internal retained entries (an aggregate row's bookkeeping, an information schema defined at
 * runtime) live in the realm's retained store, so a durable store keeps them with the rows, under topics
 * whose first level is `$fox`:
 *
 *   $fox.aggregate.<table>.<key…>   { row, state } of one aggregate row (`RetainedRowStore`)
 *   $fox.schema                     the information schema defined with `fox.schema.define`
 *
 * Nobody ever sees them. Wildcards at the first level never match a topic starting with `$` (MQTT's rule,
 * which the topic index and the retained store follow for WAMP patterns too), so `#`, `*.…` and the like
 * skip them, in live deliveries and in `retained` replays; the realm refuses any session that names them
 * (publish, subscribe, register, retained reads), and the pipeline writes them without delivering them or
 * keeping them in the event history (`PublicationPipeline.storeInternal`).
 */
export const HIDDEN_LEVEL = '$fox';

/** The topic key of a router-internal entry below `$fox`. */
export function hiddenKey(...levels: TopicLevels): string {
  return topicKey([HIDDEN_LEVEL, ...levels]);
}

/** Where one aggregate row's bookkeeping is kept. */
export function aggregateStateKey(table: string, key: TopicLevels): string {
  return hiddenKey('aggregate', table, ...key);
}

/** Whether a subscription (or retained look-up) pattern could match a router-internal entry. */
export function reachesHiddenTopics(pattern: TopicPattern): boolean {
  if (pattern.kind === 'prefix') {
    // A first-level prefix spells out its first characters: `$`, `$f`, … `$fox` reach `$fox`.
    return pattern.levels.length === 0 ? HIDDEN_LEVEL.startsWith(pattern.partial) : pattern.levels[0] === HIDDEN_LEVEL;
  }
  // A wildcard first level (or a root `#`) skips `$` topics; only the literal level reaches them.
  return pattern.levels.length > 0 && pattern.levels[0] === HIDDEN_LEVEL;
}
