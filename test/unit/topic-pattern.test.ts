import { describe, expect, it } from 'vitest';
import {
  comparePrecedence,
  isConcrete,
  isValidUri,
  parseWampPattern,
  TopicIndex,
  uriUseFor,
  type MatchPolicy,
  type TopicPattern,
  type UriUse,
} from '@fox-wamp/core';

// ---------------------------------------------------------------------------------------------------------------
// The WAMP spec, "Pattern-based Registrations" (advanced profile): the registrations and call URIs of its example,
// with the registration the dealer must pick for each call.
// ---------------------------------------------------------------------------------------------------------------

const SPEC_REGISTRATIONS: ReadonlyArray<{ readonly n: number; readonly uri: string; readonly match: MatchPolicy }> = [
  { n: 1, uri: 'a1.b2.c3.d4.e55', match: 'exact' },
  { n: 2, uri: 'a1.b2.c3', match: 'prefix' },
  { n: 3, uri: 'a1.b2.c3.d4', match: 'prefix' },
  { n: 4, uri: 'a1.b2..d4.e5', match: 'wildcard' },
  { n: 5, uri: 'a1.b2.c33..e5', match: 'wildcard' },
  { n: 6, uri: 'a1.b2..d4.e5..g7', match: 'wildcard' },
  { n: 7, uri: 'a1.b2..d4..f6.g7', match: 'wildcard' },
];

const SPEC_CALLS: ReadonlyArray<{ readonly uri: string; readonly candidates: number[]; readonly winner: number | undefined; readonly why: string }> = [
  { uri: 'a1.b2.c3.d4.e55', candidates: [1, 2, 3], winner: 1, why: 'exact match' },
  { uri: 'a1.b2.c3.d98.e74', candidates: [2], winner: 2, why: 'single prefix match' },
  { uri: 'a1.b2.c3.d4.e325', candidates: [2, 3], winner: 3, why: 'the longer of two prefixes' },
  { uri: 'a1.b2.c55.d4.e5', candidates: [4], winner: 4, why: 'single wildcard match' },
  { uri: 'a1.b2.c33.d4.e5', candidates: [4, 5], winner: 5, why: 'longer first portion (a1.b2.c33)' },
  { uri: 'a1.b2.c88.d4.e5.f6.g7', candidates: [6, 7], winner: 6, why: 'equal first portions, longer second portion (d4.e5)' },
  { uri: 'a2.b2.c2.d2.e2', candidates: [], winner: undefined, why: 'no match: wamp.error.no_such_procedure' },
];

const patternOf = (n: number): TopicPattern => {
  const registration = SPEC_REGISTRATIONS.find((r) => r.n === n)!;
  return parseWampPattern(registration.uri, registration.match);
};

describe('comparePrecedence: the spec example of overlapping registrations', () => {
  it('every spec registration is a valid URI for its match policy', () => {
    for (const { uri, match } of SPEC_REGISTRATIONS) expect(isValidUri(uri, uriUseFor(match)), uri).toBe(true);
    for (const { uri } of SPEC_CALLS) expect(isValidUri(uri, 'concrete'), uri).toBe(true);
  });

  it.each(SPEC_CALLS)('call $uri → registration $winner ($why)', ({ candidates, winner }) => {
    // The spec's candidates for this call, ranked by precedence: the winner comes first.
    const ranked = [...candidates].sort((a, b) => comparePrecedence(patternOf(a), patternOf(b)));
    expect(ranked[0]).toBe(winner);
    // The winner beats every other candidate strictly, in both argument orders.
    for (const other of candidates.filter((n) => n !== winner)) {
      expect(comparePrecedence(patternOf(winner!), patternOf(other)), `${winner} vs ${other}`).toBeLessThan(0);
      expect(comparePrecedence(patternOf(other), patternOf(winner!)), `${other} vs ${winner}`).toBeGreaterThan(0);
    }
  });

  // The spec's candidate sets, found as the dealer finds them (one index over all the patterns). One call is left
  // out: fox-wamp prefixes are string prefixes (DESIGN.md), so `a1.b2.c3` (prefix) also matches `a1.b2.c33.d4.e5`,
  // where the spec's example treats prefixes as whole components and expects no prefix match.
  it.each(SPEC_CALLS.filter((call) => call.uri !== 'a1.b2.c33.d4.e5'))('the topic index finds the candidates $candidates for $uri', ({ uri, candidates }) => {
    const index = new TopicIndex<number>();
    for (const { n } of SPEC_REGISTRATIONS) index.add(patternOf(n), n);
    const found: number[] = [];
    index.match(uri.split('.'), (n) => found.push(n));
    expect(found.sort()).toEqual(candidates);
  });

  it('exact beats prefix beats wildcard, whatever their lengths', () => {
    const exact = parseWampPattern('a', 'exact');
    const longPrefix = parseWampPattern('a.b.c.d.e.f', 'prefix');
    const longWildcard = parseWampPattern('a.b.c.d.e.', 'wildcard');
    expect(comparePrecedence(exact, longPrefix)).toBeLessThan(0);
    expect(comparePrecedence(longPrefix, longWildcard)).toBeLessThan(0);
    expect(comparePrecedence(exact, longWildcard)).toBeLessThan(0);
    expect(comparePrecedence(longWildcard, exact)).toBeGreaterThan(0);
  });

  it('a pattern ties with itself', () => {
    for (const { n } of SPEC_REGISTRATIONS) expect(comparePrecedence(patternOf(n), patternOf(n))).toBe(0);
  });

  it("fox-wamp's * ranks as a one-level wildcard, and a trailing # below it", () => {
    const order = (a: string, b: string) => comparePrecedence(parseWampPattern(a, 'exact'), parseWampPattern(b, 'exact'));
    expect(isConcrete(parseWampPattern('a.*.c', 'exact'))).toBe(false);
    expect(order('a.b.*', 'a.*.c'), 'a literal at the first differing position wins').toBeLessThan(0);
    expect(order('a.*.c', 'a.*.#'), 'a literal beats the rest').toBeLessThan(0);
    expect(order('a.b.*', 'a.b.#'), 'one level beats the rest').toBeLessThan(0);
    expect(order('a.#', '#')).toBeLessThan(0);
    expect(order('a.*.#', 'a.*.c')).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// isValidUri: the spec's "URI Restrictions", loose and strict, for each use.
// ---------------------------------------------------------------------------------------------------------------

interface UriCase {
  readonly uri: unknown;
  readonly loose: boolean;
  readonly strict: boolean;
}

const URI_CASES: Record<UriUse, readonly UriCase[]> = {
  concrete: [
    { uri: 'com.myapp.topic1', loose: true, strict: true },
    { uri: 'com.my_app.v2', loose: true, strict: true },
    { uri: 'wamp.session.on_join', loose: true, strict: true },
    { uri: 'Com.MyApp', loose: true, strict: false },
    { uri: 'com.my-app', loose: true, strict: false },
    { uri: '$SYS.load', loose: true, strict: false },
    { uri: 'a', loose: true, strict: true },
    { uri: 'com.my app', loose: false, strict: false },
    { uri: 'com.my\tapp', loose: false, strict: false },
    { uri: 'com..topic', loose: false, strict: false },
    { uri: '.com.topic', loose: false, strict: false },
    { uri: 'com.topic.', loose: false, strict: false },
    { uri: 'com.#', loose: false, strict: false },
    { uri: 'com.a#b', loose: false, strict: false },
    { uri: 'com.*', loose: false, strict: false },
    { uri: '', loose: false, strict: false },
    { uri: 42, loose: false, strict: false },
    { uri: null, loose: false, strict: false },
  ],
  'exact-pattern': [
    { uri: 'com.myapp.topic1', loose: true, strict: true },
    { uri: 'com.*.topic', loose: true, strict: true },
    { uri: '*', loose: true, strict: true },
    { uri: 'com.#', loose: true, strict: true },
    { uri: '#', loose: true, strict: true },
    { uri: 'Com.*', loose: true, strict: false },
    { uri: 'com.#.topic', loose: false, strict: false },
    { uri: 'com..topic', loose: false, strict: false },
    { uri: 'com.topic.', loose: false, strict: false },
    { uri: 'com.to pic', loose: false, strict: false },
    { uri: '', loose: false, strict: false },
  ],
  'wildcard-pattern': [
    { uri: 'com..topic', loose: true, strict: true },
    { uri: 'a1.b2..d4..f6.g7', loose: true, strict: true },
    { uri: '.topic', loose: true, strict: true },
    { uri: 'com.', loose: true, strict: true },
    { uri: 'com.*.topic', loose: true, strict: true },
    { uri: 'com..#', loose: true, strict: true },
    { uri: 'Com..Topic', loose: true, strict: false },
    { uri: 'com.#.topic', loose: false, strict: false },
    { uri: 'com. .topic', loose: false, strict: false },
    { uri: '', loose: false, strict: false },
  ],
  'prefix-pattern': [
    { uri: 'com.myapp', loose: true, strict: true },
    { uri: 'com.myapp.', loose: true, strict: true },
    { uri: 'com.myapp.em', loose: true, strict: true },
    { uri: 'Com.MyApp.', loose: true, strict: false },
    { uri: 'com..myapp', loose: false, strict: false },
    { uri: '.com', loose: false, strict: false },
    { uri: 'com.#', loose: false, strict: false },
    { uri: 'com.my app', loose: false, strict: false },
    { uri: '', loose: false, strict: false },
  ],
};

describe('isValidUri', () => {
  for (const [use, cases] of Object.entries(URI_CASES) as [UriUse, UriCase[]][]) {
    it.each(cases)(`${use}: $uri is loose $loose, strict $strict`, ({ uri, loose, strict }) => {
      expect(isValidUri(uri, use), 'loose (default)').toBe(loose);
      expect(isValidUri(uri, use, 'loose'), 'loose').toBe(loose);
      expect(isValidUri(uri, use, 'strict'), 'strict').toBe(strict);
    });
  }

  it('uriUseFor maps each match policy to its validation', () => {
    expect(uriUseFor('exact')).toBe('exact-pattern');
    expect(uriUseFor('prefix')).toBe('prefix-pattern');
    expect(uriUseFor('wildcard')).toBe('wildcard-pattern');
  });
});
