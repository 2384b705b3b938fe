import type { AuthenticateHook } from './authenticate-hook.js';
import type { Authenticator, AuthHello, AuthStep } from './authenticator.js';
import { askHook } from './hook-identity.js';

/** Without a hook: every anonymous client is admitted, with its session ID as authid. */
const ANONYMOUS: AuthStep = { identity: { authrole: 'anonymous', authprovider: 'static' } };

/**
 * `anonymous`: no credentials. Without a hook every client is admitted as role `anonymous`; with one, the
 * hook decides (by address, realm, transport, ...) and names the role.
 */
export class AnonymousAuthenticator implements Authenticator {
  readonly method = 'anonymous';

  constructor(private readonly hook?: AuthenticateHook) {}

  begin(hello: AuthHello): AuthStep | PromiseLike<AuthStep> {
    return this.hook === undefined ? ANONYMOUS : askHook(this.hook, hello);
  }
}
