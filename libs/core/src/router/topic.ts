/**
 * Topics across protocols. Internally a concrete topic is an array of levels: WAMP `a.b.c` and MQTT `a/b/c`
 * are both `['a', 'b', 'c']` and reach each other's subscribers. A level may hold characters that the other
 * protocol uses as a separator (an MQTT level may contain `.`, a loose WAMP component may contain `/`), and
 * MQTT allows empty levels, so joining the levels with either separator is not a safe key.
 *
 * The topic key (retained store, history, watchers) joins the levels with `.` after escaping `\` and `.`
 * inside each level, which makes it injective; for every WAMP URI without a backslash the key is the URI
 * itself, so stores stay readable and WAMP pays nothing.
 */
export type TopicLevels = readonly string[];

const NEEDS_ESCAPE = /[\\.]/;

export function topicKey(levels: TopicLevels): string {
  let plain = true;
  for (const level of levels) {
    if (NEEDS_ESCAPE.test(level)) {
      plain = false;
      break;
    }
  }
  if (plain) return levels.join('.');
  return levels.map((level) => level.replace(/[\\.]/g, (c) => `\\${c}`)).join('.');
}

/** The key of a WAMP URI (its components are its levels). */
export function topicKeyOfUri(uri: string): string {
  return uri.includes('\\') ? topicKey(uri.split('.')) : uri;
}

/** The levels of a topic key (the inverse of `topicKey`). */
export function levelsOfKey(key: string): string[] {
  if (!key.includes('\\')) return key.split('.');
  const levels: string[] = [];
  let level = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    if (c === '\\' && i + 1 < key.length) {
      level += key[++i]!;
    } else if (c === '.') {
      levels.push(level);
      level = '';
    } else {
      level += c;
    }
  }
  levels.push(level);
  return levels;
}

/** How a WAMP client sees a topic: its levels joined with `.` (an MQTT level holding `.` cannot be told apart). */
export function wampUriOf(levels: TopicLevels): string {
  return levels.join('.');
}

/** How an MQTT client sees a topic: its levels joined with `/`. */
export function mqttTopicOf(levels: TopicLevels): string {
  return levels.join('/');
}
