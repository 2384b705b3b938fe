import { isPlainObject } from '../retained/retained-value.js';
import { comparePrecedence, isMatchPolicy, parseWampPattern, uriUseFor, type MatchPolicy, type TopicPattern } from '../router/topic-pattern.js';
import { isValidUri } from '../router/uri.js';
import type { AuthorizeAction, AuthorizeDecision, AuthorizeRequest } from './authorize-hook.js';
import { patternCovers } from './pattern-coverage.js';

/**
 * One static permission of a role: what the role may do on the URIs `uri` matches under `match` (as for
 * SUBSCRIBE / REGISTER; default `exact`). `uri: ""` with `match: "prefix"` stands for every URI. Actions not
 * listed in `allow` are denied. `disclose.caller` / `disclose.publisher`: the role's calls / publications on
 * these URIs name it to callees / subscribers, as if it had set `disclose_me`.
 */
export interface Permission {
  readonly uri: string;
  readonly match?: MatchPolicy;
  readonly allow?: Readonly<Partial<Record<AuthorizeAction, boolean>>>;
  readonly disclose?: { readonly caller?: boolean; readonly publisher?: boolean };
}

/** The static permissions of each role of one realm: role name → permissions. */
export type RolePermissionsOfRealm = Readonly<Record<string, readonly Permission[]>>;

/** Static roles per realm: realm name → role name → permissions. */
export type RealmRoles = Readonly<Record<string, RolePermissionsOfRealm>>;

const ACTIONS: readonly AuthorizeAction[] = ['call', 'register', 'publish', 'subscribe'];
const PERMISSION_KEYS = ['uri', 'match', 'allow', 'disclose'];
const DISCLOSE_KEYS = ['caller', 'publisher'];

/**
 * Checks static roles from configuration and returns them typed, or throws an `Error` with a one-line
 * message naming the realm, role and permission that is wrong.
 */
export function checkRealmRoles(value: unknown): RealmRoles {
  if (!isPlainObject(value)) throw new Error('roles must be an object: realm → role → list of permissions');
  for (const [realm, roles] of Object.entries(value)) {
    if (!isValidUri(realm, 'concrete')) throw new Error(`roles: "${realm}" is not a valid realm name`);
    if (!isPlainObject(roles)) throw new Error(`roles.${realm} must be an object: role → list of permissions`);
    for (const [role, permissions] of Object.entries(roles)) {
      if (role === '') throw new Error(`roles.${realm}: a role name must not be empty`);
      if (!Array.isArray(permissions)) throw new Error(`roles.${realm}.${role} must be a list of permissions`);
      permissions.forEach((permission: unknown, index) => {
        const problem = permissionProblem(permission);
        if (problem !== undefined) throw new Error(`roles.${realm}.${role}[${index}]: ${problem}`);
      });
    }
  }
  return value as RealmRoles;
}

function permissionProblem(permission: unknown): string | undefined {
  if (!isPlainObject(permission)) return 'must be an object with uri, match, allow and disclose';
  const unknownKey = Object.keys(permission).find((key) => !PERMISSION_KEYS.includes(key));
  if (unknownKey !== undefined) return `unknown field "${unknownKey}" (known: ${PERMISSION_KEYS.join(', ')})`;
  const { uri, match = 'exact', allow = {}, disclose = {} } = permission;
  if (!isMatchPolicy(match)) return `match must be exact, prefix or wildcard, not ${JSON.stringify(match)}`;
  const everything = uri === '' && match === 'prefix';
  if (!everything && !isValidUri(uri, uriUseFor(match))) return `uri ${JSON.stringify(uri)} is not a valid URI for match ${match}`;
  const flags = (what: string, value: unknown, keys: readonly string[]) => {
    if (!isPlainObject(value)) return `${what} must be an object of ${keys.join(', ')} flags`;
    const bad = Object.entries(value).find(([key, flag]) => !keys.includes(key) || typeof flag !== 'boolean');
    return bad === undefined ? undefined : `${what}.${bad[0]} is not one of ${keys.join(', ')} with a true/false value`;
  };
  return flags('allow', allow, ACTIONS) ?? flags('disclose', disclose, DISCLOSE_KEYS);
}

/** A permission ready to decide: its pattern parsed once. */
interface CompiledPermission {
  readonly pattern: TopicPattern;
  readonly allow: ReadonlySet<AuthorizeAction>;
  readonly discloseCaller: boolean;
  readonly disclosePublisher: boolean;
}

const DENIED: AuthorizeDecision = Object.freeze({ allow: false });
const ALLOWED: AuthorizeDecision = Object.freeze({ allow: true });
const ALLOWED_DISCLOSED: AuthorizeDecision = Object.freeze({ allow: true, disclose: true });

/**
 * Decides requests by static role permissions. Among the permissions whose pattern covers the request's URI
 * (for a pattern subscription or registration: every URI it can match), the most specific one decides, by
 * the spec's precedence for pattern-based registrations: exact, then the longest prefix, then wildcard; the
 * earlier listed among equals. No covering permission: denied.
 */
export class RolePermissions {
  private readonly realms = new Map<string, Map<string, CompiledPermission[]>>();

  constructor(roles: RealmRoles) {
    for (const [realm, ofRealm] of Object.entries(checkRealmRoles(roles))) {
      const compiled = new Map<string, CompiledPermission[]>();
      for (const [role, permissions] of Object.entries(ofRealm)) compiled.set(role, permissions.map((permission) => compile(permission)));
      this.realms.set(realm, compiled);
    }
  }

  /** Whether the realm has static roles (then a role not listed there has no permissions of its own). */
  governs(realm: string): boolean {
    return this.realms.has(realm);
  }

  /** The decision for a request; undefined when the request's realm or role has no static permissions. */
  decide(request: AuthorizeRequest): AuthorizeDecision | undefined {
    const permissions = this.realms.get(request.realm)?.get(request.session.info.authrole);
    if (permissions === undefined) return undefined;
    const match = request.action === 'subscribe' || request.action === 'register' ? (request.options.match ?? 'exact') : 'exact';
    const use = request.action === 'subscribe' || request.action === 'register' ? uriUseFor(match) : 'concrete';
    // An invalid URI is the realm's to refuse (wamp.error.invalid_uri): no permission could cover it anyway.
    if (!isValidUri(request.uri, use)) return ALLOWED;
    const requested = parseWampPattern(request.uri, match);
    let best: CompiledPermission | undefined;
    // Strictly better only: of two equally specific permissions the earlier listed wins.
    for (const permission of permissions) {
      if (!patternCovers(permission.pattern, requested)) continue;
      if (best === undefined || comparePrecedence(permission.pattern, best.pattern) < 0) best = permission;
    }
    if (best === undefined || !best.allow.has(request.action)) return DENIED;
    const disclose =
      (request.action === 'call' && best.discloseCaller) || (request.action === 'publish' && best.disclosePublisher);
    return disclose ? ALLOWED_DISCLOSED : ALLOWED;
  }
}

function compile(permission: Permission): CompiledPermission {
  const match = permission.match ?? 'exact';
  return {
    pattern: parseWampPattern(permission.uri, match),
    allow: new Set(ACTIONS.filter((action) => permission.allow?.[action] === true)),
    discloseCaller: permission.disclose?.caller === true,
    disclosePublisher: permission.disclose?.publisher === true,
  };
}
