import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import type { IConnectPacket, Packet } from 'mqtt-packet';
import { uniqueName } from './mqtt-client.js';

/**
 * A TCP connection to an MQTT broker that speaks hand-made MQTT, for the bad-input tests: it sends raw bytes or
 * packets encoded with mqtt-packet's `generate`, parses what comes back with mqtt-packet's parser, and reports
 * when the broker closes the connection. No client library in between, so nothing "fixes" what we send.
 */
export type MqttVersion = 4 | 5;

export class RawMqttSocket {
  /** Every packet received so far, in order. */
  readonly packets: Packet[] = [];
  /** Every byte received so far, for checks the parser cannot make (e.g. a CONNACK in the other version's framing). */
  private receivedBytes = Buffer.alloc(0);
  /** Why the parser gave up, if it did (the broker sent something that is not MQTT of our version). */
  parseError: Error | undefined;
  private closedFlag = false;
  private readonly listeners = new Set<() => void>();
  private readonly parser;

  private constructor(
    private readonly socket: Socket,
    readonly version: MqttVersion,
  ) {
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on('packet', (packet: Packet) => {
      this.packets.push(packet);
      this.notify();
    });
    this.parser.on('error', (error: Error) => {
      this.parseError ??= error;
      this.notify();
    });
    socket.on('data', (chunk: Buffer) => {
      this.receivedBytes = Buffer.concat([this.receivedBytes, chunk]);
      if (this.parseError === undefined) this.parser.parse(chunk);
    });
    // A reset (the broker closed while we were still writing) is just another way of being closed: 'close' follows.
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.closedFlag = true;
      this.notify();
    });
  }

  /** Opens a TCP connection; `version` selects how replies are parsed (v5 packets carry properties). */
  static async open(port: number, host = '127.0.0.1', version: MqttVersion = 4): Promise<RawMqttSocket> {
    const socket = connect({ port, host, noDelay: true });
    await once(socket, 'connect');
    return new RawMqttSocket(socket, version);
  }

  /** Opens a connection and completes a normal CONNECT/CONNACK handshake. */
  static async connected(
    port: number,
    options: { readonly version?: MqttVersion; readonly clientId?: string; readonly host?: string } = {},
  ): Promise<RawMqttSocket> {
    const version = options.version ?? 4;
    const raw = await RawMqttSocket.open(port, options.host, version);
    raw.sendPacket(connectPacket(version, options.clientId ?? uniqueName('raw')));
    const connack = await raw.nextPacket('connack');
    const code = version === 5 ? (connack as { reasonCode?: number }).reasonCode : (connack as { returnCode?: number }).returnCode;
    if (code !== 0) {
      raw.destroy();
      throw new Error(`the broker refused a plain CONNECT: CONNACK ${code}`);
    }
    return raw;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get bytes(): Buffer {
    return this.receivedBytes;
  }

  /** Writes bytes as they are (a write after the broker closed is silently dropped). */
  send(bytes: Uint8Array): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Encodes a packet with mqtt-packet in this connection's protocol version and writes it. */
  sendPacket(packet: Packet): void {
    this.send(encodePacket(packet, this.version));
  }

  /** The first received packet of type `cmd` (and matching `where`), waiting for it if need be. */
  nextPacket(cmd: Packet['cmd'], timeoutMs = 5_000, where: (packet: Packet) => boolean = () => true): Promise<Packet> {
    return this.waitUntil(`a ${cmd} packet`, timeoutMs, () => this.packets.find((packet) => packet.cmd === cmd && where(packet)));
  }

  /** A PINGREQ answered by a PINGRESP: the connection is open and the broker still serves it. */
  async ping(timeoutMs = 3_000): Promise<void> {
    const answered = this.packets.filter((packet) => packet.cmd === 'pingresp').length;
    this.sendPacket({ cmd: 'pingreq' });
    await this.waitUntil('a PINGRESP', timeoutMs, () => (this.packets.filter((packet) => packet.cmd === 'pingresp').length > answered ? true : undefined));
  }

  /** Resolves with every packet received once the broker has closed the connection; rejects after `timeoutMs`. */
  async waitForClose(timeoutMs = 5_000): Promise<Packet[]> {
    await this.waitUntil('the broker to close the connection', timeoutMs, () => (this.closedFlag ? true : undefined));
    return [...this.packets];
  }

  /** Closes our side abruptly (no DISCONNECT). */
  destroy(): void {
    this.socket.destroy();
  }

  private waitUntil<T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const listener = () => {
        const value = check();
        if (value !== undefined) {
          settle();
          resolve(value);
        } else if (this.closedFlag) {
          settle();
          reject(new Error(`the connection closed while waiting for ${what}; received ${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`no ${what} within ${timeoutMs} ms; received ${this.describe()}`));
      }, timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
      listener();
    });
  }

  private describe(): string {
    const packets = this.packets.map((packet) => packet.cmd).join(', ') || 'no packets';
    return `${packets} (${this.receivedBytes.length} bytes${this.parseError ? `, unparsable: ${this.parseError.message}` : ''})`;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** A plain CONNECT (clean session, keepalive 60) in the given version. */
export function connectPacket(version: MqttVersion, clientId: string, extra: Partial<IConnectPacket> = {}): IConnectPacket {
  return { cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId, clean: true, keepalive: 60, ...extra };
}

/** mqtt-packet's encoding of a packet. */
export function encodePacket(packet: Packet, version: MqttVersion): Buffer {
  return mqttPacket.generate(packet, { protocolVersion: version });
}

/** A UTF-8 string field as MQTT writes it: two length bytes, then the bytes (which need not be valid UTF-8). */
export function mqttString(bytes: Uint8Array | string): Buffer {
  const body = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([length, body]);
}

/** The Remaining Length field (variable byte integer) of a fixed header. */
export function remainingLength(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    let digit = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) digit |= 0x80;
    bytes.push(digit);
  } while (rest > 0);
  return Buffer.from(bytes);
}

/**
 * A CONNECT built by hand, for what mqtt-packet refuses to encode (an unknown protocol level, an empty client id
 * without clean session): protocol name MQTT, `level`, connect `flags` (0x02 = clean session / clean start),
 * keepalive 60, an empty property block when `level` is 5, and the client id.
 */
export function handMadeConnect(level: number, flags: number, clientId: string): Buffer {
  const variableHeader = Buffer.concat([mqttString('MQTT'), Buffer.from([level, flags, 0, 60]), level === 5 ? Buffer.from([0]) : Buffer.alloc(0)]);
  return rawPacket(0x10, Buffer.concat([variableHeader, mqttString(clientId)]));
}

/** A whole packet from a first header byte and a hand-made body. */
export function rawPacket(firstByte: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);
}
