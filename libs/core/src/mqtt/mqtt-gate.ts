import { randomUUID } from 'node:crypto';
import type { Identity } from '../auth/authenticate-hook.js';
import type { RouterLogger } from '../router/logger.js';
import type { Realm } from '../router/realm.js';
import type { Router } from '../router/router.js';
import { MqttConnection, type WillMessage } from './mqtt-connection.js';
import { MqttSession, type MigratedSession, type QoS, type SessionOwner } from './mqtt-session.js';
import { MqttSessionMigration } from './mqtt-session-migration.js';
import { parseTopicFilter } from './mqtt-topics.js';
import { plainPayload } from '../router/payload.js';
import type { MqttTransport } from './mqtt-transport.js';
import { Reason } from './reason-codes.js';
import { SysTopics } from './sys-topics.js';

/** Settings of the MQTT gate; every field has a default (`MQTT_DEFAULTS`). */
export interface MqttOptions {
  /** The realm of clients whose username does not name one (`user@realm`). Default `realm1`. */
  readonly defaultRealm?: string;
  /** The largest keep alive a client may ask for, in seconds (MQTT 5 Server Keep Alive). Default 65535. */
  readonly maxKeepAlive?: number;
  /** The largest packet accepted (and announced as Maximum Packet Size), in bytes. Default 16 MiB. */
  readonly maxPacketSize?: number;
  /** Our Receive Maximum: unacknowledged QoS 1/2 PUBLISHes a client may send. Default 1024. */
  readonly receiveMaximum?: number;
  /** Topic aliases a client may set (our Topic Alias Maximum). Default 1024. */
  readonly topicAliasMaximum?: number;
  /** QoS 1/2 messages in flight to a 3.1.1 client (which has no Receive Maximum). Default 256. */
  readonly inflightWindow?: number;
  /** Messages queued per session while offline or over its Receive Maximum; more are dropped. Default 1000. */
  readonly maxQueuedMessages?: number;
  /** How long a connection may take to send CONNECT (ms). Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Bytes that may wait to be written to one client before it is disconnected. Default 64 MiB. */
  readonly maxBufferedBytes?: number;
  /** Seconds between updates of the `$SYS/broker/...` topics (Mosquitto's `sys_interval`); 0: none. Default 10. */
  readonly sysInterval?: number;
}

export const MQTT_DEFAULTS: Required<MqttOptions> = {
  defaultRealm: 'realm1',
  maxKeepAlive: 65535,
  maxPacketSize: 16 * 1024 * 1024,
  receiveMaximum: 1024,
  topicAliasMaximum: 1024,
  inflightWindow: 256,
  maxQueuedMessages: 1000,
  connectTimeoutMs: 10_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  sysInterval: 10,
};

/**
 * The MQTT gate: it accepts connections from any transport, keeps the MQTT sessions of the router (which
 * outlive connections), and turns MQTT into the realm API every gate uses. Client identifiers are unique per
 * realm: a second connection with the same one takes the session over (MQTT-3.1.4-3).
 */
export class MqttGate implements SessionOwner {
  readonly settings: Required<MqttOptions>;
  readonly logger: RouterLogger;
  private readonly sessions = new Map<string, MqttSession>();
  private readonly connections = new Set<MqttConnection>();
  private readonly pendingWills = new Map<MqttSession, { readonly will: WillMessage; readonly timer: NodeJS.Timeout | undefined }>();
  private readonly sysTopics: SysTopics | undefined;
  /** Per clustered realm: sessions that move between router processes. */
  private readonly migrations = new Map<string, MqttSessionMigration>();

  constructor(
    readonly router: Router,
    options: MqttOptions = {},
  ) {
    this.settings = { ...MQTT_DEFAULTS, ...withoutUndefined(options) };
    this.logger = router.logger;
    if (this.settings.sysInterval > 0) {
      this.sysTopics = new SysTopics(router, (realm) => this.connectedIn(realm), this.settings.sysInterval);
    }
  }

  /** MQTT clients connected to a realm right now (sessions kept for absent clients do not count). */
  connectedIn(realm: Realm): number {
    let count = 0;
    for (const session of this.sessions.values()) if (session.link !== undefined && session.realmName === realm.name) count++;
    return count;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Takes a new client connection. */
  accept(transport: MqttTransport): MqttConnection {
    const connection = new MqttConnection(this, transport);
    this.connections.add(connection);
    return connection;
  }

  assignClientId(): string {
    return `fox-${randomUUID()}`;
  }

  /**
   * Gives an authenticated connection its session: the existing one (taken over from another connection if
   * need be) unless `clean`, else a new one joined to the realm.
   */
  attach(
    connection: MqttConnection,
    realm: Realm,
    clientId: string,
    clean: boolean,
    expirySeconds: number,
    identity: Identity & { readonly authmethod: string },
    /** The session another router process of the cluster handed over for this client (see `claimElsewhere`). */
    migrated?: MigratedSession,
  ): { session: MqttSession; present: boolean } {
    const key = `${realm.name}\u0000${clientId}`;
    let session = this.sessions.get(key);
    if (session !== undefined) {
      // The old connection ends first (its will is due as for any lost connection; a session that expires
      // with its connection ends with it).
      session.link?.disconnect(Reason.sessionTakenOver, 'another connection took the session over');
      session = this.sessions.get(key);
    }
    if (session !== undefined) {
      const sameUser = session.realmSession.info.authid === (identity.authid ?? session.realmSession.info.authid);
      // A session is only resumed by the same user: a client ID alone does not hand one user's messages to another.
      if (clean || !sameUser) {
        this.endSession(session, Reason.sessionTakenOver, 'a clean start replaces the session');
        session = undefined;
      }
    }
    let present = session !== undefined;
    if (session === undefined) {
      session = new MqttSession(clientId, realm.name, this, { maxQueuedMessages: this.settings.maxQueuedMessages });
      session.realmSession = realm.join(session, {
        protocol: 'mqtt',
        authid: identity.authid,
        authrole: identity.authrole,
        authmethod: identity.authmethod,
        authprovider: identity.authprovider ?? 'static',
        ...(identity.authextra === undefined ? {} : { authextra: identity.authextra }),
        transport: connection.transport.kind,
        ...(connection.transport.remoteAddress === undefined ? {} : { remoteAddress: connection.transport.remoteAddress }),
      });
      this.sessions.set(key, session);
      if (migrated !== undefined && !clean) {
        this.restore(session, migrated);
        present = true;
      }
    }
    if (realm.clustered) this.migrationFor(realm)?.owned(clientId);
    clearTimeout(session.expiryTimer);
    session.expiryTimer = undefined;
    // A connection to the session within the will delay means the will is not sent (MQTT-3.1.3-9).
    const pending = this.pendingWills.get(session);
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      this.pendingWills.delete(session);
    }
    session.expirySeconds = expirySeconds;
    // After the CONNACK step, so the new connection counts.
    if (!present) queueMicrotask(() => this.sysTopics?.publish());
    return { session, present };
  }

  /**
   * In a cluster, for a client that resumes its session (clean start off) with no session here: the session
   * another router process holds, handed over; undefined (at once) when this realm is this process's alone or
   * the session is here.
   */
  claimElsewhere(realm: Realm, clientId: string, authid: string | undefined): Promise<MigratedSession | undefined> | undefined {
    if (!realm.clustered || this.sessions.has(`${realm.name}\u0000${clientId}`)) return undefined;
    return this.migrationFor(realm)?.claim(clientId, authid);
  }

  private migrationFor(realm: Realm): MqttSessionMigration | undefined {
    const backplane = realm.backplane;
    if (backplane === undefined) return undefined;
    let migration = this.migrations.get(realm.name);
    if (migration === undefined) {
      migration = new MqttSessionMigration(realm, backplane, (clientId, authid) => this.handOver(realm, clientId, authid), this.logger);
      this.migrations.set(realm.name, migration);
    }
    return migration;
  }

  /** Another process's client takes its session: its state goes there, and the session ends here without a trace. */
  private handOver(realm: Realm, clientId: string, authid: string | undefined): MigratedSession | undefined {
    const key = `${realm.name}\u0000${clientId}`;
    let session = this.sessions.get(key);
    if (session === undefined) return undefined;
    // Only the same user resumes a session (as locally).
    if (authid !== undefined && session.realmSession.info.authid !== authid) return undefined;
    // A connected client is taken over, as by a local connection (its will is due as for any lost connection).
    session.link?.disconnect(Reason.sessionTakenOver, 'another connection took the session over');
    session = this.sessions.get(key);
    if (session === undefined) return undefined;
    const state = session.exportState(plainPayload);
    this.sessions.delete(key);
    clearTimeout(session.expiryTimer);
    // A will still waiting for its delay is cancelled: the client is back, on another process (MQTT-3.1.3-9).
    const pending = this.pendingWills.get(session);
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      this.pendingWills.delete(session);
    }
    session.detach();
    session.realmSession.realm.leave(session.realmSession);
    return state;
  }

  /** Subscribes a handed-over session's filters again, here, and takes what waited for its client. */
  private restore(session: MqttSession, state: MigratedSession): void {
    const realm = session.realmSession.realm;
    for (const wanted of state.subscriptions) {
      const filter = parseTopicFilter(wanted.filter);
      if (filter === undefined) continue;
      try {
        const subscription = realm.subscribeTo(session.realmSession, {
          uri: filter.uri,
          match: filter.match,
          pattern: filter.pattern,
          source: `mqtt\u0000${filter.filter}`,
          ...(filter.shareGroup === undefined ? {} : { shareGroup: filter.shareGroup }),
        });
        session.addSubscription(wanted.filter, {
          parsed: filter,
          qos: wanted.qos as QoS,
          noLocal: wanted.noLocal,
          retainAsPublished: wanted.retainAsPublished,
          retainHandling: wanted.retainHandling,
          subscriptionId: wanted.subscriptionId,
          subscription,
        });
      } catch (error) {
        this.logger.warn('a handed-over MQTT subscription was refused', { clientId: session.clientId, filter: wanted.filter, error: String(error) });
      }
    }
    session.importPending(state);
  }

  /** A connection ended: its session waits for its expiry, and its will (if any) is due. */
  detach(connection: MqttConnection, session: MqttSession, will: WillMessage | undefined): void {
    if (session.link === connection) session.detach();
    else return this.fireWill(session, will);
    const expiry = session.expirySeconds;
    if (will !== undefined) {
      const delay = Math.min(will.delaySeconds, expiry);
      if (delay === 0) this.fireWill(session, will);
      else {
        const timer = setTimeout(() => {
          this.pendingWills.delete(session);
          this.fireWill(session, will);
        }, delay * 1000);
        timer.unref();
        this.pendingWills.set(session, { will, timer });
      }
    }
    if (expiry === 0) return this.endSession(session, Reason.success, 'the session ends with its connection');
    if (expiry >= 0xffffffff) return;
    session.expiryTimer = setTimeout(() => this.endSession(session, Reason.success, 'the session expired'), expiry * 1000);
    session.expiryTimer.unref();
  }

  connectionClosed(connection: MqttConnection): void {
    this.connections.delete(connection);
  }

  messageDropped(_session: MqttSession): void {
    this.router.metrics.overflow('mqtt', 'dropped');
  }

  /** Ends a session: its connection (if any) is told `reason`, it leaves the realm, a pending will is sent. */
  endSession(session: MqttSession, reasonCode: number, reason: string): void {
    const key = `${session.realmName}\u0000${session.clientId}`;
    if (this.sessions.get(key) !== session) return;
    this.sessions.delete(key);
    this.migrations.get(session.realmName)?.released(session.clientId);
    clearTimeout(session.expiryTimer);
    const link = session.link;
    session.detach();
    link?.disconnect(reasonCode, reason);
    const pending = this.pendingWills.get(session);
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      this.pendingWills.delete(session);
      this.fireWill(session, pending.will);
    }
    session.realmSession.realm.leave(session.realmSession);
  }

  private fireWill(session: MqttSession, will: WillMessage | undefined): void {
    if (will === undefined) return;
    const realm = session.realmSession.realm;
    // Published by the router on the session's behalf: the session may be gone by now.
    const publisher = session.realmSession.isOpen ? session.realmSession : undefined;
    realm
      .publishTo(publisher, will.levels, will.payload, { retain: will.retain, excludeMe: false })
      .catch((error: unknown) => this.logger.warn('publishing an MQTT will failed', { clientId: session.clientId, error: String(error) }));
  }

  /** Server shutdown: every connection hears 0x8B, every session ends. */
  close(): void {
    this.sysTopics?.close();
    for (const session of [...this.sessions.values()]) this.endSession(session, Reason.serverShuttingDown, 'the server is shutting down');
    for (const connection of [...this.connections]) connection.disconnect(Reason.serverShuttingDown, 'the server is shutting down');
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
