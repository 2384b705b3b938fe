import type { TopicLevels } from '../router/topic.js';
import type { MatchPolicy, TopicPattern } from '../router/topic-pattern.js';
import { MqttProtocolError, Reason } from './reason-codes.js';

/**
 * A UTF-8 string field as the codec decoded it is unusable if it held U+0000 (MQTT-1.5.4-2) or bytes that
 * are not UTF-8, which the decoder turns into U+FFFD (MQTT-1.5.4-1). A client that meant a literal U+FFFD is
 * refused too: the codec does not tell the two apart.
 */
export function isWellFormedString(value: string): boolean {
  return !value.includes('\u0000') && !value.includes('\ufffd');
}

/** Checks a PUBLISH topic name (MQTT-3.3.2-1/2, MQTT-4.7.3-1) and splits it into levels. */
export function parseTopicName(topic: string): TopicLevels {
  if (topic.length === 0) throw new MqttProtocolError(Reason.topicNameInvalid, 'empty topic name');
  if (!isWellFormedString(topic)) throw new MqttProtocolError(Reason.malformedPacket, 'the topic name is not well-formed UTF-8');
  if (topic.includes('+') || topic.includes('#')) {
    throw new MqttProtocolError(Reason.topicNameInvalid, `wildcards are not allowed in a topic name: ${topic}`);
  }
  return topic.split('/');
}

/** A parsed SUBSCRIBE topic filter: the pattern, how WAMP shows it, and the share group of `$share/group/…`. */
export interface ParsedFilter {
  readonly filter: string;
  readonly pattern: TopicPattern;
  /** The WAMP rendering (for the meta API): `a/+/c` = wildcard `a..c`, `a/#` = exact `a.#`. */
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly shareGroup?: string;
}

/**
 * Checks a topic filter (MQTT-4.7.1-1/2/3: `#` alone as the last level, `+` alone in its level) and parses it;
 * `$share/{group}/{filter}` is a shared subscription (MQTT 5 4.8.2). Returns undefined for an invalid filter
 * (the SUBACK answers it with a failure code, the connection stays).
 */
export function parseTopicFilter(text: string): ParsedFilter | undefined {
  if (text.length === 0 || !isWellFormedString(text)) return undefined;
  let filter = text;
  let shareGroup: string | undefined;
  if (text.startsWith('$share/')) {
    const rest = text.slice('$share/'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return undefined;
    shareGroup = rest.slice(0, slash);
    if (shareGroup.includes('+') || shareGroup.includes('#')) return undefined;
    filter = rest.slice(slash + 1);
    if (filter.length === 0) return undefined;
  }
  const parts = filter.split('/');
  let rest = false;
  const levels: (string | null)[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '#') {
      if (i !== parts.length - 1) return undefined;
      rest = true;
    } else if (part === '+') {
      levels.push(null);
    } else if (part.includes('+') || part.includes('#')) {
      return undefined;
    } else {
      levels.push(part);
    }
  }
  const pattern: TopicPattern = { kind: 'levels', levels, rest };
  const wildcard = levels.includes(null);
  const rendered = levels.map((level) => level ?? (wildcard ? '' : '*'));
  if (rest) rendered.push('#');
  return { filter, pattern, uri: rendered.join('.'), match: wildcard ? 'wildcard' : 'exact', ...(shareGroup === undefined ? {} : { shareGroup }) };
}
