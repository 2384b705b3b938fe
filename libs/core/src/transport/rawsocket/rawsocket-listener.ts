import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { RouterLogger } from '../../router/logger.js';
import type { Router } from '../../router/router.js';
import { WampRawSocketAcceptor, type WampRawSocketOptions } from './rawsocket-acceptor.js';

export interface WampRawSocketListenOptions extends WampRawSocketOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Interface (default `127.0.0.1`). */
  readonly host?: string;
}

/**
 * WAMP over RawSocket on a TCP port of its own. A connection whose first octet is not 0x7F is closed (this
 * port speaks nothing else).
 */
export class WampRawSocketListener {
  private serverClosed: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    readonly acceptor: WampRawSocketAcceptor,
  ) {}

  /** Listens; rejects with the `listen` error (`EADDRINUSE`, ...) when the port cannot be had. */
  static async listen(router: Router, options: WampRawSocketListenOptions, logger: RouterLogger = router.logger): Promise<WampRawSocketListener> {
    const acceptor = new WampRawSocketAcceptor(router, options, logger);
    const server = createServer((socket: Socket) => acceptor.accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host ?? '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      acceptor.close();
      throw error;
    }
    server.on('error', (error) => logger.error('RawSocket listener error', { error: error.message }));
    return new WampRawSocketListener(server, acceptor);
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** `tcp://host:port`. */
  get url(): string {
    const { address, family, port } = this.address;
    return `tcp://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  }

  get connectionCount(): number {
    return this.acceptor.connectionCount;
  }

  /** Stops accepting new connections; open ones carry on. */
  stopAccepting(): void {
    void this.stopServer();
  }

  /** Terminates the open connections (their sessions should have said GOODBYE first). */
  closeConnections(): void {
    this.acceptor.close();
  }

  /** Stops accepting, terminates what is open, and resolves when the port is released. */
  async close(): Promise<void> {
    const closed = this.stopServer();
    this.acceptor.close();
    await closed;
  }

  /** Closes the server once; resolves when it and all its connections are closed. */
  private stopServer(): Promise<void> {
    this.serverClosed ??= new Promise<void>((resolve) => this.server.close(() => resolve()));
    return this.serverClosed;
  }
}
