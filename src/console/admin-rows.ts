import { MqttSession, type Registration, type Session, type Subscription } from '@fox-wamp/core';
import type { HeldUri, RegistrationLoad, RegistrationRow, SessionLoad, SessionRow, SubscriptionRow } from './page/admin-protocol.js';

/**
 * The router's sessions, subscriptions and registrations as the admin console shows them: plain rows, read from
 * the engine's objects at the moment they are sent.
 */

export function sessionRow(session: Session, kickable: boolean): SessionRow {
  const { info } = session;
  return {
    realm: session.realm.name,
    session: session.id,
    protocol: info.protocol,
    transport: info.transport,
    ...(info.serializer === undefined ? {} : { serializer: info.serializer }),
    authid: info.authid,
    authrole: info.authrole,
    authmethod: info.authmethod,
    ...(info.remoteAddress === undefined ? {} : { address: info.remoteAddress }),
    ...(session.peer instanceof MqttSession ? { clientId: session.peer.clientId } : {}),
    joinedAt: session.joinedAt,
    subscriptions: [...session.subscriptions].map((subscription) => held(subscription.id, subscription.uri, subscription.match)),
    registrations: [...session.registrations].map((registration) => held(registration.id, registration.uri, registration.match)),
    kickable,
  };
}

function held(id: number, uri: string, match: string): HeldUri {
  return { id, uri, match };
}

export function subscriptionRow(realm: string, subscription: Subscription): SubscriptionRow {
  return {
    realm,
    id: subscription.id,
    uri: subscription.uri,
    match: subscription.match,
    subscribers: subscription.subscribers.size,
    ...(subscription.filter === undefined ? {} : { filter: subscription.filter.key }),
    ...(subscription.shareGroup === undefined ? {} : { shareGroup: subscription.shareGroup }),
    createdAt: subscription.createdAt,
  };
}

export function registrationRow(realm: string, registration: Registration): RegistrationRow {
  return {
    realm,
    id: registration.id,
    uri: registration.uri,
    match: registration.match,
    policy: registration.policy,
    callees: registration.callees.map((callee) => ({
      session: callee.session.id,
      concurrency: Number.isFinite(callee.concurrency) ? callee.concurrency : null,
    })),
    createdAt: registration.createdAt,
  };
}

/** What a session has waiting and in flight now; undefined when all of it is zero (the stats stay small). */
export function sessionLoad(session: Session): SessionLoad | undefined {
  const queue = session.peer.sendQueue?.();
  const away = session.peer instanceof MqttSession && session.peer.link === undefined;
  const load = {
    realm: session.realm.name,
    session: session.id,
    calls: session.calls.size,
    invocations: session.invocations.size,
    bufferedBytes: queue?.bufferedBytes ?? 0,
    queuedMessages: queue?.queuedMessages ?? 0,
    ...(away ? { away } : {}),
  };
  const idle = load.calls === 0 && load.invocations === 0 && load.bufferedBytes === 0 && load.queuedMessages === 0 && !away;
  return idle ? undefined : load;
}

/** A registration's invocations in flight and calls waiting; undefined when both are zero. */
export function registrationLoad(realm: string, registration: Registration): RegistrationLoad | undefined {
  let inFlight = 0;
  for (const callee of registration.callees) inFlight += callee.inFlight;
  const queued = registration.queue.length;
  return inFlight === 0 && queued === 0 ? undefined : { realm, id: registration.id, inFlight, queued };
}
