import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { WampRawSocketAcceptor } from './rawsocket-acceptor.js';
import { RAWSOCKET_MAGIC } from './rawsocket-handshake.js';

type ConnectionListener = (socket: Socket) => void;

/** How long a connection on the shared port may stay silent when the HTTP server sets no headers timeout. */
const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 60_000;

const sharedServers = new WeakSet<HttpServer>();

/**
 * Lets WAMP RawSocket share a plain HTTP server's port: each new connection's first octet decides. 0x7F (which
 * no HTTP request starts with) goes to `acceptor`; anything else goes, untouched, to the HTTP server as if it
 * had accepted the connection itself (keep-alive, upgrades and timeouts work as before).
 *
 * Works by standing in for the server's own `connection` listeners, so call it before the server accepts
 * connections. A connection that sends nothing is closed after the server's `headersTimeout`. Returns a
 * function that restores the server's listeners (connections already handed over are not affected).
 * @throws Error for a TLS server (its connections are encrypted from the first octet) or a server already shared.
 */
export function shareHttpPortWithRawSocket(server: HttpServer, acceptor: WampRawSocketAcceptor): () => void {
  if (server instanceof TlsServer) throw new Error('RawSocket can share a plain HTTP port only, not an HTTPS one');
  if (sharedServers.has(server)) throw new Error('RawSocket already shares this HTTP server');
  sharedServers.add(server);
  const httpListeners = server.rawListeners('connection') as ConnectionListener[];
  for (const listener of httpListeners) server.off('connection', listener);
  const firstByteTimeoutMs = server.headersTimeout > 0 ? server.headersTimeout : DEFAULT_FIRST_BYTE_TIMEOUT_MS;

  const sniff = (socket: Socket) => {
    const onError = () => {}; // until someone takes the socket, its errors (a reset) just end in 'close'
    const timer = setTimeout(() => socket.destroy(), firstByteTimeoutMs);
    timer.unref();
    const handOver = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', handOver);
    };
    socket.on('error', onError);
    socket.once('close', handOver);
    socket.once('data', (chunk: Buffer) => {
      handOver();
      if (chunk[0] === RAWSOCKET_MAGIC) {
        acceptor.accept(socket, chunk);
        return;
      }
      // Put the bytes back and let the HTTP server take the connection as if it had just been accepted. The
      // socket is paused meanwhile so the bytes wait for the server's own reader, then flow to it first.
      socket.pause();
      socket.unshift(chunk);
      for (const listener of httpListeners) listener.call(server, socket);
      socket.resume();
    });
  };
  server.on('connection', sniff);

  return () => {
    server.off('connection', sniff);
    for (const listener of httpListeners) server.on('connection', listener);
    sharedServers.delete(server);
  };
}
