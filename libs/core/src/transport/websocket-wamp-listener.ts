import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { RouterLogger } from '../router/logger.js';
import type { Router } from '../router/router.js';
import { serializerForSubprotocol } from '../wamp/serializers/index.js';
import { WampConnection } from '../wamp/wamp-connection.js';
import type { WampTransport } from '../wamp/wamp-transport.js';
import { HttpUpgradeRouter, rejectUpgrade } from './http-upgrade-router.js';
import { WriteCorker } from './write-corker.js';

export interface WampWebSocketOptions {
  /** Path on the HTTP server, e.g. `/ws`. */
  readonly path: string;
  /** Largest accepted message in bytes; a larger frame closes that connection with 1009. */
  readonly maxMessageSize?: number;
  /** WebSocket ping interval in ms; a peer that misses a whole interval is dropped. 0 turns it off. */
  readonly pingIntervalMs?: number;
  /**
   * Bytes that may wait in one connection's send buffer. A subscriber that reads slower than it is sent to
   * is disconnected when it passes this (overflow policy "disconnect"), so memory stays bounded.
   */
  readonly maxBufferedBytes?: number;
  /** How long to wait for the client's GOODBYE after the router's (ms). */
  readonly goodbyeTimeoutMs?: number;
}

export const WAMP_WEBSOCKET_DEFAULTS = {
  maxMessageSize: 16 * 1024 * 1024,
  pingIntervalMs: 30_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  goodbyeTimeoutMs: 2_000,
} as const;

/**
 * WAMP over WebSocket on a path of an HTTP server (ours or the application's), with the subprotocols of
 * the serializers we ship. Returns a handle that detaches it and closes its connections.
 */
export class WampWebSocketListener {
  private readonly wss: WebSocketServer;
  /** Open sockets, each with whether it answered the last ping. */
  private readonly connections = new Map<WebSocket, { alive: boolean; remoteAddress?: string }>();
  private readonly pingTimer: NodeJS.Timeout | undefined;
  private readonly settings: Required<WampWebSocketOptions>;

  constructor(
    private readonly router: Router,
    private readonly server: Server,
    options: WampWebSocketOptions,
    private readonly logger: RouterLogger = router.logger,
  ) {
    this.settings = { ...WAMP_WEBSOCKET_DEFAULTS, ...options };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.settings.maxMessageSize,
      perMessageDeflate: false,
      handleProtocols: (protocols) => pickSubprotocol(protocols) ?? false,
    });
    HttpUpgradeRouter.for(server).add(this.settings.path, (request, socket, head) => this.upgrade(request, socket, head));
    if (this.settings.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.ping(), this.settings.pingIntervalMs);
      this.pingTimer.unref();
    }
  }

  get path(): string {
    return this.settings.path;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting connections and terminates the open ones (sessions should have said GOODBYE first). */
  close(): void {
    HttpUpgradeRouter.for(this.server).remove(this.settings.path);
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    for (const socket of this.connections.keys()) socket.terminate();
    this.wss.close();
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = parseSubprotocols(request.headers['sec-websocket-protocol']);
    if (offered.size > 0 && pickSubprotocol(offered) === undefined) {
      rejectUpgrade(socket, 400, `unsupported WebSocket subprotocol(s) ${[...offered].join(', ')}; use wamp.2.json, wamp.2.msgpack or wamp.2.cbor`);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request));
  }

  private accept(ws: WebSocket, request: IncomingMessage): void {
    // No subprotocol offered at all: JSON, the one every WAMP client speaks.
    const serializer = serializerForSubprotocol(ws.protocol || 'wamp.2.json')!;
    const settings = this.settings;
    const remoteAddress = request.socket.remoteAddress;
    request.socket.setNoDelay(true);
    const corker = new WriteCorker(request.socket);
    // One options object for every send (ws reads it, never keeps it). JSON frames come as their UTF-8 bytes
    // (`textAsBytes`) and still go out as text frames: ws then neither measures nor converts them per send.
    const sendOptions = { binary: serializer.binary };
    const transport: WampTransport = {
      serializer,
      kind: 'websocket',
      remoteAddress,
      textAsBytes: true,
      send: (frame) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (ws.bufferedAmount > settings.maxBufferedBytes) {
          this.logger.warn('dropping a WAMP connection whose send buffer is full', { remoteAddress, bufferedAmount: ws.bufferedAmount });
          this.router.metrics.overflow('wamp', 'disconnected');
          ws.terminate();
          return;
        }
        corker.hold();
        ws.send(frame, sendOptions);
      },
      bufferedBytes: () => ws.bufferedAmount,
      close: (protocolError) => {
        if (ws.readyState === WebSocket.OPEN) ws.close(protocolError ? 1002 : 1000);
      },
    };
    const connection = new WampConnection(this.router, transport, settings, this.logger);
    const entry = { alive: true, remoteAddress };
    this.connections.set(ws, entry);
    // A text frame is handed on as a string (and its size in bytes, which the metrics count).
    ws.on('message', (data: Buffer, isBinary) => (isBinary ? connection.receive(data) : connection.receive(data.toString('utf8'), data.length)));
    ws.on('pong', () => {
      entry.alive = true;
    });
    ws.on('error', (error) => this.logger.info('WebSocket error', { remoteAddress, error: error.message }));
    ws.on('close', () => {
      this.connections.delete(ws);
      connection.transportClosed();
    });
  }

  private ping(): void {
    for (const [ws, entry] of this.connections) {
      if (!entry.alive) {
        this.logger.info('dropping a WAMP connection that missed its ping', { remoteAddress: entry.remoteAddress });
        ws.terminate();
        continue;
      }
      entry.alive = false;
      ws.ping();
    }
  }
}

function parseSubprotocols(header: string | undefined): Set<string> {
  if (header === undefined) return new Set();
  return new Set(header.split(',').map((item) => item.trim()).filter((item) => item.length > 0));
}

/** The first subprotocol in the client's list that we speak (the client's preference wins). */
function pickSubprotocol(offered: Set<string>): string | undefined {
  for (const protocol of offered) if (serializerForSubprotocol(protocol) !== undefined) return protocol;
  return undefined;
}

