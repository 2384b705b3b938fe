import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MqttGate, MqttTcpListener, MqttWebSocketListener, type Router } from '@fox-wamp/core';
import { DEFAULT_MQTT_WS_PATH } from '../fox-wamp.constants.js';
import type { MqttListenerOptions } from '../interfaces/fox-wamp-options.interface.js';

/**
 * The MQTT gate with its listeners: a TCP port of its own and/or a WebSocket path on Nest's HTTP server.
 * Sessions end through the router (GOODBYE time: `closeAll` reaches MQTT sessions too, which hear DISCONNECT
 * 0x8B); this object stops the listeners in the order shutdown needs.
 */
export class MqttEndpoint {
  /** Until shutdown stops the listeners: their URLs are undefined from then on. */
  private accepting = true;

  private constructor(
    readonly gate: MqttGate,
    private readonly tcp: MqttTcpListener | undefined,
    private readonly webSocket: MqttWebSocketListener | undefined,
    private readonly sharedServer: Server | undefined,
  ) {}

  static async open(router: Router, options: MqttListenerOptions, defaultRealm: string, sharedServer: () => Server): Promise<MqttEndpoint> {
    const { port, host, path, ...gateOptions } = options;
    const gate = new MqttGate(router, { defaultRealm, ...gateOptions });
    const tcp = port === undefined ? undefined : await MqttTcpListener.listen(gate, { port, ...(host === undefined ? {} : { host }) });
    const server = path === false ? undefined : sharedServer();
    const webSocket = server === undefined ? undefined : new MqttWebSocketListener(gate, server, path || DEFAULT_MQTT_WS_PATH);
    return new MqttEndpoint(gate, tcp, webSocket, server);
  }

  get hasTcp(): boolean {
    return this.tcp !== undefined;
  }

  get hasWebSocket(): boolean {
    return this.webSocket !== undefined;
  }

  /** `mqtt://host:port` of the TCP listener; undefined without one, and once it stopped accepting. */
  get url(): string | undefined {
    return this.accepting ? this.tcp?.url : undefined;
  }

  /** `ws://host:port/path` on Nest's server, once it listens; undefined before or without one. */
  get webSocketUrl(): string | undefined {
    if (this.webSocket === undefined || !this.accepting) return undefined;
    const address = this.sharedServer!.address() as AddressInfo | string | null;
    if (address === null || typeof address === 'string') return undefined;
    return `ws://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}${this.webSocket.path}`;
  }

  get connectionCount(): number {
    return this.gate.connectionCount;
  }

  stopAccepting(): void {
    this.accepting = false;
    this.tcp?.stopAccepting();
    this.webSocket?.stopAccepting();
  }

  closeConnections(): void {
    this.gate.close();
    this.tcp?.closeConnections();
    this.webSocket?.closeConnections();
  }

  async closeServer(): Promise<void> {
    await this.tcp?.close();
    this.webSocket?.close();
  }
}
