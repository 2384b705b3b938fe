import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  shareHttpPortWithRawSocket,
  WampRawSocketAcceptor,
  WampRawSocketListener,
  type Router,
  type RouterLogger,
  type WampRawSocketOptions,
} from '@fox-wamp/core';
import type { RawSocketListenerOptions } from '../interfaces/fox-wamp-options.interface.js';

/**
 * One WAMP-over-RawSocket endpoint: a TCP port of its own, or Nest's plain HTTP port shared by first octet
 * (0x7F is RawSocket, anything else HTTP). Knows its URL and how to stop in the order shutdown needs.
 */
export class RawSocketEndpoint {
  /** Until shutdown stops the listener: its URL is undefined from then on. */
  private accepting = true;

  private constructor(
    private readonly acceptor: WampRawSocketAcceptor,
    /** The own-port listener, or undefined when sharing Nest's HTTP server. */
    private readonly listener: WampRawSocketListener | undefined,
    private readonly sharedServer: Server | undefined,
    /** Gives the shared HTTP server its own connection handling back. */
    private detach: (() => void) | undefined,
  ) {}

  static async open(
    router: Router,
    options: RawSocketListenerOptions,
    sharedServer: () => Server,
    settings: { goodbyeTimeoutMs: number; logger: RouterLogger },
  ): Promise<RawSocketEndpoint> {
    const acceptorOptions: WampRawSocketOptions = {
      maxMessageSize: options.maxMessageSize,
      pingIntervalMs: options.pingIntervalMs,
      goodbyeTimeoutMs: settings.goodbyeTimeoutMs,
    };
    if (options.port !== undefined) {
      const listener = await WampRawSocketListener.listen(router, { ...acceptorOptions, port: options.port, host: options.host }, settings.logger);
      return new RawSocketEndpoint(listener.acceptor, listener, undefined, undefined);
    }
    const server = sharedServer();
    const acceptor = new WampRawSocketAcceptor(router, acceptorOptions, settings.logger);
    return new RawSocketEndpoint(acceptor, undefined, server, shareHttpPortWithRawSocket(server, acceptor));
  }

  get isOwnServer(): boolean {
    return this.listener !== undefined;
  }

  /** `tcp://host:port`, once the port listens (Nest's: after `app.listen`); undefined before, and once it stopped accepting. */
  get url(): string | undefined {
    if (!this.accepting) return undefined;
    if (this.listener !== undefined) return this.listener.url;
    const address = this.sharedServer!.address() as AddressInfo | string | null;
    if (address === null || typeof address === 'string') return undefined;
    return `tcp://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  }

  get connectionCount(): number {
    return this.acceptor.connectionCount;
  }

  /** New RawSocket connections are refused (a shared port treats them as HTTP again); open ones carry on. */
  stopAccepting(): void {
    this.accepting = false;
    this.listener?.stopAccepting();
    this.detach?.();
    this.detach = undefined;
  }

  /** Terminates the connections still open. */
  closeConnections(): void {
    this.acceptor.close();
  }

  /** Releases an own port (Nest closes its HTTP server itself). */
  async closeServer(): Promise<void> {
    await this.listener?.close();
  }
}
