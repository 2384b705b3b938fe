import type { AuthOptions, Session } from '@fox-wamp/core';
import type { ConsoleSettings } from './console-settings.js';

/**
 * Who may be in the console realm: the console user, authenticated with its credentials by the static
 * users (not anonymously, whatever authid an anonymous client claims).
 */
export function isConsoleUser(session: Session, settings: Pick<ConsoleSettings, 'user' | 'role'>): boolean {
  const { info } = session;
  return info.authid === settings.user && info.authrole === settings.role && info.authmethod !== 'anonymous' && info.authprovider === 'static';
}

/**
 * The router's authentication with the console realm closed to everyone but the console user: any other
 * client asking for that realm (WAMP, or MQTT as `user@realm`) is refused before its credentials are checked.
 */
export function withConsoleRealmGuard(auth: AuthOptions | undefined, settings: Pick<ConsoleSettings, 'user' | 'realm'>): AuthOptions | undefined {
  const authenticate = auth?.authenticate;
  if (auth === undefined || authenticate === undefined) return auth;
  return {
    ...auth,
    authenticate: (request) => {
      if (request.realm === settings.realm && (request.authmethod === 'anonymous' || request.authid !== settings.user)) {
        throw new Error(`only the console user may join ${settings.realm}`);
      }
      return authenticate(request);
    },
  };
}
