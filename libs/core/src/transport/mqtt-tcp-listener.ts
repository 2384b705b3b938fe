import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { MqttGate } from '../mqtt/mqtt-gate.js';
import { TcpMqttTransport } from '../mqtt/mqtt-transport.js';

export interface MqttTcpListenOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Interface (default `127.0.0.1`). */
  readonly host?: string;
}

/** MQTT over TCP on a port of its own. */
export class MqttTcpListener {
  private serverClosed: Promise<void> | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  /** Listens; rejects with the `listen` error (`EADDRINUSE`, ...) when the port cannot be had. */
  static async listen(gate: MqttGate, options: MqttTcpListenOptions): Promise<MqttTcpListener> {
    const server = createServer();
    const listener = new MqttTcpListener(server);
    server.on('connection', (socket: Socket) => {
      listener.sockets.add(socket);
      socket.on('close', () => listener.sockets.delete(socket));
      gate.accept(new TcpMqttTransport(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => gate.logger.error('MQTT listener error', { error: error.message }));
    return listener;
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** `mqtt://host:port`. */
  get url(): string {
    const { address, family, port } = this.address;
    return `mqtt://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Stops accepting new connections; open ones carry on. */
  stopAccepting(): void {
    void this.stopServer();
  }

  /** Terminates the open connections. */
  closeConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    const closed = this.stopServer();
    this.closeConnections();
    await closed;
  }

  private stopServer(): Promise<void> {
    this.serverClosed ??= new Promise<void>((resolve) => this.server.close(() => resolve()));
    return this.serverClosed;
  }
}
