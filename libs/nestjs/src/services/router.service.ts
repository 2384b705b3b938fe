import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Inject,
  Injectable,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ErrorUri, Router, WampWebSocketListener, type Realm, type RouterLogger } from '@fox-wamp/core';
import { FOX_WAMP_OPTIONS } from '../fox-wamp.module-definition.js';
import type { FoxWampModuleOptions } from '../interfaces/fox-wamp-options.interface.js';
import { nestRouterLogger } from '../nest-router-logger.js';

const DEFAULT_REALM = 'realm1';
const DEFAULT_WAMP_PATH = '/ws';

/**
 * Owns the router and its listeners for the application's lifetime: listeners open at bootstrap; on
 * shutdown every session gets GOODBYE `wamp.close.system_shutdown`, then the listeners close.
 */
@Injectable()
export class RouterService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly router: Router;
  readonly logger: RouterLogger;
  private wampListener: WampWebSocketListener | undefined;
  private ownServer: Server | undefined;

  constructor(
    @Inject(FOX_WAMP_OPTIONS) private readonly options: FoxWampModuleOptions,
    @Optional() private readonly httpAdapterHost?: HttpAdapterHost,
  ) {
    this.logger = options.logger ?? nestRouterLogger();
    const realms = options.realms ?? [options.defaultRealm ?? DEFAULT_REALM];
    this.router = new Router({
      realms,
      autoRealms: options.autoRealms ?? false,
      realmOptions: { uriCheck: options.uriCheck ?? 'loose' },
      logger: this.logger,
    });
    const defaultRealm = options.defaultRealm ?? realms[0] ?? DEFAULT_REALM;
    this.router.addRealm(defaultRealm);
    this.defaultRealmName = defaultRealm;
  }

  readonly defaultRealmName: string;

  get defaultRealm(): Realm {
    return this.router.getRealm(this.defaultRealmName)!;
  }

  /** A realm by name; created when auto-realms is on, otherwise an error for an unknown name. */
  realm(name: string): Realm {
    const realm = this.router.resolveRealm(name);
    if (realm === undefined) throw new Error(`FoxWampModule: no realm named ${name}`);
    return realm;
  }

  /** The HTTP server WAMP is attached to (Nest's own, or a server of its own port). */
  get wampServer(): Server | undefined {
    return this.ownServer ?? (this.wampListener ? (this.httpAdapterHost?.httpAdapter?.getHttpServer() as Server) : undefined);
  }

  /** `ws://host:port/path` of the WAMP listener, once its server listens. */
  wampUrl(): string | undefined {
    const address = this.wampServer?.address() as AddressInfo | null | undefined;
    if (!address || !this.wampListener) return undefined;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `ws://${host}:${address.port}${this.wampListener.path}`;
  }

  async onApplicationBootstrap(): Promise<void> {
    const wamp = this.options.wamp;
    if (wamp === false) return;
    const path = wamp?.path ?? DEFAULT_WAMP_PATH;
    const server = wamp?.port !== undefined ? await this.listenOwnPort(wamp.port, wamp.host ?? '127.0.0.1') : this.sharedServer();
    this.wampListener = new WampWebSocketListener(this.router, server, {
      path,
      maxMessageSize: wamp?.maxMessageSize,
      pingIntervalMs: wamp?.pingIntervalMs,
      goodbyeTimeoutMs: this.options.shutdownTimeoutMs,
    }, this.logger);
    if (this.ownServer) this.logger.info(`listening wamp ${this.wampUrl()}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.router.closeAll(ErrorUri.systemShutdown, 'the router is shutting down');
    await this.waitForConnectionsToClose(this.options.shutdownTimeoutMs ?? 2_000);
  }

  async onApplicationShutdown(): Promise<void> {
    this.wampListener?.close();
    this.wampListener = undefined;
    if (this.ownServer) {
      const server = this.ownServer;
      this.ownServer = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private sharedServer(): Server {
    const server = this.httpAdapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
    if (server === undefined) {
      throw new Error('FoxWampModule: this application has no HTTP server to attach WAMP to; set options.wamp.port to give WAMP a port of its own');
    }
    return server;
  }

  private listenOwnPort(port: number, host: string): Promise<Server> {
    const server = createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        this.ownServer = server;
        resolve(server);
      });
    });
  }

  /** Clients answer GOODBYE and close; wait for that, but no longer than `timeoutMs`. */
  private async waitForConnectionsToClose(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.wampListener?.connectionCount ?? 0) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
