import type { Server } from 'node:http';
import {
  Inject,
  Injectable,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ErrorUri,
  NO_METRICS,
  openStore,
  PrometheusMetrics,
  Router,
  type Realm,
  type RouterLogger,
  type RouterMetrics,
  type Session,
} from '@fox-wamp/core';
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_GOODBYE_TIMEOUT_MS,
  DEFAULT_REALM,
} from '../fox-wamp.constants.js';
import { FOX_WAMP_OPTIONS } from '../fox-wamp.module-definition.js';
import type { FoxWampModuleOptions, RawSocketListenerOptions, WampListenerOptions } from '../interfaces/fox-wamp-options.interface.js';
import { countInFlightCalls, waitUntil } from '../lifecycle/in-flight-calls.js';
import { MqttEndpoint } from '../listeners/mqtt-endpoint.js';
import { RawSocketEndpoint } from '../listeners/rawsocket-endpoint.js';
import { WampEndpoint } from '../listeners/wamp-endpoint.js';
import { nestRouterLogger } from '../nest-router-logger.js';

/** A listener as the application may inspect it. */
export interface WampListenerInfo {
  /** `ws://host:port/path` or `wss://...`; undefined until the server listens (Nest's: after `app.listen`). */
  readonly url: string | undefined;
  readonly path: string;
  /** Whether it has a port of its own (otherwise it shares Nest's HTTP server). */
  readonly ownPort: boolean;
  readonly connectionCount: number;
}

/** A RawSocket listener as the application may inspect it. */
export interface RawSocketListenerInfo {
  /** `tcp://host:port`; undefined until the port listens (Nest's: after `app.listen`). */
  readonly url: string | undefined;
  /** Whether it has a port of its own (otherwise it shares Nest's HTTP port). */
  readonly ownPort: boolean;
  readonly connectionCount: number;
}

/** The MQTT listeners as the application may inspect them. */
export interface MqttListenerInfo {
  /** `mqtt://host:port`; undefined without a TCP listener. */
  readonly url: string | undefined;
  /** `ws://host:port/path` on Nest's server once it listens; undefined before or without one. */
  readonly webSocketUrl: string | undefined;
  readonly connectionCount: number;
  /** MQTT sessions, connected or kept for a client that went away (persistent sessions). */
  readonly sessionCount: number;
}

/** One listener in a readiness report. */
export interface ListenerReadiness {
  readonly kind: 'wamp' | 'rawsocket' | 'mqtt' | 'mqtt-ws';
  /** Where it listens; undefined while it does not. */
  readonly url: string | undefined;
  readonly listening: boolean;
}

/** Whether the router can take clients now (`RouterService.readiness()`), and what stands in the way if not. */
export interface FoxWampReadiness {
  readonly ready: boolean;
  /** What is not ready, in words; empty when ready. */
  readonly problems: readonly string[];
  readonly listeners: readonly ListenerReadiness[];
  readonly store: { readonly description: string; readonly healthy: boolean };
  /** The cluster engine, when the router is one process of a cluster: reachable, and this node holding its lease. */
  readonly cluster?: { readonly node: string; readonly engine: string; readonly healthy: boolean };
  readonly sessions: number;
}

/**
 * Owns the router and its listeners for the application's lifetime.
 *
 * Startup: listeners open at bootstrap (decorated handlers are registered before, at module init).
 * Shutdown, in Nest's hook order:
 * 1. `onModuleDestroy`: stop accepting WebSocket connections, refuse new calls to in-process handlers, and
 *    wait (up to `drainTimeoutMs`) until every call in flight has been answered;
 * 2. `beforeApplicationShutdown`: every session gets GOODBYE `wamp.close.system_shutdown`; wait (up to
 *    `shutdownTimeoutMs`) for the clients to reply, then terminate what is left;
 * 3. `onApplicationShutdown`: close the listeners' own servers (Nest closes its HTTP server itself).
 */
@Injectable()
export class RouterService implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly router: Router;
  readonly logger: RouterLogger;
  readonly defaultRealmName: string;
  private endpoints: WampEndpoint[] = [];
  private rawSocketEndpoints: RawSocketEndpoint[] = [];
  private mqttEndpoint: MqttEndpoint | undefined;
  private draining = false;
  /** The listeners opened at bootstrap. */
  private started = false;

  constructor(
    @Inject(FOX_WAMP_OPTIONS) private readonly options: FoxWampModuleOptions,
    @Optional() private readonly httpAdapterHost?: HttpAdapterHost,
  ) {
    this.logger = options.logger ?? nestRouterLogger();
    const defaultRealm = options.defaultRealm ?? options.realms?.[0] ?? DEFAULT_REALM;
    this.router = new Router({
      realms: [defaultRealm, ...(options.realms ?? [])],
      autoRealms: options.autoRealms ?? false,
      realmOptions: { uriCheck: options.uriCheck ?? 'loose', history: options.history, maxRetainedSize: options.maxRetainedSize },
      perRealm: withDefaultRealmSchema(options, defaultRealm),
      store: typeof options.store === 'string' ? openStore(options.store) : options.store,
      cluster: options.cluster,
      logger: this.logger,
      auth: options.auth,
      metrics: options.metrics === true ? new PrometheusMetrics() : options.metrics || NO_METRICS,
    });
    this.defaultRealmName = defaultRealm;
  }

  get defaultRealm(): Realm {
    return this.router.getRealm(this.defaultRealmName)!;
  }

  /** A realm by name; created when auto-realms is on, otherwise an error for an unknown name. */
  realm(name: string): Realm {
    const realm = this.router.resolveRealm(name);
    if (realm === undefined) throw new Error(`FoxWampModule: no realm named ${name}`);
    return realm;
  }

  realms(): Realm[] {
    return [...this.router.realms()];
  }

  /** The sessions of one realm, or of all realms: remote clients and in-process ones alike. */
  sessions(realmName?: string): Session[] {
    const realms = realmName === undefined ? this.realms() : [this.realm(realmName)];
    return realms.flatMap((realm) => [...realm.sessions()]);
  }

  get sessionCount(): number {
    return this.router.sessionCount;
  }

  get listeners(): readonly WampListenerInfo[] {
    return this.endpoints.map((endpoint) => ({
      url: endpoint.url,
      path: endpoint.path,
      ownPort: endpoint.isOwnServer,
      connectionCount: endpoint.connectionCount,
    }));
  }

  get rawSocketListeners(): readonly RawSocketListenerInfo[] {
    return this.rawSocketEndpoints.map((endpoint) => ({
      url: endpoint.url,
      ownPort: endpoint.isOwnServer,
      connectionCount: endpoint.connectionCount,
    }));
  }

  /** The MQTT listeners; undefined when MQTT is off. */
  get mqttListener(): MqttListenerInfo | undefined {
    const endpoint = this.mqttEndpoint;
    if (endpoint === undefined) return undefined;
    return { url: endpoint.url, webSocketUrl: endpoint.webSocketUrl, connectionCount: endpoint.connectionCount, sessionCount: endpoint.gate.sessionCount };
  }

  /** The HTTP server the first WAMP listener is attached to (Nest's own, or one of its own port). */
  get wampServer(): Server | undefined {
    return this.endpoints[0]?.server;
  }

  /** URL of the first WAMP listener, once its server listens. */
  wampUrl(): string | undefined {
    return this.endpoints[0]?.url;
  }

  /** The router's metrics (`NO_METRICS` when the module's `metrics` option is off). */
  get metrics(): RouterMetrics {
    return this.router.metrics;
  }

  /** The Prometheus metrics, when the router reports to them: `render()` is the body of a `/metrics` endpoint. */
  get prometheus(): PrometheusMetrics | undefined {
    const metrics = this.router.metrics;
    return metrics instanceof PrometheusMetrics ? metrics : undefined;
  }

  /**
   * Readiness: the listeners opened and listening (Nest's shared HTTP server included, so only after
   * `app.listen`), the store healthy, and no shutdown under way. Liveness needs none of this.
   */
  readiness(): FoxWampReadiness {
    const listeners: ListenerReadiness[] = [
      ...this.endpoints.map((endpoint) => listenerReadiness('wamp', endpoint.url)),
      ...this.rawSocketEndpoints.map((endpoint) => listenerReadiness('rawsocket', endpoint.url)),
    ];
    const mqtt = this.mqttEndpoint;
    if (mqtt?.hasTcp) listeners.push(listenerReadiness('mqtt', mqtt.url));
    if (mqtt?.hasWebSocket) listeners.push(listenerReadiness('mqtt-ws', mqtt.webSocketUrl));
    const store = { description: this.router.store.description, healthy: this.router.store.healthy ?? true };
    const problems: string[] = [];
    if (!this.started) problems.push('the listeners are not open yet');
    if (this.draining) problems.push('the router is shutting down');
    for (const listener of listeners) if (!listener.listening) problems.push(`the ${listener.kind} listener is not listening`);
    if (!store.healthy) problems.push(`the store ${store.description} is unavailable`);
    const backplane = this.router.cluster;
    const cluster = backplane === undefined ? undefined : { node: backplane.node, engine: backplane.description, healthy: backplane.healthy };
    if (cluster !== undefined && !cluster.healthy) problems.push(`the cluster engine ${cluster.engine} is unreachable or this node lost its lease`);
    return { ready: problems.length === 0, problems, listeners, store, ...(cluster === undefined ? {} : { cluster }), sessions: this.router.sessionCount };
  }

  /** True from the start of shutdown: in-process handlers then refuse new calls. */
  get isDraining(): boolean {
    return this.draining;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Realm state first (a durable store applies the wills left from before a restart), then the listeners.
    await this.router.ready();
    const settings = { goodbyeTimeoutMs: this.options.shutdownTimeoutMs ?? DEFAULT_GOODBYE_TIMEOUT_MS, logger: this.logger };
    for (const options of listenerOptions(this.options.wamp)) {
      const endpoint = await WampEndpoint.open(this.router, options, () => this.sharedServer(), settings);
      this.endpoints.push(endpoint);
      if (endpoint.isOwnServer) this.logger.info(`listening wamp ${endpoint.url}`);
    }
    for (const options of rawSocketListenerOptions(this.options.rawsocket)) {
      const endpoint = await RawSocketEndpoint.open(this.router, options, () => this.sharedServer(), settings);
      this.rawSocketEndpoints.push(endpoint);
      if (endpoint.isOwnServer) this.logger.info(`listening rawsocket ${endpoint.url}`);
    }
    if (this.options.mqtt !== undefined && this.options.mqtt !== false) {
      this.mqttEndpoint = await MqttEndpoint.open(this.router, this.options.mqtt, this.defaultRealmName, () => this.sharedServer());
      if (this.mqttEndpoint.url !== undefined) this.logger.info(`listening mqtt ${this.mqttEndpoint.url}`);
    }
    this.started = true;
  }

  /** Every endpoint, for the steps of shutdown. */
  private allEndpoints(): (WampEndpoint | RawSocketEndpoint | MqttEndpoint)[] {
    return [...this.endpoints, ...this.rawSocketEndpoints, ...(this.mqttEndpoint === undefined ? [] : [this.mqttEndpoint])];
  }

  async onModuleDestroy(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    for (const endpoint of this.allEndpoints()) endpoint.stopAccepting();
    const timeoutMs = this.options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    if (!(await waitUntil(() => countInFlightCalls(this.router) === 0, timeoutMs))) {
      this.logger.warn(`shutdown: ${countInFlightCalls(this.router)} call(s) still in flight after ${timeoutMs} ms; closing anyway`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.router.closeAll(ErrorUri.systemShutdown, 'the router is shutting down');
    const open = () => this.allEndpoints().reduce((sum, endpoint) => sum + endpoint.connectionCount, 0);
    await waitUntil(() => open() === 0, this.options.shutdownTimeoutMs ?? DEFAULT_GOODBYE_TIMEOUT_MS);
    // Whoever has not answered GOODBYE by now is cut off, so Nest's HTTP server can close.
    for (const endpoint of this.allEndpoints()) endpoint.closeConnections();
  }

  async onApplicationShutdown(): Promise<void> {
    const endpoints = this.allEndpoints();
    this.endpoints = [];
    this.rawSocketEndpoints = [];
    this.mqttEndpoint = undefined;
    await Promise.all(endpoints.map((endpoint) => endpoint.closeServer()));
    await this.router.close();
  }

  private sharedServer(): Server {
    const server = this.httpAdapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
    if (server === undefined) {
      throw new Error(
        'FoxWampModule: this application has no HTTP server to attach WAMP to; give the listener a port of its own (wamp: { port }) or turn it off (wamp: false)',
      );
    }
    return server;
  }
}

function listenerReadiness(kind: ListenerReadiness['kind'], url: string | undefined): ListenerReadiness {
  return { kind, url, listening: url !== undefined };
}

/** `perRealm`, with the module's `schema` as the default realm's. */
function withDefaultRealmSchema(options: FoxWampModuleOptions, defaultRealm: string): FoxWampModuleOptions['perRealm'] {
  if (options.schema === undefined) return options.perRealm;
  return { ...options.perRealm, [defaultRealm]: { ...options.perRealm?.[defaultRealm], schema: options.schema } };
}

function listenerOptions(wamp: FoxWampModuleOptions['wamp']): readonly WampListenerOptions[] {
  if (wamp === false) return [];
  if (wamp === undefined) return [{}];
  return Array.isArray(wamp) ? wamp : [wamp as WampListenerOptions];
}

function rawSocketListenerOptions(rawsocket: FoxWampModuleOptions['rawsocket']): readonly RawSocketListenerOptions[] {
  if (rawsocket === undefined || rawsocket === false) return [];
  return Array.isArray(rawsocket) ? rawsocket : [rawsocket as RawSocketListenerOptions];
}
