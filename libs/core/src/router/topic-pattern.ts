import type { UriUse } from './uri.js';

/** WAMP matching policies (SUBSCRIBE/REGISTER `Options.match`). */
export type MatchPolicy = 'exact' | 'prefix' | 'wildcard';

export function isMatchPolicy(value: unknown): value is MatchPolicy {
  return value === 'exact' || value === 'prefix' || value === 'wildcard';
}

/** One level of a level pattern: a literal, or `null` for "any one level". */
export type PatternLevel = string | null;

/**
 * A parsed subscription or registration pattern. Topics are arrays of levels (`a.b.c` = MQTT `a/b/c`).
 * - `levels`: literal or any-one levels; `rest` = a trailing multi-level wildcard (`#`), which also matches
 *   the parent itself (MQTT `a/#` matches `a`). Exact topics are level patterns with no wildcard.
 * - `prefix`: WAMP prefix match, which is a *string* prefix: `a.b.em` matches `a.b.emergency.1`. Stored as
 *   whole levels plus the partial last component.
 */
export type TopicPattern =
  | { readonly kind: 'levels'; readonly levels: readonly PatternLevel[]; readonly rest: boolean }
  | { readonly kind: 'prefix'; readonly levels: readonly string[]; readonly partial: string };

/** Whether a level pattern is a concrete topic (no wildcard at all). */
export function isConcrete(pattern: TopicPattern): boolean {
  return pattern.kind === 'levels' && !pattern.rest && pattern.levels.every((level) => level !== null);
}

/** How a URI with this match policy must be validated. */
export function uriUseFor(match: MatchPolicy): UriUse {
  return match === 'exact' ? 'exact-pattern' : match === 'wildcard' ? 'wildcard-pattern' : 'prefix-pattern';
}

/**
 * Parses a WAMP URI under a match policy. Call only with a URI that passed `isValidUri(uri, uriUseFor(match))`.
 * fox-wamp's in-URI `*` (one level) and trailing `#` (the rest) work under `exact` and `wildcard`.
 */
export function parseWampPattern(uri: string, match: MatchPolicy): TopicPattern {
  const parts = uri.split('.');
  if (match === 'prefix') {
    const partial = parts.pop()!;
    return { kind: 'prefix', levels: parts, partial };
  }
  let rest = false;
  if (parts[parts.length - 1] === '#') {
    parts.pop();
    rest = true;
  }
  const levels = parts.map((part) => (part === '*' || (part === '' && match === 'wildcard') ? null : part));
  return { kind: 'levels', levels, rest };
}

/**
 * Orders two patterns that both match one concrete URI by the spec's precedence for calls
 * ("Pattern-based Registrations"): exact before prefix before wildcard; the longer prefix first; among
 * wildcards the one with a literal at the first position where they differ. Negative = `a` wins.
 */
export function comparePrecedence(a: TopicPattern, b: TopicPattern): number {
  const rank = (p: TopicPattern) => (p.kind === 'prefix' ? 1 : isConcrete(p) ? 0 : 2);
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  if (a.kind === 'prefix' && b.kind === 'prefix') {
    return prefixLength(b) - prefixLength(a);
  }
  if (a.kind === 'levels' && b.kind === 'levels') {
    const n = Math.max(a.levels.length, b.levels.length);
    for (let i = 0; i < n; i++) {
      const weightA = levelWeight(a, i);
      const weightB = levelWeight(b, i);
      if (weightA !== weightB) return weightB - weightA;
    }
  }
  return 0;
}

function prefixLength(p: TopicPattern & { kind: 'prefix' }): number {
  let length = p.partial.length;
  for (const level of p.levels) length += level.length + 1;
  return length;
}

/** literal 2, any-one 1, covered by `#` 0. */
function levelWeight(p: TopicPattern & { kind: 'levels' }, i: number): number {
  if (i >= p.levels.length) return 0;
  return p.levels[i] === null ? 1 : 2;
}

/**
 * Whether one pattern matches one concrete topic; the same rules as `TopicIndex` (which answers this for
 * many patterns at once), used to check a replayed history event against a new subscription.
 */
export function patternMatches(pattern: TopicPattern, levels: readonly string[]): boolean {
  const dollar = levels.length > 0 && levels[0]!.startsWith('$');
  if (pattern.kind === 'prefix') {
    const n = pattern.levels.length;
    if (levels.length <= n) return false;
    for (let i = 0; i < n; i++) if (levels[i] !== pattern.levels[i]) return false;
    return levels[n]!.startsWith(pattern.partial);
  }
  const n = pattern.levels.length;
  if (pattern.rest ? levels.length < n : levels.length !== n) return false;
  if (dollar && (n === 0 ? pattern.rest : pattern.levels[0] === null)) return false;
  for (let i = 0; i < n; i++) {
    const level = pattern.levels[i];
    if (level !== null && level !== levels[i]) return false;
  }
  return true;
}
