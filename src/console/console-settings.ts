import { CONSOLE_REALM, type ServerConfig } from '../config/server-config.js';

/** What the console's server side needs to know, from the server's configuration. */
export interface ConsoleSettings {
  /** The configured user who may log in to the console. */
  readonly user: string;
  /** That user's role (its sessions must have it). */
  readonly role: string;
  /** How the page logs in as that user: its ticket, or its WAMP-CRA secret. */
  readonly authmethod: 'ticket' | 'wampcra';
  /** The realm the console joins (`CONSOLE_REALM`). */
  readonly realm: string;
  /** Where WAMP over WebSocket listens on the HTTP port. */
  readonly wampPath: string;
}

/** Nest's injection token for the settings. */
export const CONSOLE_SETTINGS = 'FoxConsoleSettings';

/** The console's settings from the server's configuration; undefined when the console is off. */
export function consoleSettingsOf(config: ServerConfig): ConsoleSettings | undefined {
  if (config.console === undefined) return undefined;
  // `loadConfig` made sure the user exists and has a ticket or a secret.
  const user = config.users.find((candidate) => candidate.authid === config.console!.user)!;
  return {
    user: user.authid,
    role: user.role,
    authmethod: user.ticket !== undefined ? 'ticket' : 'wampcra',
    realm: CONSOLE_REALM,
    wampPath: config.wampPath,
  };
}
