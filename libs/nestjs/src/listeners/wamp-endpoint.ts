import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { HttpUpgradeRouter, WampWebSocketListener, type Router, type RouterLogger } from '@fox-wamp/core';
import { DEFAULT_WAMP_PATH } from '../fox-wamp.constants.js';
import type { WampListenerOptions } from '../interfaces/fox-wamp-options.interface.js';

/**
 * One WAMP-over-WebSocket endpoint: a path on Nest's HTTP(S) server, or on a server of its own port
 * (plain or TLS). Knows its URL and how to stop in the order shutdown needs.
 */
export class WampEndpoint {
  private constructor(
    private readonly listener: WampWebSocketListener,
    /** The HTTP(S) server the endpoint is attached to. */
    readonly server: Server,
    /** Whether the endpoint started that server itself (and closes it), as opposed to Nest's shared one. */
    readonly isOwnServer: boolean,
  ) {}

  /** Attaches to `sharedServer` (absent `port`) or listens on an own port. */
  static async open(
    router: Router,
    options: WampListenerOptions,
    sharedServer: () => Server,
    settings: { goodbyeTimeoutMs: number; logger: RouterLogger },
  ): Promise<WampEndpoint> {
    const own = options.port !== undefined;
    const server = own ? await listenOwnPort(options) : sharedServer();
    const listener = new WampWebSocketListener(
      router,
      server,
      {
        path: options.path ?? DEFAULT_WAMP_PATH,
        maxMessageSize: options.maxMessageSize,
        pingIntervalMs: options.pingIntervalMs,
        goodbyeTimeoutMs: settings.goodbyeTimeoutMs,
      },
      settings.logger,
    );
    return new WampEndpoint(listener, server, own);
  }

  get path(): string {
    return this.listener.path;
  }

  get connectionCount(): number {
    return this.listener.connectionCount;
  }

  /** `ws://host:port/path` (or `wss://`), once the server listens; undefined before. */
  get url(): string | undefined {
    const address = this.server.address() as AddressInfo | string | null;
    if (address === null || typeof address === 'string') return undefined;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const scheme = this.server instanceof TlsServer ? 'wss' : 'ws';
    return `${scheme}://${host}:${address.port}${this.listener.path}`;
  }

  /** New WebSocket upgrades at this path are refused (404); open connections carry on. */
  stopAccepting(): void {
    HttpUpgradeRouter.for(this.server).remove(this.listener.path);
  }

  /** Detaches from the server and terminates the connections still open. */
  closeConnections(): void {
    this.listener.close();
  }

  /** Closes the server if this endpoint started it (Nest closes its own). */
  async closeServer(): Promise<void> {
    if (!this.isOwnServer || !this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function listenOwnPort(options: WampListenerOptions): Promise<Server> {
  const notFound = (_request: unknown, response: ServerResponse) => {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };
  // An https server is what WebSocketServer and the upgrade router need of an http one: same events and API.
  const server = (options.https !== undefined ? createHttpsServer(options.https, notFound) : createHttpServer(notFound)) as Server;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
