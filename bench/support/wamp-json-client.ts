import { once } from 'node:events';
import WebSocket from 'ws';

/**
 * A lean WAMP-over-JSON client for benchmarks: raw `ws`, no client library in the way, so the figures
 * measure the router. Replies are matched to requests by request ID.
 */
export class BenchClient {
  private nextRequest = 1;
  private readonly pending = new Map<number, (message: unknown[]) => void>();
  private readonly eventHandlers = new Map<number, (args: unknown[]) => void>();
  private readonly procedures = new Map<number, (args: unknown[]) => unknown>();
  sessionId = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.onMessage(JSON.parse(data.toString('utf8')) as unknown[]));
  }

  static async connect(url: string, realm = 'realm1'): Promise<BenchClient> {
    const ws = new WebSocket(url, ['wamp.2.json'], { perMessageDeflate: false });
    await once(ws, 'open');
    const client = new BenchClient(ws);
    const welcome = new Promise<unknown[]>((resolve) => client.pending.set(0, resolve));
    ws.send(JSON.stringify([1, realm, { roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} } }]));
    const message = await welcome;
    if (message[0] !== 2) throw new Error(`join failed: ${JSON.stringify(message)}`);
    client.sessionId = message[1] as number;
    return client;
  }

  /** Sends PUBLISH with acknowledge and resolves on PUBLISHED (or rejects on ERROR). */
  publish(topic: string, args: unknown[] | undefined, kwargs: Record<string, unknown> | undefined, options: Record<string, unknown>): Promise<unknown[]> {
    const request = this.nextRequest++;
    const message: unknown[] = [16, request, { ...options, acknowledge: true }, topic];
    if (args !== undefined || kwargs !== undefined) message.push(args ?? []);
    if (kwargs !== undefined) message.push(kwargs);
    return new Promise((resolve, reject) => {
      this.pending.set(request, (reply) => (reply[0] === 17 ? resolve(reply) : reject(new Error(JSON.stringify(reply)))));
      this.ws.send(JSON.stringify(message));
    });
  }

  /** Subscribes; `onEvent` gets each EVENT's args. Resolves on SUBSCRIBED. */
  async subscribe(topic: string, onEvent: (args: unknown[]) => void): Promise<void> {
    const reply = await this.request([32, this.nextRequest++, {}, topic]);
    this.eventHandlers.set(reply[2] as number, onEvent);
  }

  /** Registers a procedure whose handler's return value is the YIELD's single argument. */
  async register(procedure: string, handler: (args: unknown[]) => unknown, options: Record<string, unknown> = {}): Promise<void> {
    const reply = await this.request([64, this.nextRequest++, options, procedure]);
    this.procedures.set(reply[2] as number, handler);
  }

  /** Calls and resolves with RESULT's args (rejects on ERROR). */
  async call(procedure: string, args: unknown[]): Promise<unknown[]> {
    const reply = await this.request([48, this.nextRequest++, {}, procedure, args]);
    return (reply[3] as unknown[] | undefined) ?? [];
  }

  close(): void {
    this.ws.close();
  }

  private request(message: unknown[]): Promise<unknown[]> {
    const request = message[1] as number;
    return new Promise((resolve, reject) => {
      this.pending.set(request, (reply) => (reply[0] === 8 ? reject(new Error(JSON.stringify(reply))) : resolve(reply)));
      this.ws.send(JSON.stringify(message));
    });
  }

  private onMessage(message: unknown[]): void {
    const code = message[0];
    if (code === 36) return this.eventHandlers.get(message[1] as number)?.((message[4] as unknown[] | undefined) ?? []);
    if (code === 68) {
      const handler = this.procedures.get(message[2] as number);
      this.ws.send(JSON.stringify([70, message[1], {}, [handler?.((message[4] as unknown[] | undefined) ?? [])]]));
      return;
    }
    if (code === 33 || code === 65 || code === 50) {
      const resolve = this.pending.get(message[1] as number);
      this.pending.delete(message[1] as number);
      resolve?.(message);
      return;
    }
    const key = code === 2 || code === 3 ? 0 : code === 17 ? (message[1] as number) : code === 8 ? (message[2] as number) : -1;
    const resolve = this.pending.get(key);
    if (resolve === undefined) return;
    this.pending.delete(key);
    resolve(message);
  }
}
