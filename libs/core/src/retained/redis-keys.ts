import { topicKey } from '../router/topic.js';
import { patternMatches, type TopicPattern } from '../router/topic-pattern.js';

/**
 * The Redis keys of one realm (layout and field names in `redis-scripts.ts`). Every key starts with
 * `<prefix>:{<realm>}:`: the braces are Redis Cluster's hash tag, so all keys of a realm live in one slot and
 * its scripts may use several of them.
 */
export class RedisRealmKeys {
  readonly base: string;
  /** Prefix of the entry hashes: `r:<topic>`. */
  readonly entryPrefix: string;
  /** Prefix of the per-session wills sets: `w:<publisher session id>`. */
  readonly willsPrefix: string;
  readonly topics: string;
  readonly willed: string;
  readonly history: string;
  readonly eventIds: string;

  constructor(prefix: string, realm: string) {
    this.base = `${prefix}:{${realm}}:`;
    this.entryPrefix = `${this.base}r:`;
    this.willsPrefix = `${this.base}w:`;
    this.topics = `${this.base}topics`;
    this.willed = `${this.base}willed`;
    this.history = `${this.base}history`;
    this.eventIds = `${this.base}event-ids`;
  }

  entry(topic: string): string {
    return this.entryPrefix + topic;
  }

  willsOf(publisherId: number): string {
    return this.willsPrefix + String(publisherId);
  }
}

/**
 * How `find` looks a pattern up in the sorted set of topics: `exact` for a concrete topic (one hash read);
 * otherwise the topic-key prefix every match starts with (its literal leading levels), which bounds a
 * ZRANGEBYLEX scan, and the empty prefix (a scan of every topic of the realm) when the pattern starts with
 * a wildcard. The scan returns a superset that `retainedTopicMatches` then filters.
 */
export type TopicScan = { readonly exact: string } | { readonly prefix: string };

export function topicScanOf(pattern: TopicPattern): TopicScan {
  if (pattern.kind === 'prefix') {
    // `a.b.em` (prefix) matches `a.b.emergency.1`: the key prefix is the literal levels plus the partial one.
    return { prefix: topicKey([...pattern.levels, pattern.partial]) };
  }
  const literal: string[] = [];
  for (const level of pattern.levels) {
    if (level === null) break;
    literal.push(level);
  }
  if (literal.length === pattern.levels.length && !pattern.rest) return { exact: topicKey(literal) };
  // The escaping in `topicKey` is a prefix code, so every key below these levels starts with their key.
  return { prefix: literal.length === 0 ? '' : topicKey(literal) };
}

/**
 * Whether a retained entry's topic matches a subscription pattern, with the rules of `TopicTree` (the memory
 * store): `patternMatches`, plus a prefix pattern at the root skipping `$` topics as wildcards do.
 */
export function retainedTopicMatches(pattern: TopicPattern, levels: readonly string[]): boolean {
  if (pattern.kind === 'prefix' && pattern.levels.length === 0 && levels[0]!.startsWith('$')) return false;
  return patternMatches(pattern, levels);
}
