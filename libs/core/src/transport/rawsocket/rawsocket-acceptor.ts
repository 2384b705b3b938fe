import type { Socket } from 'node:net';
import type { RouterLogger } from '../../router/logger.js';
import type { Router } from '../../router/router.js';
import { serializerFor } from '../../wamp/serializers/index.js';
import {
  HANDSHAKE_LENGTH,
  HandshakeError,
  handshakeErrorReply,
  handshakeReply,
  lengthExponentFor,
  maxMessageForExponent,
  parseHandshakeRequest,
  type HandshakeErrorCode,
} from './rawsocket-handshake.js';
import { RawSocketTransport } from './rawsocket-transport.js';

export interface WampRawSocketOptions {
  /**
   * Largest accepted message in bytes (default 16 MiB). The handshake can only announce powers of two from
   * 512 B to 16 MiB, so we announce, and enforce, the largest power of two that does not exceed it.
   */
  readonly maxMessageSize?: number;
  /**
   * Interval of keep-alive PINGs in ms; a client that sends nothing for a whole interval is dropped. 0 (the
   * default) turns them off: autobahn-python 22.7's RawSocket client cannot answer a PING and fails. TCP
   * keep-alive is always on.
   */
  readonly pingIntervalMs?: number;
  /** Bytes that may wait in one connection's send buffer before that (too slow) client is dropped. */
  readonly maxBufferedBytes?: number;
  /** How long to wait for the client's GOODBYE after the router's, and for its side to close (ms). */
  readonly goodbyeTimeoutMs?: number;
  /** How long a client may take to send its four handshake octets (ms). */
  readonly handshakeTimeoutMs?: number;
  /** Open RawSocket connections allowed at once; beyond, the handshake is refused ("maximum connection count reached"). 0: no limit. */
  readonly maxConnections?: number;
}

export const WAMP_RAWSOCKET_DEFAULTS = {
  maxMessageSize: 16 * 1024 * 1024,
  pingIntervalMs: 0,
  maxBufferedBytes: 64 * 1024 * 1024,
  goodbyeTimeoutMs: 2_000,
  handshakeTimeoutMs: 10_000,
  maxConnections: 0,
} as const;

/** How often TCP probes an idle connection, so that a vanished peer is noticed without WAMP traffic. */
const TCP_KEEPALIVE_DELAY_MS = 30_000;

/**
 * Accepts WAMP-over-RawSocket connections on sockets it is given (by its own TCP listener, or by the sniffer
 * of a shared HTTP port): runs the opening handshake, then hands each connection a `WampConnection`.
 * Handshake errors are answered as the spec says and the socket is closed; nobody else is affected.
 */
export class WampRawSocketAcceptor {
  private readonly settings: Required<WampRawSocketOptions>;
  private readonly lengthExponent: number;
  /** Sockets still in the handshake. */
  private readonly handshaking = new Set<Socket>();
  private readonly transports = new Set<RawSocketTransport>();
  private readonly pingTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly router: Router,
    options: WampRawSocketOptions = {},
    private readonly logger: RouterLogger = router.logger,
  ) {
    this.settings = { ...WAMP_RAWSOCKET_DEFAULTS, ...withoutUndefined(options) };
    this.lengthExponent = lengthExponentFor(this.settings.maxMessageSize);
    if (this.settings.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => {
        for (const transport of this.transports) transport.keepAlive();
      }, this.settings.pingIntervalMs);
      this.pingTimer.unref();
    }
  }

  /** The largest message we accept, as announced in our handshake replies. */
  get maxMessageSize(): number {
    return maxMessageForExponent(this.lengthExponent);
  }

  /** Open WAMP connections (handshake done). */
  get connectionCount(): number {
    return this.transports.size;
  }

  /**
   * Takes over a socket whose client speaks RawSocket. `received` are bytes already read from it (the
   * sniffer's first chunk); the socket must not be paused.
   */
  accept(socket: Socket, received?: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    // Errors (a reset, a write after the peer left) end in 'close', which does the cleanup; without a listener
    // they would crash the process.
    socket.on('error', (error) => this.logger.debug('RawSocket connection error', { remoteAddress: socket.remoteAddress, error: error.message }));
    this.handshaking.add(socket);
    let pending = received ?? Buffer.alloc(0);
    const timer = setTimeout(() => {
      this.logger.info('closing a RawSocket connection that sent no handshake in time', { remoteAddress: socket.remoteAddress });
      socket.destroy();
    }, this.settings.handshakeTimeoutMs);
    timer.unref();
    const onData = (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (pending.length < HANDSHAKE_LENGTH) return;
      finish();
      this.handshake(socket, pending.subarray(0, HANDSHAKE_LENGTH), pending.subarray(HANDSHAKE_LENGTH));
    };
    const finish = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', finish);
      this.handshaking.delete(socket);
    };
    socket.on('close', finish);
    if (pending.length >= HANDSHAKE_LENGTH) {
      finish();
      this.handshake(socket, pending.subarray(0, HANDSHAKE_LENGTH), pending.subarray(HANDSHAKE_LENGTH));
    } else {
      socket.on('data', onData);
    }
  }

  /** Terminates every connection, open or still in its handshake, and accepts no more. */
  close(): void {
    this.closed = true;
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    for (const socket of this.handshaking) socket.destroy();
    for (const transport of this.transports) transport.terminate();
  }

  private handshake(socket: Socket, octets: Buffer, rest: Buffer): void {
    const request = parseHandshakeRequest(octets);
    if (!request.ok) {
      if (request.notRawSocket) {
        // Not a RawSocket client at all (an HTTP request on a RawSocket-only port): the spec says fail it.
        this.logger.info('closing a connection that is not RawSocket', { remoteAddress: socket.remoteAddress, firstByte: octets[0] });
        socket.destroy();
        return;
      }
      this.logger.info('refusing a RawSocket handshake', { remoteAddress: socket.remoteAddress, reason: request.reason });
      this.refuse(socket, request.error);
      return;
    }
    const limit = this.settings.maxConnections;
    if (limit > 0 && this.transports.size >= limit) {
      this.logger.warn('refusing a RawSocket connection: maximum connection count reached', { remoteAddress: socket.remoteAddress, limit });
      this.refuse(socket, HandshakeError.maxConnectionsReached);
      return;
    }
    socket.write(handshakeReply(request.serializerCode, this.lengthExponent));
    const transport = new RawSocketTransport(
      socket,
      this.router,
      {
        serializer: serializerFor(request.serializer),
        peerMaxMessage: request.peerMaxMessage,
        ownMaxMessage: this.maxMessageSize,
        maxBufferedBytes: this.settings.maxBufferedBytes,
        goodbyeTimeoutMs: this.settings.goodbyeTimeoutMs,
      },
      this.logger,
      () => this.transports.delete(transport),
    );
    this.transports.add(transport);
    if (rest.length > 0) transport.receive(rest);
  }

  /** Sends a handshake error reply and closes; a client that keeps its side open is cut off later. */
  private refuse(socket: Socket, error: HandshakeErrorCode): void {
    socket.end(handshakeErrorReply(error));
    const timer = setTimeout(() => socket.destroy(), this.settings.goodbyeTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
