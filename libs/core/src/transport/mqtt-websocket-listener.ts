import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { MqttGate } from '../mqtt/mqtt-gate.js';
import { WebSocketMqttTransport } from '../mqtt/mqtt-transport.js';
import { HttpUpgradeRouter, rejectUpgrade } from './http-upgrade-router.js';
import { WriteCorker } from './write-corker.js';

/** The WebSocket subprotocols of MQTT: `mqtt` (3.1.1 and 5) and `mqttv3.1` (3.1). */
const MQTT_SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

/** MQTT over WebSocket on a path of an HTTP server (MQTT 5 section 6): binary messages, subprotocol `mqtt`. */
export class MqttWebSocketListener {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();

  constructor(
    private readonly gate: MqttGate,
    private readonly server: Server,
    readonly path: string,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: gate.settings.maxPacketSize + 8,
      perMessageDeflate: false,
      handleProtocols: (protocols) => MQTT_SUBPROTOCOLS.find((protocol) => protocols.has(protocol)) ?? false,
    });
    HttpUpgradeRouter.for(server).add(path, (request, socket, head) => this.upgrade(request, socket, head));
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  stopAccepting(): void {
    HttpUpgradeRouter.for(this.server).remove(this.path);
  }

  closeConnections(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  close(): void {
    this.stopAccepting();
    this.closeConnections();
    this.wss.close();
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((item) => item.trim());
    if (!offered.some((protocol) => MQTT_SUBPROTOCOLS.includes(protocol))) {
      // MQTT-6.0.0-3/4: the client offers `mqtt`; without it this is not an MQTT client.
      rejectUpgrade(socket, 400, 'MQTT over WebSocket needs the subprotocol mqtt');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      request.socket.setNoDelay(true);
      this.gate.accept(new WebSocketMqttTransport(ws, request.socket.remoteAddress, new WriteCorker(request.socket)));
    });
  }
}
