import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { WriteCorker } from '../transport/write-corker.js';

/** A byte stream to one MQTT client: TCP or WebSocket, as the connection sees it. */
export interface MqttTransport {
  /** `tcp` or `websocket` (session meta data, logs). */
  readonly kind: string;
  readonly remoteAddress: string | undefined;
  send(bytes: Buffer): void;
  /** Bytes accepted by `send` and not yet handed to the operating system. */
  bufferedBytes(): number;
  /** Flushes what was sent, then closes. */
  end(): void;
  /** Closes at once, dropping what waits. */
  destroy(): void;
  onData(listener: (bytes: Buffer) => void): void;
  onClose(listener: () => void): void;
  /** Stops reading from the client (back pressure) until `resume`. */
  pause(): void;
  resume(): void;
}

/** MQTT over TCP; `TCP_NODELAY`, and writes of one event-loop turn coalesced into one. */
export class TcpMqttTransport implements MqttTransport {
  readonly kind = 'tcp';
  readonly remoteAddress: string | undefined;
  private readonly corker: WriteCorker;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    this.remoteAddress = socket.remoteAddress;
    this.corker = new WriteCorker(socket);
    // Errors end in 'close'; without a listener an ECONNRESET would be an uncaught exception.
    socket.on('error', () => undefined);
  }

  send(bytes: Buffer): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.corker.hold();
    this.socket.write(bytes);
  }

  bufferedBytes(): number {
    return this.socket.writableLength;
  }

  end(): void {
    this.socket.end();
    // A peer that never reads must not keep a half-closed socket forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  onData(listener: (bytes: Buffer) => void): void {
    this.socket.on('data', listener);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  onClose(listener: () => void): void {
    this.socket.on('close', listener);
  }
}

/** MQTT over WebSocket (binary messages; a packet may span messages, as the spec allows). */
export class WebSocketMqttTransport implements MqttTransport {
  readonly kind = 'websocket';

  constructor(
    private readonly socket: WebSocket,
    readonly remoteAddress: string | undefined,
    /** Coalesces the frames of one event-loop turn on the underlying TCP socket. */
    private readonly corker?: WriteCorker,
  ) {
    socket.on('error', () => undefined);
  }

  send(bytes: Buffer): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.corker?.hold();
    this.socket.send(bytes, { binary: true });
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  end(): void {
    this.socket.close(1000);
    setTimeout(() => this.socket.terminate(), 2000).unref();
  }

  destroy(): void {
    this.socket.terminate();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  onData(listener: (bytes: Buffer) => void): void {
    this.socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      listener(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
    });
  }

  onClose(listener: () => void): void {
    this.socket.on('close', listener);
  }
}
