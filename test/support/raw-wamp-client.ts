import { Decoder as CborDecoder, Encoder as CborEncoder } from 'cbor-x';
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';

/** A WAMP message as it travels: an array starting with the message code. */
export type WireMessage = unknown[];

export interface CloseInfo {
  /** The WebSocket close code (1000 normal, 1002 protocol error, 1009 message too big, 1006 no close frame). */
  readonly code: number;
  readonly reason: string;
}

/** The WAMP subprotocols this client can encode and decode. */
export type WampSubprotocol = 'wamp.2.json' | 'wamp.2.msgpack' | 'wamp.2.cbor';

interface Codec {
  encode(message: WireMessage): string | Buffer;
  decode(frame: Buffer, isBinary: boolean): WireMessage;
}

const msgpack = { packr: new Packr({ useRecords: false }), unpackr: new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' }) };
const cbor = { encoder: new CborEncoder({ useRecords: false, mapsAsObjects: true }), decoder: new CborDecoder({ mapsAsObjects: true }) };

const CODECS: Record<WampSubprotocol, Codec> = {
  'wamp.2.json': {
    encode: (message) => JSON.stringify(message),
    decode: (frame) => JSON.parse(frame.toString('utf8')) as WireMessage,
  },
  'wamp.2.msgpack': {
    encode: (message) => msgpack.packr.pack(message),
    decode: (frame) => msgpack.unpackr.unpack(frame) as WireMessage,
  },
  'wamp.2.cbor': {
    encode: (message) => Buffer.from(cbor.encoder.encode(message)),
    decode: (frame) => cbor.decoder.decode(frame) as WireMessage,
  },
};

const DEFAULT_WAIT_MS = 5_000;

export const WampCode = {
  HELLO: 1,
  WELCOME: 2,
  ABORT: 3,
  GOODBYE: 6,
  ERROR: 8,
  PUBLISH: 16,
  SUBSCRIBE: 32,
  SUBSCRIBED: 33,
  CALL: 48,
  RESULT: 50,
  REGISTER: 64,
  REGISTERED: 65,
  INVOCATION: 68,
  YIELD: 70,
} as const;

/** The roles a raw client announces in HELLO unless told otherwise. */
const ALL_CLIENT_ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

/**
 * A hand-driven WAMP client over a plain `ws` socket, for the frames a real client library would never send:
 * non-JSON text, arbitrary arrays, garbage bytes, out-of-order messages. Received frames are decoded with the
 * negotiated subprotocol's format (JSON when none was negotiated) and queued for `nextMessage()`.
 */
export class RawWampClient {
  /** Resolves when the WebSocket is closed (by either side), with the close code and reason. */
  readonly closed: Promise<CloseInfo>;
  private readonly queue: WireMessage[] = [];
  private readonly waiters: Array<(message: WireMessage) => void> = [];
  private readonly codec: Codec;

  private constructor(private readonly ws: WebSocket) {
    this.codec = CODECS[(ws.protocol || 'wamp.2.json') as WampSubprotocol];
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
    ws.on('message', (data: Buffer, isBinary) => {
      let message: WireMessage;
      try {
        message = this.codec.decode(data, isBinary);
      } catch {
        message = ['undecodable frame', data];
      }
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
  }

  /**
   * Opens a WebSocket to `url` offering `subprotocols` in that order (none at all when `null`). Rejects if the
   * upgrade fails. The server's pick decides the format of `send()` and of received messages.
   */
  static async connect(url: string, subprotocols: string | string[] | null = 'wamp.2.json'): Promise<RawWampClient> {
    const ws = subprotocols === null ? new WebSocket(url) : new WebSocket(url, subprotocols);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => {}); // later socket errors show up as the close code
    return new RawWampClient(ws);
  }

  /** Connects and joins `realm` with HELLO; resolves with the WELCOME message (fails on anything else). */
  static async joined(url: string, realm: string, subprotocol: WampSubprotocol = 'wamp.2.json'): Promise<RawWampClient> {
    const client = await RawWampClient.connect(url, subprotocol);
    client.send([WampCode.HELLO, realm, { roles: ALL_CLIENT_ROLES }]);
    const welcome = await client.nextMessage();
    if (welcome[0] !== WampCode.WELCOME) throw new Error(`expected WELCOME, got ${JSON.stringify(welcome)}`);
    return client;
  }

  /** The subprotocol the server picked ('' when none was negotiated). */
  get protocol(): string {
    return this.ws.protocol;
  }

  /** Sends a message encoded with this connection's serializer. */
  send(message: WireMessage): void {
    this.sendFrame(this.codec.encode(message));
  }

  /** Sends a frame as is: a string goes as a text frame, a Buffer as a binary frame. */
  sendFrame(frame: string | Buffer): void {
    this.ws.send(frame, { binary: typeof frame !== 'string' });
  }

  /** The next received message (queued ones first); rejects after `timeoutMs` with what it was waiting for. */
  nextMessage(timeoutMs = DEFAULT_WAIT_MS): Promise<WireMessage> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no WAMP message received within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (message: WireMessage) => {
        clearTimeout(timer);
        resolve(message);
      };
      this.waiters.push(waiter);
    });
  }

  /** Messages received but not yet taken with `nextMessage()`. */
  pending(): readonly WireMessage[] {
    return this.queue;
  }

  /** Waits for the close, failing after `timeoutMs` (the server should close promptly after an ABORT). */
  async closedWithin(timeoutMs = DEFAULT_WAIT_MS): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the server did not close the WebSocket within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Drops the connection without any WAMP goodbye (for cleanup). */
  terminate(): void {
    this.ws.terminate();
  }
}

/**
 * Attempts a WebSocket upgrade that the server is expected to refuse, and resolves with its HTTP status and
 * body. Rejects if the upgrade succeeds.
 */
export function refusedUpgrade(url: string, protocols: string | string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.on('error', () => {}); // the refusal itself is reported through 'unexpected-response'
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`the upgrade with ${String(protocols)} was accepted (subprotocol ${ws.protocol})`));
    });
    ws.once('unexpected-response', (request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
  });
}
