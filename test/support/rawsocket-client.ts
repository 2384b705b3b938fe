import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { Dict } from './autobahn-client.js';
import type { RunningServer } from './server-process.js';

/**
 * Tools for WAMP over RawSocket in tests: options that put npm autobahn on its RawSocket transport, the
 * standalone server's RawSocket ports from its log, and `RawSocketProbe`, a hand-driven client over a plain
 * TCP socket for the bytes a real client never sends (bad handshakes, odd framing, oversize frames).
 */

/** The RawSocket frame types (WAMP spec, "RawSocket Transport", Framing). */
export const FrameType = { message: 0, ping: 1, pong: 2 } as const;

/** Serializer codes of the handshake's second octet. */
export const SerializerCode = { json: 1, msgpack: 2, cbor: 3, ubjson: 4 } as const;

/**
 * `extra` options for `connectAutobahn` that select autobahn's RawSocket transport (Node only, JSON only:
 * autobahn 26 ignores `serializers` there and always asks for JSON with a 16 MiB maximum).
 */
export function overRawSocket(port: number, host = '127.0.0.1'): Dict {
  return { transports: [{ type: 'rawsocket', host, port }] };
}

/** The port of the server's RawSocket listener of its own (`--rawsocket-port`), from its startup log. */
export function ownRawSocketPortOf(server: RunningServer): number {
  const match = /listening rawsocket tcp:\/\/127\.0\.0\.1:(\d+)\s*$/m.exec(server.output());
  if (match === null) throw new Error(`the server logged no RawSocket port of its own:\n${server.output()}`);
  return Number(match[1]);
}

/** The four handshake octets a client sends: magic, `LLLL SSSS`, two reserved octets. */
export function handshakeRequest(serializer: number, lengthExponent = 15, reserved: readonly [number, number] = [0, 0]): Buffer {
  return Buffer.from([0x7f, (lengthExponent << 4) | serializer, ...reserved]);
}

/** A frame: the four-octet prefix (type, 24-bit length) and the payload. */
export function frame(type: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([header, body]);
}

/** A WAMP message as a JSON message frame. */
export function jsonFrame(message: unknown[]): Buffer {
  return frame(FrameType.message, JSON.stringify(message));
}

export const HELLO_ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

/** Cuts bytes received after the handshake into frames; fails on a trailing partial frame. */
export function splitFrames(bytes: Buffer): ReceivedFrame[] {
  const frames: ReceivedFrame[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 4) throw new Error(`a partial frame header at offset ${offset}`);
    const length = bytes.readUIntBE(offset + 1, 3);
    if (bytes.length - offset - 4 < length) throw new Error(`a partial frame at offset ${offset}`);
    frames.push({ type: bytes[offset]!, payload: bytes.subarray(offset + 4, offset + 4 + length) });
    offset += 4 + length;
  }
  return frames;
}

/**
 * A stand-in for a TCP socket, for handing to `WampRawSocketAcceptor.accept`: the test decides exactly how the
 * incoming bytes are chunked (`receive` emits one 'data' event per call), and what the router writes is
 * collected in `written`. Over real TCP the kernel may coalesce small writes, so this is the deterministic way
 * to feed a frame one octet per chunk.
 */
export class ScriptedSocket extends Duplex {
  readonly remoteAddress = '192.0.2.1';
  private readonly writes: Buffer[] = [];

  get written(): Buffer {
    return Buffer.concat(this.writes);
  }

  receive(chunk: Buffer): void {
    this.push(chunk);
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  override _read(): void {}

  /** Resolves once what the router wrote satisfies `predicate`; fails after `timeoutMs` naming `what`. */
  waitUntilWritten(predicate: (written: Buffer) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this.written)) return;
        this.off('written', check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('written', check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; written: ${this.written.toString('hex')}`));
      }, timeoutMs);
      this.on('written', check);
      check();
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.writes.push(chunk);
    done();
    this.emit('written');
  }
}

const DEFAULT_WAIT_MS = 5_000;

export interface ReceivedFrame {
  readonly type: number;
  readonly payload: Buffer;
}

/**
 * A RawSocket client driven byte by byte. Everything the server sends is queued; `read(n)` takes the next n
 * bytes, `nextFrame()` the next frame (after `handshake()` has taken the reply). `closed` settles when the
 * server (or the test) closes the connection. Every wait is bounded and fails with what has arrived.
 */
export class RawSocketProbe {
  readonly closed: Promise<void>;
  private received = Buffer.alloc(0);
  private isClosed = false;
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.notify();
    });
    socket.on('error', () => {}); // a reset by the server shows up as `closed`
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.notify();
        resolve();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawSocketProbe> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawSocketProbe(socket));
      });
    });
  }

  /** Connects, shakes hands for JSON and joins `realm`; resolves with the probe and the WELCOME. */
  static async joined(port: number, realm = 'realm1', lengthExponent = 15): Promise<{ probe: RawSocketProbe; welcome: unknown[] }> {
    const probe = await RawSocketProbe.connect(port);
    const reply = await probe.handshake(handshakeRequest(SerializerCode.json, lengthExponent));
    if (reply[0] !== 0x7f || (reply[1]! & 0x0f) !== SerializerCode.json) throw new Error(`handshake refused: ${reply.toString('hex')}`);
    probe.write(jsonFrame([1, realm, { roles: HELLO_ROLES }]));
    const welcome = await probe.nextMessage();
    if (welcome[0] !== 2) throw new Error(`expected WELCOME, got ${JSON.stringify(welcome)}`);
    return { probe, welcome };
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** All bytes received and not read yet. */
  get unread(): Buffer {
    return this.received;
  }

  write(bytes: Buffer | readonly number[]): void {
    this.socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  /** Writes `bytes` one octet per TCP write, waiting for each write to be flushed (no coalescing by Node). */
  async writeByteByByte(bytes: Buffer): Promise<void> {
    for (const byte of bytes) {
      await new Promise<void>((resolve, reject) => this.socket.write(Buffer.from([byte]), (error) => (error ? reject(error) : resolve())));
    }
  }

  /** Sends a handshake request and resolves with the four octets of the reply. */
  async handshake(request: Buffer): Promise<Buffer> {
    this.write(request);
    return this.read(4);
  }

  /** The next `count` bytes from the server. */
  read(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Buffer> {
    return this.waitFor(
      () => {
        if (this.received.length < count) return undefined;
        const bytes = this.received.subarray(0, count);
        this.received = this.received.subarray(count);
        return bytes;
      },
      `${count} byte(s)`,
      timeoutMs,
    );
  }

  async nextFrame(timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedFrame> {
    const header = await this.read(4, timeoutMs);
    const payload = await this.read(header.readUIntBE(1, 3), timeoutMs);
    return { type: header[0]!, payload };
  }

  /** The next WAMP message (JSON), skipping nothing: a PING or PONG here is an error. */
  async nextMessage(timeoutMs = DEFAULT_WAIT_MS): Promise<unknown[]> {
    const { type, payload } = await this.nextFrame(timeoutMs);
    if (type !== FrameType.message) throw new Error(`expected a message frame, got type ${type}`);
    return JSON.parse(payload.toString('utf8')) as unknown[];
  }

  /** Resolves once the connection is closed; fails if it is still open after `timeoutMs`. */
  async waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await this.waitFor(() => (this.isClosed ? true : undefined), 'the connection to close', timeoutMs);
  }

  /** Closes our side and waits until the socket is gone. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.socket.destroy();
    await this.closed;
  }

  private waitFor<T>(take: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = take();
        if (value !== undefined) return settle(() => resolve(value));
        if (this.isClosed) settle(() => reject(new Error(`the connection closed while waiting for ${what}; unread: ${this.received.toString('hex') || '(nothing)'}`)));
      };
      const timer = setTimeout(
        () => settle(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; unread: ${this.received.toString('hex') || '(nothing)'}`))),
        timeoutMs,
      );
      const settle = (done: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        done();
      };
      this.listeners.add(check);
      check();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
