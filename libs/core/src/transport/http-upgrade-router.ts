import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

const routers = new WeakMap<Server, HttpUpgradeRouter>();

/**
 * Routes WebSocket upgrade requests of one HTTP server by path, so WAMP, MQTT-over-WebSocket and whatever
 * else the application attaches can share the port. A request for a path nobody claimed is answered 404,
 * unless the application has upgrade listeners of its own (then it is theirs to answer).
 */
export class HttpUpgradeRouter {
  private readonly handlers = new Map<string, UpgradeHandler>();

  private constructor(private readonly server: Server) {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.route(request, socket, head));
  }

  static for(server: Server): HttpUpgradeRouter {
    let router = routers.get(server);
    if (router === undefined) {
      router = new HttpUpgradeRouter(server);
      routers.set(server, router);
    }
    return router;
  }

  add(path: string, handler: UpgradeHandler): void {
    if (this.handlers.has(path)) throw new Error(`a WebSocket endpoint is already attached at ${path}`);
    this.handlers.set(path, handler);
  }

  remove(path: string): void {
    this.handlers.delete(path);
  }

  private route(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = pathOf(request.url);
    const handler = this.handlers.get(path);
    if (handler !== undefined) {
      handler(request, socket, head);
      return;
    }
    if (this.server.listenerCount('upgrade') === 1) rejectUpgrade(socket, 404, `no WebSocket endpoint at ${path}`);
  }
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = status === 404 ? 'Not Found' : status === 400 ? 'Bad Request' : 'Error';
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
