import type { AuthenticateHook } from './authenticate-hook.js';
import type { Authenticator, AuthHello, AuthStep } from './authenticator.js';
import { askHook } from './hook-identity.js';

/**
 * `ticket` (spec: Ticket-based Authentication): CHALLENGE `[4, "ticket", {}]`, the client answers with its
 * ticket in AUTHENTICATE, and the hook checks it for the authid from HELLO. The spec wants an authid with
 * a ticket; a missing one is left to the hook (a token may name its holder itself).
 */
export class TicketAuthenticator implements Authenticator {
  readonly method = 'ticket';

  constructor(private readonly hook: AuthenticateHook) {}

  begin(hello: AuthHello): AuthStep {
    return {
      challenge: {},
      respond: (response) => askHook(this.hook, { ...hello, secret: response.signature }),
    };
  }
}
