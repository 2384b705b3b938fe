import { once } from 'node:events';
import WebSocket from 'ws';
import { serializerFor, type SerializerName, type WampSerializer } from '@fox-wamp/core';

/**
 * A load-generator client: raw `ws`, frames encoded once up front by the caller, and replies decoded
 * only where a scenario needs them, so the generator spends its time sending, not serializing.
 */
export class LeanClient {
  readonly serializer: WampSerializer;
  private handler: (frame: Buffer | string) => void = () => {};
  private nextRequest = 1_000_000;

  private constructor(private readonly ws: WebSocket, serializerName: SerializerName) {
    this.serializer = serializerFor(serializerName);
    ws.on('message', (data: Buffer, isBinary) => this.handler(isBinary ? data : data.toString('utf8')));
  }

  static async connect(url: string, serializerName: SerializerName): Promise<LeanClient> {
    const ws = new WebSocket(url, [`wamp.2.${serializerName}`], { perMessageDeflate: false });
    await once(ws, 'open');
    (ws as unknown as { _socket: { setNoDelay(on: boolean): void } })._socket.setNoDelay(true);
    const client = new LeanClient(ws, serializerName);
    const welcome = await client.request([1, 'realm1', { roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} } }], 2);
    if (welcome[0] !== 2) throw new Error(`join refused: ${JSON.stringify(welcome)}`);
    return client;
  }

  /** Called with every received frame, undecoded. */
  onFrame(handler: (frame: Buffer | string) => void): void {
    this.handler = handler;
  }

  decode(frame: Buffer | string): unknown[] {
    return this.serializer.decode(frame);
  }

  encode(message: unknown[]): string | Buffer {
    return this.serializer.encode(message as [number]);
  }

  send(frame: string | Buffer): void {
    this.ws.send(frame);
  }

  /** Resolves when the socket's send buffer is below `bytes`, so a fast sender does not queue without bound. */
  async drained(bytes = 1 << 20): Promise<void> {
    while (this.ws.bufferedAmount > bytes) await new Promise((resolve) => setImmediate(resolve));
  }

  subscribe(topic: string): Promise<unknown[]> {
    return this.request([32, this.nextRequest++, {}, topic], 33);
  }

  register(procedure: string): Promise<unknown[]> {
    return this.request([64, this.nextRequest++, {}, procedure], 65);
  }

  /** Answers every INVOCATION with a YIELD of the same arguments. */
  serveEcho(): void {
    this.onFrame((frame) => {
      const message = this.decode(frame);
      if (message[0] === 68) this.send(this.encode([70, message[1], {}, ...(message.length > 4 ? [message[4]] : [])]));
    });
  }

  close(): void {
    this.ws.close();
  }

  /** Sends one message and waits for the first reply of type `expect` (or an ABORT/ERROR). */
  private request(message: unknown[], expect: number): Promise<unknown[]> {
    return new Promise((resolve) => {
      this.onFrame((frame) => {
        const reply = this.decode(frame);
        if (reply[0] === expect || reply[0] === 3 || reply[0] === 8) resolve(reply);
      });
      this.send(this.encode(message));
    });
  }
}
