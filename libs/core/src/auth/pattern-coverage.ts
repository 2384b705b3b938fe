import { patternMatches, type TopicPattern } from '../router/topic-pattern.js';

/**
 * Whether every concrete topic `inner` matches is also matched by `outer`: what a permission must do for a
 * request, since a pattern subscription or registration receives everything its pattern matches. A
 * permission for `com.app.` (prefix) covers a subscription to `com.app.chat.` (prefix) or `com.app..log`
 * (wildcard); a permission for `com.app..log` (wildcard) covers neither `com.app.` nor `com.` (prefix).
 * Same rules as `patternMatches`: levels are WAMP URI components, a prefix is a string prefix, and a
 * wildcard in the first level never matches a `$`-topic.
 */
export function patternCovers(outer: TopicPattern, inner: TopicPattern): boolean {
  if (inner.kind === 'levels' && !inner.rest && inner.levels.every((level) => level !== null)) {
    return patternMatches(outer, inner.levels as readonly string[]);
  }
  if (inner.kind === 'prefix') return coversPrefix(outer, inner);
  return coversLevels(outer, inner);
}

/** `inner` is a level pattern with wildcards or a trailing rest. */
function coversLevels(outer: TopicPattern, inner: TopicPattern & { kind: 'levels' }): boolean {
  const innerLevels = inner.levels;
  if (outer.kind === 'prefix') {
    // Every match must start with the outer literal levels and then a level starting with the partial.
    const n = outer.levels.length;
    if (innerLevels.length <= n) return false;
    for (let i = 0; i < n; i++) if (innerLevels[i] !== outer.levels[i]) return false;
    const next = innerLevels[n];
    return outer.partial === '' || (next !== null && next !== undefined && next.startsWith(outer.partial));
  }
  const outerLevels = outer.levels;
  // The topic lengths inner matches must be lengths outer matches.
  if (inner.rest && !outer.rest) return false;
  if (outer.rest ? innerLevels.length < outerLevels.length : innerLevels.length !== outerLevels.length) return false;
  for (let i = 0; i < outerLevels.length; i++) {
    const level = outerLevels[i];
    if (level !== null && innerLevels[i] !== level) return false;
  }
  return !(firstLevelIsWildcard(outer) && startsWithDollar(inner));
}

/** `inner` is a WAMP prefix pattern: its levels, then a level starting with its partial, then anything. */
function coversPrefix(outer: TopicPattern, inner: TopicPattern & { kind: 'prefix' }): boolean {
  if (outer.kind === 'prefix') return prefixString(inner).startsWith(prefixString(outer));
  // A prefix matches topics of any length, so only a level pattern with a trailing rest can cover it, and
  // the level the partial begins can hold anything (a literal cannot cover it, unless the rest starts there).
  if (!outer.rest) return false;
  const n = inner.levels.length;
  if (outer.levels.length > n + 1) return false;
  for (let i = 0; i < outer.levels.length; i++) {
    const level = outer.levels[i];
    if (level === null) continue;
    if (i === n || level !== inner.levels[i]) return false;
  }
  return !(firstLevelIsWildcard(outer) && startsWithDollar(inner));
}

/** A prefix pattern as the URI string prefix it stands for. */
function prefixString(pattern: TopicPattern & { kind: 'prefix' }): string {
  return pattern.levels.length === 0 ? pattern.partial : `${pattern.levels.join('.')}.${pattern.partial}`;
}

function firstLevelIsWildcard(pattern: TopicPattern & { kind: 'levels' }): boolean {
  return pattern.levels.length === 0 ? pattern.rest : pattern.levels[0] === null;
}

/** Whether the pattern can match a `$`-topic (which a wildcard in an outer pattern's first level never matches). */
function startsWithDollar(pattern: TopicPattern): boolean {
  // A level pattern whose first level is a wildcard (or a bare `#`) skips `$`-topics itself.
  if (pattern.kind === 'levels') return typeof pattern.levels[0] === 'string' && pattern.levels[0].startsWith('$');
  const first = pattern.levels[0] ?? pattern.partial;
  return first === '' || first.startsWith('$');
}
