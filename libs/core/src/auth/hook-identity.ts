import { isPlainObject } from '../retained/retained-value.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { AuthenticateHook, AuthRequest, Identity } from './authenticate-hook.js';
import type { AuthStep } from './authenticator.js';
import { isPromiseLike } from './promise-like.js';

/**
 * Asks the application's hook and turns its answer into the final step. A synchronous hook keeps the step
 * synchronous. What the hook returns is checked: a malformed identity is a misconfiguration, so the client
 * gets `wamp.error.authentication_failed` rather than a session with a made-up role.
 */
export function askHook(hook: AuthenticateHook, request: AuthRequest): AuthStep | PromiseLike<AuthStep> {
  const answer = hook(request);
  if (isPromiseLike(answer)) return answer.then((identity) => ({ identity: checkedIdentity(identity, request) }));
  return { identity: checkedIdentity(answer, request) };
}

export function checkedIdentity(value: unknown, request: AuthRequest): Identity {
  const problem = identityProblem(value);
  if (problem !== undefined) {
    throw new RouterError(ErrorUri.authenticationFailed, `the authenticate hook returned an invalid identity: ${problem}`);
  }
  const identity = value as Identity;
  return {
    authid: identity.authid ?? request.authid,
    authrole: identity.authrole,
    authprovider: identity.authprovider ?? 'dynamic',
    authextra: identity.authextra,
  };
}

function identityProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'not an object';
  const { authid, authrole, authprovider, authextra } = value as Record<string, unknown>;
  if (typeof authrole !== 'string' || authrole === '') return 'authrole must be a non-empty string';
  if (authid !== undefined && typeof authid !== 'string') return 'authid must be a string';
  if (authprovider !== undefined && typeof authprovider !== 'string') return 'authprovider must be a string';
  if (authextra !== undefined && !isPlainObject(authextra)) return 'authextra must be an object';
  return undefined;
}
