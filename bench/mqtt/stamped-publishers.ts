import { once } from 'node:events';
import WebSocket from 'ws';
import { nowMicros } from '../support/clock.js';
import { LeanMqttClient, publishTemplate, withTimeout, type PublishTemplate } from './lean-mqtt-client.js';
import { PacketType } from './packet-reader.js';
import type { BrokerTarget } from './load-protocol.js';

/**
 * A publishing connection of the load generator: it sends pre-encoded messages, patching only the send
 * timestamp (and, at QoS 1, the packet identifier) into a copy of the encoded bytes.
 */
export interface StampedPublisher {
  /** QoS 1 PUBLISHes not yet acknowledged (0 for QoS 0 and WAMP). */
  readonly unacked: number;
  /** Sends `count` messages in one write, stamped now; false when the socket wants a drain. */
  send(count: number): boolean;
  drained(): Promise<void>;
  /** Resolves on the next PUBACK (QoS 1), so a publisher at its in-flight limit can wait without spinning. */
  nextAck(): Promise<void>;
  /** Why the broker closed the connection, if it did. */
  readonly closedBy: string | undefined;
  /** Called once when the connection ends (whoever ended it). */
  onClose(listener: () => void): void;
  close(): void;
}

/** MQTT PUBLISH, QoS 0 or 1, with the send time (µs) as a double in the first 8 payload bytes. */
export class MqttStampedPublisher implements StampedPublisher {
  unacked = 0;
  private nextPacketId = 1;
  private ackWaiters: (() => void)[] = [];
  private batchBytes: Buffer;
  private batchCount: number;

  private constructor(
    private readonly client: LeanMqttClient,
    private readonly template: PublishTemplate,
    private readonly qos: 0 | 1,
  ) {
    this.batchCount = 1;
    this.batchBytes = template.bytes;
    client.onPacket((type) => {
      if (type !== PacketType.puback) return;
      this.unacked--;
      const waiters = this.ackWaiters;
      if (waiters.length > 0) {
        this.ackWaiters = [];
        for (const wake of waiters) wake();
      }
    });
  }

  static async connect(target: BrokerTarget, clientId: string, topic: string, qos: 0 | 1, payloadSize: number): Promise<MqttStampedPublisher> {
    const client = await LeanMqttClient.connect({ host: target.host, port: target.mqttPort, ...(target.mqttUsername === undefined ? {} : { username: target.mqttUsername }) }, clientId);
    return new MqttStampedPublisher(client, publishTemplate(topic, Math.max(8, payloadSize), qos), qos);
  }

  get closedBy(): string | undefined {
    return this.client.closedBy;
  }

  send(count: number): boolean {
    const { bytes, payloadOffset, packetIdOffset } = this.template;
    const size = bytes.length;
    if (count !== this.batchCount) {
      // The batch of `count` encoded packets, made once; each send copies it and patches the copies.
      this.batchBytes = Buffer.concat(Array.from({ length: count }, () => bytes));
      this.batchCount = count;
    }
    const out = Buffer.allocUnsafe(size * count);
    this.batchBytes.copy(out);
    const stamp = nowMicros();
    for (let i = 0, at = 0; i < count; i++, at += size) {
      out.writeDoubleLE(stamp, at + payloadOffset);
      if (this.qos > 0) {
        out.writeUInt16BE(this.nextPacketId, at + packetIdOffset);
        this.nextPacketId = this.nextPacketId === 0xffff ? 1 : this.nextPacketId + 1;
      }
    }
    if (this.qos > 0) this.unacked += count;
    return this.client.write(out);
  }

  drained(): Promise<void> {
    return this.client.drained();
  }

  nextAck(): Promise<void> {
    if (this.client.closedBy !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.ackWaiters.push(resolve));
  }

  onClose(listener: () => void): void {
    this.client.socket.once('close', listener);
  }

  close(): void {
    this.client.destroy();
  }
}

/** The smallest 16-digit number: stamps are written as 1e15 + µs, so every frame has the same length. */
export const DECIMAL_STAMP_BASE = 1e15;

/**
 * WAMP PUBLISH over WebSocket with the JSON serializer and no client library: `[16, 1, {}, topic, [stamp]]`
 * encoded once, the 16 digits of the stamp patched per message. An MQTT subscriber receives the argument as
 * its JSON text (the router's WAMP → MQTT payload mapping).
 */
export class WampStampedPublisher implements StampedPublisher {
  readonly unacked = 0;
  closedBy: string | undefined;
  private readonly template: Buffer;
  private readonly stampOffset: number;

  private constructor(private readonly ws: WebSocket, topic: string) {
    this.template = Buffer.from(JSON.stringify([16, 1, {}, topic, [DECIMAL_STAMP_BASE]]), 'latin1');
    this.stampOffset = this.template.indexOf(String(DECIMAL_STAMP_BASE));
    ws.on('close', () => (this.closedBy ??= 'closed'));
  }

  static async connect(url: string, topic: string): Promise<WampStampedPublisher> {
    const ws = new WebSocket(url, ['wamp.2.json'], { perMessageDeflate: false });
    ws.on('error', () => undefined);
    await withTimeout(once(ws, 'open'), 20_000, `WebSocket to ${url}`);
    socketOf(ws).setNoDelay(true);
    const welcome = withTimeout(once(ws, 'message'), 20_000, 'WAMP WELCOME');
    ws.send(JSON.stringify([1, 'realm1', { roles: { publisher: {} } }]));
    const [data] = (await welcome) as [Buffer];
    const reply = JSON.parse(data.toString('utf8')) as unknown[];
    if (reply[0] !== 2) throw new Error(`WAMP join refused: ${data.toString('utf8')}`);
    return new WampStampedPublisher(ws, topic.replaceAll('/', '.'));
  }

  send(count: number): boolean {
    const digits = String(DECIMAL_STAMP_BASE + Math.round(nowMicros()));
    const socket = socketOf(this.ws);
    // One TCP write for the batch, as the MQTT publisher does.
    socket.cork();
    for (let i = 0; i < count; i++) {
      const frame = Buffer.from(this.template);
      frame.write(digits, this.stampOffset, 'latin1');
      this.ws.send(frame, { binary: false });
    }
    socket.uncork();
    return this.ws.bufferedAmount < 1 << 20;
  }

  async drained(): Promise<void> {
    while (this.ws.bufferedAmount >= 1 << 20 && this.ws.readyState === WebSocket.OPEN) await once(socketOf(this.ws), 'drain');
  }

  nextAck(): Promise<void> {
    return Promise.resolve();
  }

  onClose(listener: () => void): void {
    this.ws.once('close', listener);
  }

  close(): void {
    this.ws.terminate();
  }
}

function socketOf(ws: WebSocket): import('node:net').Socket {
  return (ws as unknown as { _socket: import('node:net').Socket })._socket;
}
