import { ErrorUri, RouterError } from '../router/errors.js';
import type { Realm } from '../router/realm.js';
import type { Session } from '../router/session.js';
import { isValidUri } from '../router/uri.js';
import { idArgument, stringArgument, type MetaService } from './meta-service.js';

/** The spec's default GOODBYE reason for a session closed by `wamp.session.kill*`. */
export const KILLED_REASON = 'wamp.close.killed';

/** Session Meta API: `wamp.session.on_join` / `on_leave` events and the `wamp.session.*` procedures. */
export function attachSessionMeta(realm: Realm, service: MetaService): void {
  realm.onSessionJoin((session) => service.publish('wamp.session.on_join', [sessionDetails(session)]));
  realm.onSessionLeave((session) => service.publish('wamp.session.on_leave', [session.id, session.info.authid, session.info.authrole]));

  // In a cluster, count/list/get answer for every router process (the engine's session directory).
  service.register('wamp.session.count', async (args) => {
    const roles = authroleFilter(args);
    let count = 0;
    for (const session of await sessionsOf(realm)) if (roles === undefined || roles.has(session.authrole)) count++;
    return { args: [count] };
  });
  service.register('wamp.session.list', async (args) => {
    const roles = authroleFilter(args);
    const ids: number[] = [];
    for (const session of await sessionsOf(realm)) if (roles === undefined || roles.has(session.authrole)) ids.push(session.session);
    return { args: [ids] };
  });
  service.register('wamp.session.get', async (args) => {
    const id = idArgument(args, 0, 'session');
    const session = realm.getSession(id);
    if (session !== undefined) return { args: [sessionDetails(session)] };
    const remote = realm.clustered ? (await sessionsOf(realm)).find((candidate) => candidate.session === id) : undefined;
    if (remote === undefined) throw noSuchSession(args[0]);
    const { node, session: sessionId, ...details } = remote;
    return { args: [{ session: sessionId, ...details, node }] };
  });
  service.register('wamp.session.kill', (args, kwargs, caller) => {
    const id = idArgument(args, 0, 'session');
    const goodbye = goodbyeOf(kwargs);
    const session = realm.getSession(id);
    // The spec: the caller's own session is not an *other* session with that ID. The application's
    // in-process sessions are not the clients' to kill either.
    if (session === undefined || !killable(session, caller)) throw noSuchSession(id);
    session.peer.close(goodbye.reason, goodbye.message);
    return {};
  });
  service.register('wamp.session.kill_by_authid', (args, kwargs, caller) => {
    const authid = stringArgument(args, 0, 'authid');
    const killed = kill(realm, caller, goodbyeOf(kwargs), (session) => session.info.authid === authid);
    return { args: [killed] };
  });
  service.register('wamp.session.kill_by_authrole', (args, kwargs, caller) => {
    const authrole = stringArgument(args, 0, 'authrole');
    const killed = kill(realm, caller, goodbyeOf(kwargs), (session) => session.info.authrole === authrole);
    return { args: [killed.length] };
  });
  service.register('wamp.session.kill_all', (_args, kwargs, caller) => {
    const killed = kill(realm, caller, goodbyeOf(kwargs), () => true);
    return { args: [killed.length] };
  });
}

/** The realm's sessions as the directory lists them: this process's, or the whole cluster's. */
async function sessionsOf(realm: Realm): Promise<{ readonly session: number; readonly authrole: string; readonly authid: string; readonly node?: string }[]> {
  const cluster = realm.clusterSessions();
  if (cluster !== undefined) return cluster;
  return [...realm.sessions()].map((session) => ({ session: session.id, authrole: session.info.authrole, authid: session.info.authid }));
}

/** What the spec's `wamp.session.on_join` and `wamp.session.get` tell about a session. */
export function sessionDetails(session: Session): Record<string, unknown> {
  const { info } = session;
  const transport: Record<string, unknown> = { type: info.transport, protocol: info.protocol };
  if (info.serializer !== undefined) transport.serializer = info.serializer;
  if (info.remoteAddress !== undefined) transport.peer = info.remoteAddress;
  return {
    session: session.id,
    authid: info.authid,
    authrole: info.authrole,
    authmethod: info.authmethod,
    authprovider: info.authprovider,
    transport,
  };
}

interface Goodbye {
  readonly reason: string;
  /** Empty: no message in GOODBYE.Details. */
  readonly message: string;
}

function goodbyeOf(kwargs: Readonly<Record<string, unknown>>): Goodbye {
  const { reason = KILLED_REASON, message } = kwargs;
  if (!isValidUri(reason, 'concrete')) {
    throw new RouterError(ErrorUri.invalidUri, `reason must be a valid non-empty URI, not ${JSON.stringify(reason)}`);
  }
  if (message !== undefined && message !== null && typeof message !== 'string') {
    throw new RouterError(ErrorUri.invalidArgument, 'message must be a string');
  }
  return { reason, message: message ?? '' };
}

/**
 * Whether a client may kill `session`: not its own, and not one of the application's in-process sessions
 * (its Nest handlers and services), which are part of the server as much as the router's meta session is.
 */
function killable(session: Session, caller: Session): boolean {
  return session !== caller && session.info.protocol !== 'local';
}

/** Closes every killable session that `selects`; returns their IDs. */
function kill(realm: Realm, caller: Session, goodbye: Goodbye, selects: (session: Session) => boolean): number[] {
  const victims = [...realm.sessions()].filter((session) => killable(session, caller) && selects(session));
  for (const session of victims) session.peer.close(goodbye.reason, goodbye.message);
  return victims.map((session) => session.id);
}

/** `filter_authroles`: an optional list of authroles (absent or null: no filter). */
function authroleFilter(args: readonly unknown[]): Set<string> | undefined {
  const roles = args[0];
  if (roles === undefined || roles === null) return undefined;
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
    throw new RouterError(ErrorUri.invalidArgument, 'filter_authroles must be a list of strings');
  }
  return new Set(roles as string[]);
}

function noSuchSession(id: unknown): RouterError {
  return new RouterError(ErrorUri.noSuchSession, `no session ${JSON.stringify(id)} in this realm`);
}
