import { describe, expect, it } from 'vitest';
import { isValidUri, parseWampPattern, TopicIndex, uriUseFor, type MatchPolicy } from '@fox-wamp/core';
import { seededRandom } from '../support/seeded-random.js';

/** A stored pattern: the WAMP URI and its match policy; its label is what the index stores as value. */
interface Entry {
  readonly uri: string;
  readonly match: MatchPolicy;
}

const label = ({ uri, match }: Entry): string => `${match}:${uri}`;

/** An index holding each entry under `parseWampPattern(uri, match)`, with the entry's label as its value. */
function indexOf(entries: readonly Entry[]): TopicIndex<string> {
  const index = new TopicIndex<string>();
  for (const entry of entries) index.add(parseWampPattern(entry.uri, entry.match), label(entry));
  return index;
}

/** The labels matching a concrete topic, sorted; the visit count must equal the distinct count (no duplicates). */
function matches(index: TopicIndex<string>, topic: string): string[] {
  const seen: string[] = [];
  index.match(topic.split('.'), (value) => seen.push(value));
  expect(new Set(seen).size, `a value was visited twice for ${topic}`).toBe(seen.length);
  return seen.sort();
}

/** Asserts, for one pattern alone in an index, which topics it matches and which it does not. */
function expectPattern(entry: Entry, matching: readonly string[], notMatching: readonly string[]): void {
  expect(isValidUri(entry.uri, uriUseFor(entry.match)), `${label(entry)} must be a valid pattern URI`).toBe(true);
  const index = indexOf([entry]);
  for (const topic of matching) expect(matches(index, topic), `${label(entry)} should match ${topic}`).toEqual([label(entry)]);
  for (const topic of notMatching) expect(matches(index, topic), `${label(entry)} should not match ${topic}`).toEqual([]);
}

describe('TopicIndex: each kind of pattern', () => {
  it('an exact topic matches only itself', () => {
    expectPattern({ uri: 'a.b.c', match: 'exact' }, ['a.b.c'], ['a.b', 'a.b.c.d', 'a.b.cc', 'x.b.c', 'a.x.c']);
  });

  it('a prefix is a string prefix: whole components plus a partial last one', () => {
    expectPattern({ uri: 'a.b', match: 'prefix' }, ['a.b', 'a.b.c', 'a.bc', 'a.bc.d', 'a.b.c.d.e'], ['a', 'a.c', 'x.b', 'ab', 'b.a.b']);
    expectPattern({ uri: 'com.app.em', match: 'prefix' }, ['com.app.emergency.1', 'com.app.em'], ['com.app.e', 'com.app.alert']);
  });

  it('a prefix ending in a dot matches only what lies below that component', () => {
    expectPattern({ uri: 'a.b.', match: 'prefix' }, ['a.b.c', 'a.b.c.d', 'a.b.x'], ['a.b', 'a.bc', 'a.bc.d', 'a']);
  });

  it('a one-component prefix matches every topic whose first component starts with it', () => {
    expectPattern({ uri: 'ab', match: 'prefix' }, ['ab', 'abc', 'ab.c', 'abc.d.e'], ['a', 'a.b', 'b.ab']);
  });

  it('a wildcard URI matches any one component at each empty position, and nothing longer or shorter', () => {
    expectPattern({ uri: 'a..c', match: 'wildcard' }, ['a.x.c', 'a.c.c', 'a.anything.c'], ['a.c', 'a.x.y.c', 'a.x.c.d', 'b.x.c']);
    expectPattern({ uri: '.b', match: 'wildcard' }, ['x.b', 'b.b'], ['b', 'x.b.c', 'x.c']);
    expectPattern({ uri: 'a.', match: 'wildcard' }, ['a.x', 'a.a'], ['a', 'a.x.y', 'b.x']);
    expectPattern({ uri: 'a...d', match: 'wildcard' }, ['a.x.y.d'], ['a.x.d', 'a.x.y.z.d']);
  });

  it("fox-wamp's in-URI * is one component, under exact and wildcard match alike", () => {
    for (const match of ['exact', 'wildcard'] as const) {
      expectPattern({ uri: 'a.*.c', match }, ['a.x.c', 'a.c.c'], ['a.c', 'a.x.y.c', 'a.x.c.d']);
      expectPattern({ uri: '*', match }, ['x', 'a'], ['x.y']);
    }
  });

  it("fox-wamp's trailing # matches the parent itself and everything below it", () => {
    expectPattern({ uri: 'a.#', match: 'exact' }, ['a', 'a.b', 'a.b.c.d'], ['ab', 'b', 'b.a']);
    expectPattern({ uri: 'a.b.#', match: 'exact' }, ['a.b', 'a.b.c'], ['a', 'a.bc', 'a.c.b']);
    expectPattern({ uri: '#', match: 'exact' }, ['a', 'a.b.c', 'x'], []);
    expectPattern({ uri: 'a.*.#', match: 'exact' }, ['a.x', 'a.x.y.z'], ['a', 'b.x']);
    expectPattern({ uri: 'a..#', match: 'wildcard' }, ['a.x', 'a.x.y'], ['a']);
  });
});

describe('TopicIndex: MQTT rule for topics starting with $', () => {
  const topic = '$SYS.broker.load';

  it('a wildcard at the first level does not match a $ topic', () => {
    expectPattern({ uri: '*.broker.load', match: 'exact' }, ['x.broker.load'], [topic]);
    expectPattern({ uri: '.broker.load', match: 'wildcard' }, ['x.broker.load'], [topic]);
    expectPattern({ uri: '*.#', match: 'exact' }, ['x.y'], [topic]);
  });

  it('the root # does not match a $ topic', () => {
    expectPattern({ uri: '#', match: 'exact' }, ['SYS.broker.load'], [topic, '$x']);
  });

  it('patterns that name the $ level literally do match', () => {
    expectPattern({ uri: '$SYS.#', match: 'exact' }, [topic, '$SYS'], []);
    expectPattern({ uri: '$SYS.*.load', match: 'exact' }, [topic], []);
    expectPattern({ uri: '$SYS..load', match: 'wildcard' }, [topic], []);
    expectPattern({ uri: topic, match: 'exact' }, [topic], []);
    expectPattern({ uri: '$SYS.broker', match: 'prefix' }, [topic], []);
  });

  it('a prefix that spells out the $ matches, even when it ends inside the first level', () => {
    expectPattern({ uri: '$SY', match: 'prefix' }, [topic, '$SYS'], ['SYS.broker.load']);
  });

  it('wildcards below the first level still match $ in deeper levels', () => {
    expectPattern({ uri: 'a.*', match: 'exact' }, ['a.$b'], []);
    expectPattern({ uri: 'a.#', match: 'exact' }, ['a.$b.c'], []);
  });
});

describe('TopicIndex: many patterns, delete and pruning', () => {
  const entries: Entry[] = [
    { uri: 'a.b.c', match: 'exact' },
    { uri: 'a.b', match: 'exact' },
    { uri: 'a.b.c', match: 'prefix' },
    { uri: 'a.b', match: 'prefix' },
    { uri: 'a.', match: 'prefix' },
    { uri: 'a.b.', match: 'prefix' },
    { uri: 'a..c', match: 'wildcard' },
    { uri: 'a.*.c', match: 'exact' },
    { uri: 'a.b.#', match: 'exact' },
    { uri: 'a.#', match: 'exact' },
    { uri: '#', match: 'exact' },
    { uri: '.b.c', match: 'wildcard' },
    { uri: 'x.y', match: 'exact' },
  ];

  it('finds every pattern sharing a prefix of the topic, each once', () => {
    const index = indexOf(entries);
    expect(index.size).toBe(entries.length);
    expect(matches(index, 'a.b.c')).toEqual(
      [
        'exact:a.b.c',
        'prefix:a.b.c',
        'prefix:a.b',
        'prefix:a.',
        'prefix:a.b.',
        'wildcard:a..c',
        'exact:a.*.c',
        'exact:a.b.#',
        'exact:a.#',
        'exact:#',
        'wildcard:.b.c',
      ].sort(),
    );
    expect(matches(index, 'a.b')).toEqual(['exact:#', 'exact:a.#', 'exact:a.b', 'exact:a.b.#', 'prefix:a.', 'prefix:a.b'].sort());
    expect(matches(index, 'x.y')).toEqual(['exact:#', 'exact:x.y']);
    expect(matches(index, 'q')).toEqual(['exact:#']);
  });

  it('adding the same value under the same pattern twice stores it once', () => {
    const index = new TopicIndex<string>();
    const pattern = parseWampPattern('a.*.c', 'exact');
    index.add(pattern, 'v');
    index.add(parseWampPattern('a.*.c', 'exact'), 'v');
    expect(index.size).toBe(1);
    expect(matches(index, 'a.b.c')).toEqual(['v']);
    expect(index.delete(pattern, 'v')).toBe(true);
    expect(index.size).toBe(0);
    expect(matches(index, 'a.b.c')).toEqual([]);
  });

  it('one pattern may hold several values; deleting one keeps the others', () => {
    const index = new TopicIndex<string>();
    index.add(parseWampPattern('a.b', 'prefix'), 'one');
    index.add(parseWampPattern('a.b', 'prefix'), 'two');
    expect(index.delete(parseWampPattern('a.b', 'prefix'), 'one')).toBe(true);
    expect(matches(index, 'a.bc')).toEqual(['two']);
    expect(index.size).toBe(1);
  });

  it('delete reports false for a value or pattern that is not stored, and changes nothing', () => {
    const index = indexOf(entries);
    expect(index.delete(parseWampPattern('a.b.c', 'exact'), 'someone-else')).toBe(false);
    expect(index.delete(parseWampPattern('never.stored', 'exact'), 'exact:never.stored')).toBe(false);
    // Same path and value label, other kind of pattern: `a.b` exact is stored, `a.b` as a `#` parent is not.
    expect(index.delete(parseWampPattern('a.b.#', 'exact'), 'exact:a.b')).toBe(false);
    expect(index.delete(parseWampPattern('a.bx', 'prefix'), 'prefix:a.b')).toBe(false);
    expect(index.size).toBe(entries.length);
  });

  it('after deleting everything, size is 0, nothing matches and every node is pruned', () => {
    const index = indexOf(entries);
    // Delete in an order unlike the insertion order, so that pruning happens both above and below live nodes.
    for (const entry of [...entries].reverse().sort((a, b) => a.uri.length - b.uri.length)) {
      expect(index.delete(parseWampPattern(entry.uri, entry.match), label(entry)), label(entry)).toBe(true);
    }
    expect(index.size).toBe(0);
    for (const topic of ['a.b.c', 'a.b', 'a', 'x.y', 'q.b.c']) expect(matches(index, topic)).toEqual([]);
    // Pruning is otherwise invisible: look at the private root to check that no empty branch was left behind.
    const root = (index as unknown as { root: { isEmpty(): boolean } }).root;
    expect(root.isEmpty()).toBe(true);
  });

  it('deleting a deep pattern keeps a shallower one on the same path working, and vice versa', () => {
    const index = indexOf([
      { uri: 'a.b.c.d', match: 'exact' },
      { uri: 'a.b', match: 'exact' },
    ]);
    expect(index.delete(parseWampPattern('a.b.c.d', 'exact'), 'exact:a.b.c.d')).toBe(true);
    expect(matches(index, 'a.b')).toEqual(['exact:a.b']);
    index.add(parseWampPattern('a.b.c.d', 'exact'), 'exact:a.b.c.d');
    expect(index.delete(parseWampPattern('a.b', 'exact'), 'exact:a.b')).toBe(true);
    expect(matches(index, 'a.b.c.d')).toEqual(['exact:a.b.c.d']);
    expect(matches(index, 'a.b')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property-style check: for random patterns and topics over a tiny alphabet (so that overlaps are frequent), the
// index finds exactly what a brute-force matcher finds. The matcher works on the URI strings, independently of the
// index's parsed patterns, and states the semantics in a few lines.
// ---------------------------------------------------------------------------------------------------------------

function bruteForceMatches({ uri, match }: Entry, topic: string): boolean {
  const levels = topic.split('.');
  if (match === 'prefix') return topic.startsWith(uri);
  const parts = uri.split('.');
  const rest = parts[parts.length - 1] === '#';
  if (rest) parts.pop();
  const isWildcard = (part: string) => part === '*' || (part === '' && match === 'wildcard');
  // MQTT: a wildcard in the first position (including a lone `#`) never matches a topic starting with `$`.
  const firstIsWildcard = parts.length === 0 ? rest : isWildcard(parts[0]!);
  if (levels[0]!.startsWith('$') && firstIsWildcard) return false;
  if (rest ? levels.length < parts.length : levels.length !== parts.length) return false;
  return parts.every((part, i) => isWildcard(part) || part === levels[i]);
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomEntry(random: () => number): Entry {
  for (;;) {
    const match = pick(random, ['exact', 'prefix', 'wildcard'] as const);
    // A prefix may consist of its partial component alone (a first-level prefix).
    const count = (match === 'prefix' ? 0 : 1) + Math.floor(random() * 3);
    const parts: string[] = [];
    for (let i = 0; i < count; i++) {
      parts.push(match === 'prefix' ? pick(random, ['a', 'b', 'ab', '$a']) : pick(random, ['a', 'b', '$a', '*', '', '']));
    }
    if (match === 'prefix') parts.push(pick(random, ['', 'a', 'b', '$', '$a']));
    else if (random() < 0.3) parts.push('#');
    const uri = parts.join('.');
    if (isValidUri(uri, uriUseFor(match))) return { uri, match };
  }
}

function randomTopic(random: () => number): string {
  const count = 1 + Math.floor(random() * 4);
  return Array.from({ length: count }, () => pick(random, ['a', 'b', 'ab', '$a', 'ba'])).join('.');
}

describe('TopicIndex agrees with a brute-force matcher', () => {
  it.each([1, 2, 3, 42, 2024])('random patterns and topics, seed %i', (seed) => {
    const random = seededRandom(seed);
    const entries = new Map<string, Entry>();
    while (entries.size < 40) {
      const entry = randomEntry(random);
      entries.set(label(entry), entry);
    }
    const index = indexOf([...entries.values()]);
    expect(index.size).toBe(entries.size);

    const check = () => {
      for (let i = 0; i < 200; i++) {
        const topic = randomTopic(random);
        const expected = [...entries.values()].filter((entry) => bruteForceMatches(entry, topic)).map(label).sort();
        expect(matches(index, topic), `topic ${topic}, seed ${seed}`).toEqual(expected);
      }
    };
    check();
    // Delete half of the patterns and check again: deletion and pruning must not disturb the others.
    for (const [key, entry] of [...entries].filter((_, i) => i % 2 === 0)) {
      expect(index.delete(parseWampPattern(entry.uri, entry.match), key)).toBe(true);
      entries.delete(key);
    }
    expect(index.size).toBe(entries.size);
    check();
  });
});
