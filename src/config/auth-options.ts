import { staticUsersAuth, type AuthOptions } from '@fox-wamp/core';
import type { ServerConfig } from './server-config.js';

/**
 * The router's `auth` option from the configuration: the static users (if any) with the methods their
 * credentials call for, and the static role permissions (if any). Without users clients join anonymously
 * (role `anonymous`); with users, only if `anonymous` is true.
 */
export function authOptionsOf(config: ServerConfig): AuthOptions | undefined {
  const roles = Object.keys(config.roles).length === 0 ? {} : { roles: config.roles };
  if (config.users.length === 0) return Object.keys(roles).length === 0 ? undefined : roles;
  return { ...staticUsersAuth(config.users, { anonymous: config.anonymous ?? false }), ...roles };
}
