/**
 * URI checks from the spec's "URI Restrictions": loose (any non-empty component without whitespace,
 * `.` or `#`) or strict (lower-case letters, digits and `_`).
 */
export type UriCheck = 'loose' | 'strict';

const LOOSE_COMPONENT = /^[^\s.#]+$/;
const STRICT_COMPONENT = /^[0-9a-z_]+$/;

/** What a URI is used for decides which wildcard forms it may contain. */
export type UriUse =
  /** PUBLISH / CALL / realm names: concrete URIs, no wildcards. */
  | 'concrete'
  /** SUBSCRIBE / REGISTER with match `exact`: fox-wamp's in-URI `*` (one level) and a trailing `#`. */
  | 'exact-pattern'
  /** match `wildcard`: empty components are wildcards; `*` and a trailing `#` too. */
  | 'wildcard-pattern'
  /** match `prefix`: any string prefix of a concrete URI (may end in a partial or empty component). */
  | 'prefix-pattern';

export function isValidUri(uri: unknown, use: UriUse, check: UriCheck = 'loose'): uri is string {
  if (typeof uri !== 'string' || uri.length === 0) return false;
  const component = check === 'strict' ? STRICT_COMPONENT : LOOSE_COMPONENT;
  const parts = uri.split('.');
  const last = parts.length - 1;
  for (let i = 0; i <= last; i++) {
    const part = parts[i]!;
    if (use === 'concrete') {
      if (part === '*' || !component.test(part)) return false;
      continue;
    }
    if (part === '#' && i === last && use !== 'prefix-pattern') continue;
    if (part === '*' && use !== 'prefix-pattern') continue;
    if (part === '' && (use === 'wildcard-pattern' || (use === 'prefix-pattern' && i === last))) continue;
    if (!component.test(part)) return false;
  }
  return true;
}
