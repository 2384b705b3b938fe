import type { Identity } from '../auth/authenticate-hook.js';
import type { AuthHello, AuthStep, Authenticator } from '../auth/authenticator.js';
import { craDeriveKey, craSign } from '../auth/wampcra-authenticator.js';
import { RouterError } from '../router/errors.js';
import { randomId } from '../router/ids.js';
import type { Realm } from '../router/realm.js';
import type { Router } from '../router/router.js';
import { Reason } from './reason-codes.js';

/** What an MQTT CONNECT presents. */
export interface MqttCredentials {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly transport: string;
  readonly remoteAddress: string | undefined;
}

export type MqttAdmission =
  | { readonly realm: Realm; readonly identity: Identity & { readonly authmethod: string }; readonly sessionId: number }
  | { readonly refusal: number; readonly message: string };

/**
 * Authenticates an MQTT client with the router's own authenticators, so one configuration serves WAMP and
 * MQTT. The username names the user, and with fox-wamp's `user@realm` convention the realm too (when the part
 * after the last `@` is a realm; otherwise the listener's default realm). The password is checked by:
 * - `ticket`: the password is the ticket;
 * - `wampcra`: the router answers its own challenge with the password as the user's secret (salted secrets
 *   derive the key from it), so WAMP-CRA users log in over MQTT with the same password;
 * - `anonymous`: when neither is offered, every client is admitted as the anonymous role (the username is
 *   not checked, as Mosquitto's `allow_anonymous`).
 */
export async function authenticateMqttClient(router: Router, defaultRealm: string, credentials: MqttCredentials): Promise<MqttAdmission> {
  const { realm, authid } = realmAndUser(router, defaultRealm, credentials.username);
  if (realm === undefined) return { refusal: Reason.badUserNameOrPassword, message: 'no such realm' };
  const sessionId = randomId();
  const hello = (method: string): AuthHello => ({
    realm: realm.name,
    authmethod: method,
    ...(authid === undefined ? {} : { authid }),
    authextra: {},
    session: sessionId,
    connection: { protocol: 'mqtt', transport: credentials.transport, ...(credentials.remoteAddress === undefined ? {} : { remoteAddress: credentials.remoteAddress }) },
  });
  // With a username, each password method the router offers is tried in turn (a user has a ticket or a
  // WAMP-CRA secret); anonymous only when neither is offered.
  const offered = (authid === undefined ? ['anonymous'] : ['ticket', 'wampcra']).filter((method) => router.auth.pick([method]) !== undefined);
  if (offered.length === 0 && router.auth.pick(['anonymous']) !== undefined) offered.push('anonymous');
  if (offered.length === 0) {
    return { refusal: authid === undefined ? Reason.notAuthorized : Reason.badAuthenticationMethod, message: 'no authentication method for MQTT clients is offered' };
  }
  let failure = 'authentication failed';
  for (const method of offered) {
    const authenticator = router.auth.pick([method])!;
    try {
      const identity = await run(authenticator, hello(method), credentials.password ?? '');
      return { realm, identity: { ...identity, authmethod: method }, sessionId };
    } catch (error) {
      if (error instanceof RouterError) failure = error.message;
    }
  }
  return { refusal: offered[0] === 'anonymous' ? Reason.notAuthorized : Reason.badUserNameOrPassword, message: failure };
}

async function run(authenticator: Authenticator, hello: AuthHello, password: string): Promise<Identity> {
  let step: AuthStep = await authenticator.begin(hello);
  // A method may challenge more than once; an MQTT client can only ever answer with its password.
  for (let round = 0; round < 4; round++) {
    if ('identity' in step) return step.identity;
    step = await step.respond({ signature: answer(authenticator.method, step.challenge, password), extra: {} });
  }
  throw new Error('too many challenges');
}

function answer(method: string, challenge: Record<string, unknown>, password: string): string {
  if (method !== 'wampcra') return password;
  const { challenge: text, salt, iterations, keylen } = challenge as { challenge: string; salt?: string; iterations?: number; keylen?: number };
  const key = salt === undefined ? password : craDeriveKey(password, salt, iterations, keylen);
  return craSign(key, text);
}

function realmAndUser(router: Router, defaultRealm: string, username: string | undefined): { realm: Realm | undefined; authid: string | undefined } {
  if (username !== undefined) {
    const at = username.lastIndexOf('@');
    if (at > 0 && at < username.length - 1) {
      const named = username.slice(at + 1);
      const realm = router.getRealm(named) ?? (router.autoRealms ? safeAddRealm(router, named) : undefined);
      if (realm !== undefined) return { realm, authid: username.slice(0, at) };
    }
  }
  return { realm: router.resolveRealm(defaultRealm), authid: username === '' ? undefined : username };
}

function safeAddRealm(router: Router, name: string): Realm | undefined {
  try {
    return router.addRealm(name);
  } catch {
    return undefined;
  }
}
