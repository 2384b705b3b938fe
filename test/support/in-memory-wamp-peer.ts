import { JsonSerializer, WampConnection, type Router, type RouterLogger, type WampTransport } from '@fox-wamp/core';

/** A WAMP message as it travels: an array starting with the message code. */
export type WireMessage = unknown[];

const DEFAULT_WAIT_MS = 2_000;
const serializer = new JsonSerializer();

/** The roles a peer announces in HELLO unless told otherwise. */
export const CLIENT_ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

/**
 * A WAMP client wired to a router through a `WampConnection` and an in-memory transport: the session state
 * machine of the real gate, without sockets. Frames go through the JSON serializer both ways, so what a test
 * sends and reads is exactly the wire format. `transportClosed()` plays a connection that drops.
 */
export class InMemoryWampPeer {
  readonly connection: WampConnection;
  /** Every message the router sent, in order (also those already taken with `next()`). */
  readonly received: WireMessage[] = [];
  /** Set when the router closed the transport: `protocolError` as it asked for the close code. */
  closedBy: { protocolError: boolean } | undefined;
  private taken = 0;
  private readonly waiters = new Set<() => void>();

  constructor(router: Router, options: { remoteAddress?: string; logger?: RouterLogger } = {}) {
    const transport: WampTransport = {
      serializer,
      kind: 'memory',
      remoteAddress: options.remoteAddress ?? '10.0.0.1',
      send: (frame) => {
        this.received.push(serializer.decode(frame) as WireMessage);
        this.notify();
      },
      close: (protocolError) => {
        this.closedBy = { protocolError: protocolError ?? false };
        this.notify();
      },
    };
    this.connection = new WampConnection(router, transport, { goodbyeTimeoutMs: 1_000 }, options.logger ?? router.logger);
  }

  /** Sends one message to the router, encoded as a JSON frame. */
  send(message: WireMessage): void {
    this.connection.receive(serializer.encode(message as [number, ...unknown[]]));
  }

  /** HELLO for `realm` with these extra details (authmethods, authid, ...). */
  hello(realm = 'realm1', details: Record<string, unknown> = {}): void {
    this.send([1, realm, { roles: CLIENT_ROLES, ...details }]);
  }

  /** The next message not yet taken, waiting for it if need be (bounded). */
  next(timeoutMs = DEFAULT_WAIT_MS): Promise<WireMessage> {
    return this.waitFor(() => this.received.length > this.taken, 'the next message', timeoutMs).then(() => this.received[this.taken++]!);
  }

  /** Takes messages until one with `code` arrives and returns it; fails on a close or after `timeoutMs`. */
  async nextOf(code: number, timeoutMs = DEFAULT_WAIT_MS): Promise<WireMessage> {
    for (;;) {
      const message = await this.next(timeoutMs);
      if (message[0] === code) return message;
    }
  }

  /** Resolves once the router has closed the transport. */
  closed(timeoutMs = DEFAULT_WAIT_MS): Promise<{ protocolError: boolean }> {
    return this.waitFor(() => this.closedBy !== undefined, 'the router to close the transport', timeoutMs).then(() => this.closedBy!);
  }

  /** The transport goes away under the connection (a client that disconnects). */
  drop(): void {
    this.connection.transportClosed();
  }

  /** Messages received and not yet taken with `next()`. */
  pending(): WireMessage[] {
    return this.received.slice(this.taken);
  }

  private waitFor(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
