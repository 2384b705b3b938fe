import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { PacketReader, PacketType, type PacketHandler } from './packet-reader.js';

export interface MqttTarget {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
}

/**
 * A load-generator MQTT 3.1.1 client: a raw TCP socket, packets encoded once with `mqtt-packet` (by the
 * caller, for the hot path), and received packets handed over undecoded by the lean `PacketReader`.
 */
export class LeanMqttClient {
  private handler: PacketHandler = () => {};
  private afterChunk: () => void = () => {};
  private readonly reader = new PacketReader((type, flags, buffer, start, end) => this.handler(type, flags, buffer, start, end));
  /** Set when the broker closed the connection (or it failed). */
  closedBy: string | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      this.afterChunk();
    });
    socket.on('error', (error) => (this.closedBy ??= error.message));
    socket.on('close', () => (this.closedBy ??= 'closed'));
  }

  /** Connects with a clean session and no keep alive, and resolves on a successful CONNACK. */
  static async connect(target: MqttTarget, clientId: string, timeoutMs = 20_000): Promise<LeanMqttClient> {
    const socket = connect({ host: target.host, port: target.port, noDelay: true });
    const client = new LeanMqttClient(socket);
    await withTimeout(once(socket, 'connect'), timeoutMs, `TCP connect to ${target.port}`);
    const connack = client.expect(PacketType.connack, timeoutMs);
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId, ...(target.username === undefined ? {} : { username: target.username }) }));
    const body = await connack;
    if (body[1] !== 0) throw new Error(`CONNACK refused the connection (return code ${body[1]})`);
    return client;
  }

  async subscribe(topic: string, qos: 0 | 1, timeoutMs = 20_000): Promise<void> {
    const suback = this.expect(PacketType.suback, timeoutMs);
    this.socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] }));
    const body = await suback;
    if (body[2]! >= 0x80) throw new Error(`SUBACK refused ${topic}`);
  }

  /**
   * Called with every received packet from now on (a slice of the chunk it came in; copy what you keep), and
   * `afterChunk` once the packets of a received chunk are through (to batch acknowledgements and counters).
   */
  onPacket(handler: PacketHandler, afterChunk: () => void = () => {}): void {
    this.handler = handler;
    this.afterChunk = afterChunk;
  }

  /** Writes; false when the socket's buffer is over its high-water mark (await `drained()`). */
  write(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  drained(): Promise<void> {
    return this.socket.writableNeedDrain && !this.socket.destroyed ? once(this.socket, 'drain').then(() => undefined) : Promise.resolve();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Resolves with the body of the next packet of `type`; rejects when the connection ends first. */
  private expect(type: number, timeoutMs: number): Promise<Buffer> {
    return withTimeout(
      new Promise<Buffer>((resolve, reject) => {
        this.socket.once('close', () => reject(new Error(`connection closed while waiting for packet type ${type}: ${this.closedBy}`)));
        this.handler = (received, _flags, buffer, start, end) => {
          if (received === type) resolve(Buffer.from(buffer.subarray(start, end)));
        };
      }),
      timeoutMs,
      `waiting for packet type ${type}`,
    );
  }
}

/** A PUBLISH encoded once, with the offsets the sender patches per message. */
export interface PublishTemplate {
  readonly bytes: Buffer;
  readonly payloadOffset: number;
  /** Where the packet identifier is (QoS 1), else -1. */
  readonly packetIdOffset: number;
}

export function publishTemplate(topic: string, payloadSize: number, qos: 0 | 1): PublishTemplate {
  const bytes = mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.alloc(payloadSize, 0x2e), qos, dup: false, retain: false, ...(qos > 0 ? { messageId: 1 } : {}) });
  const payloadOffset = bytes.length - payloadSize;
  return { bytes, payloadOffset, packetIdOffset: qos > 0 ? payloadOffset - 2 : -1 };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
