import { once } from 'node:events';
import WebSocket from 'ws';

/**
 * A lean WAMP-over-JSON client for benchmarks: raw `ws`, no client library in the way, so the figures
 * measure the router. Replies are matched to requests by request ID.
 */
export class BenchClient {
  private nextRequest = 1;
  private readonly pending = new Map<number, (message: unknown[]) => void>();
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

  close(): void {
    this.ws.close();
  }

  private onMessage(message: unknown[]): void {
    const code = message[0];
    const key = code === 2 || code === 3 ? 0 : code === 17 ? (message[1] as number) : code === 8 ? (message[2] as number) : -1;
    const resolve = this.pending.get(key);
    if (resolve === undefined) return;
    this.pending.delete(key);
    resolve(message);
  }
}
