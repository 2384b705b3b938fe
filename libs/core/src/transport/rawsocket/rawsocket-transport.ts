import type { Socket } from 'node:net';
import type { RouterLogger } from '../../router/logger.js';
import type { Router } from '../../router/router.js';
import type { RouterMetrics } from '../../observability/router-metrics.js';
import type { WampSerializer } from '../../wamp/serializer.js';
import { WampConnection } from '../../wamp/wamp-connection.js';
import type { WampTransport } from '../../wamp/wamp-transport.js';
import { FRAME_HEADER_LENGTH, FrameType, RawSocketFrameDecoder, RawSocketProtocolError, type FrameSink, writeFrameHeader } from './rawsocket-framing.js';
import { WriteCorker } from '../write-corker.js';

/** What one RawSocket connection needs to know once its handshake has succeeded. */
export interface RawSocketTransportSettings {
  readonly serializer: WampSerializer;
  /** The largest message the client accepts (its handshake); we never send a larger one. */
  readonly peerMaxMessage: number;
  /** The largest message we accept (our handshake reply); a larger frame fails the connection. */
  readonly ownMaxMessage: number;
  /** Bytes that may wait in the socket's send buffer before the connection is dropped (a too slow reader). */
  readonly maxBufferedBytes: number;
  readonly goodbyeTimeoutMs: number;
}

/**
 * One WAMP connection over RawSocket after a successful handshake: frames in, WAMP messages to a
 * `WampConnection`, PINGs answered with PONGs; WAMP messages out, framed.
 */
export class RawSocketTransport implements WampTransport, FrameSink {
  readonly kind = 'rawsocket';
  /** Every message travels in a frame with a 4-octet prefix. */
  readonly framingBytes = FRAME_HEADER_LENGTH;
  readonly serializer: WampSerializer;
  readonly remoteAddress: string | undefined;
  private readonly decoder: RawSocketFrameDecoder;
  private readonly connection: WampConnection;
  /** Set once we stop sending: after `close`, a protocol error, or the socket's end. */
  private closing = false;
  /** Whether the peer sent anything since the last keep-alive PING (any frame shows it is there). */
  private heardFrom = true;
  private pingCount = 0;
  /** Cuts off a peer that does not close its side after our `close`. */
  private closeTimer: NodeJS.Timeout | undefined;
  /** Frames sent within one event-loop turn leave in one write. */
  private readonly corker: WriteCorker;
  private readonly metrics: RouterMetrics;

  constructor(
    private readonly socket: Socket,
    router: Router,
    private readonly settings: RawSocketTransportSettings,
    private readonly logger: RouterLogger,
    onClosed: () => void,
  ) {
    this.serializer = settings.serializer;
    this.remoteAddress = socket.remoteAddress;
    this.corker = new WriteCorker(socket);
    this.metrics = router.metrics;
    this.decoder = new RawSocketFrameDecoder(settings.ownMaxMessage, this);
    this.connection = new WampConnection(router, this, { goodbyeTimeoutMs: settings.goodbyeTimeoutMs }, logger);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // Sockets of an HTTP server allow half-open connections; when the client is done, so are we.
    socket.on('end', () => this.close());
    socket.once('close', () => {
      this.closing = true;
      this.decoder.stop();
      clearTimeout(this.closeTimer);
      this.connection.transportClosed();
      onClosed();
    });
  }

  /** Bytes from the socket (the first ones may come from whoever read the handshake). */
  receive(chunk: Buffer): void {
    try {
      this.decoder.push(chunk);
    } catch (error) {
      // A framing error is the peer's fault; anything else is ours. Either way it costs this connection only.
      if (error instanceof RawSocketProtocolError) {
        this.logger.info('closing a RawSocket connection that broke the framing rules', { remoteAddress: this.remoteAddress, reason: error.message });
      } else {
        this.logger.error('unexpected error while reading a RawSocket connection', { remoteAddress: this.remoteAddress, error: String(error) });
      }
      this.terminate();
    }
  }

  // FrameSink

  frame(type: FrameType, payload: Buffer): void {
    this.heardFrom = true;
    switch (type) {
      case FrameType.message:
        this.connection.receive(payload);
        return;
      case FrameType.ping:
        // The spec: exactly one PONG, at once, echoing the payload.
        this.write(FrameType.pong, payload);
        return;
      case FrameType.pong:
        return;
    }
  }

  // WampTransport

  send(frame: string | Buffer): void {
    if (this.closing) return;
    const length = typeof frame === 'string' ? Buffer.byteLength(frame, 'utf8') : frame.length;
    if (length > this.settings.peerMaxMessage) {
      this.logger.warn('closing a RawSocket connection: a message is longer than the client accepts', {
        remoteAddress: this.remoteAddress,
        length,
        clientMaximum: this.settings.peerMaxMessage,
      });
      this.close();
      return;
    }
    this.write(FrameType.message, frame, length);
  }

  bufferedBytes(): number {
    return this.socket.writableLength;
  }

  /** Ends the connection after what is queued has been sent; a peer that does not close is cut off later. */
  close(): void {
    if (this.closeTimer !== undefined || this.socket.destroyed) return;
    this.closing = true;
    this.decoder.stop();
    this.socket.end();
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.settings.goodbyeTimeoutMs);
    this.closeTimer.unref();
  }

  /** Keep-alive: drops a peer that sent nothing since the previous call, and PINGs the others. */
  keepAlive(): void {
    if (this.closing) return;
    if (!this.heardFrom) {
      this.logger.info('dropping a RawSocket connection that did not answer its ping', { remoteAddress: this.remoteAddress });
      this.closing = true;
      this.socket.destroy();
      return;
    }
    this.heardFrom = false;
    // ASCII payload: autobahn-js echoes a PING payload as a UTF-8 string.
    this.write(FrameType.ping, `fox-wamp ping ${++this.pingCount}`);
  }

  /** Destroys the socket at once (router shutdown, after the sessions had their chance to say GOODBYE). */
  terminate(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private write(type: FrameType, payload: string | Buffer, length = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length): void {
    if (this.closing) return;
    if (this.socket.writableLength > this.settings.maxBufferedBytes) {
      this.logger.warn('dropping a RawSocket connection whose send buffer is full', {
        remoteAddress: this.remoteAddress,
        bufferedBytes: this.socket.writableLength,
      });
      this.metrics.overflow('wamp', 'disconnected');
      this.terminate();
      return;
    }
    // One buffer per frame, so header and payload go out in one write (and one TCP segment when small).
    const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
    writeFrameHeader(frame, type, length);
    if (typeof payload === 'string') frame.write(payload, FRAME_HEADER_LENGTH, 'utf8');
    else payload.copy(frame, FRAME_HEADER_LENGTH);
    this.corker.hold();
    this.socket.write(frame);
  }
}
