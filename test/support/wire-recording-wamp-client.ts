import { once } from 'node:events';
import WebSocket from 'ws';

/** A WAMP message as JSON carries it. */
export type WampFrameMessage = [number, ...unknown[]];

/** One frame on the wire: the message's type code and the frame payload's size in bytes. */
export interface WireFrame {
  readonly code: number;
  readonly bytes: number;
}

const WAIT_MS = 5_000;

/**
 * A WAMP client over a plain `ws` socket (subprotocol `wamp.2.json`) that keeps the size of every frame it sends
 * and receives: the byte counts a router reports for WebSocket traffic are these frame payloads.
 */
export class WireRecordingWampClient {
  readonly sent: WireFrame[] = [];
  readonly received: WireFrame[] = [];
  private readonly queue: WampFrameMessage[] = [];
  private readonly waiters: ((message: WampFrameMessage) => void)[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as WampFrameMessage;
      this.received.push({ code: message[0], bytes: data.length });
      const waiter = this.waiters.shift();
      if (waiter !== undefined) waiter(message);
      else this.queue.push(message);
    });
  }

  static async connect(url: string): Promise<WireRecordingWampClient> {
    const ws = new WebSocket(url, ['wamp.2.json']);
    ws.on('error', () => {}); // a failure shows as the close, or as a message that never comes
    await once(ws, 'open');
    return new WireRecordingWampClient(ws);
  }

  /** Sends `message` as one text frame. */
  send(message: WampFrameMessage): void {
    const frame = JSON.stringify(message);
    this.sent.push({ code: message[0], bytes: Buffer.byteLength(frame, 'utf8') });
    this.ws.send(frame);
  }

  /** The next message received (of type `expectedCode`, when given), failing after a while with what was expected. */
  next(expectedCode?: number): Promise<WampFrameMessage> {
    const queued = this.queue.shift();
    const arrival =
      queued !== undefined
        ? Promise.resolve(queued)
        : new Promise<WampFrameMessage>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no WAMP message (expected type ${expectedCode ?? 'any'}) within ${WAIT_MS} ms`)), WAIT_MS);
            this.waiters.push((message) => {
              clearTimeout(timer);
              resolve(message);
            });
          });
    return arrival.then((message) => {
      if (expectedCode !== undefined && message[0] !== expectedCode) throw new Error(`expected a message of type ${expectedCode}, got ${JSON.stringify(message)}`);
      return message;
    });
  }

  /** Messages and bytes by type code, in one direction. */
  static tally(frames: readonly WireFrame[]): Map<number, { messages: number; bytes: number }> {
    const tallies = new Map<number, { messages: number; bytes: number }>();
    for (const frame of frames) {
      const tally = tallies.get(frame.code) ?? { messages: 0, bytes: 0 };
      tally.messages++;
      tally.bytes += frame.bytes;
      tallies.set(frame.code, tally);
    }
    return tallies;
  }

  terminate(): void {
    this.ws.terminate();
  }
}
