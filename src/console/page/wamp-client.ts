/**
 * A small WAMP v2 client over the browser's WebSocket (JSON serializer), with what the console needs: join
 * with ticket or WAMP-CRA authentication, subscribe, call, leave. Binary values stay the JSON serializer's
 * strings ("\0" + base64).
 */

export type Dict = Record<string, unknown>;
export type AuthMethod = 'ticket' | 'wampcra';

export interface Credentials {
  readonly authid: string;
  /** The ticket, or the WAMP-CRA secret (the password, for a salted secret). */
  readonly secret: string;
  readonly authmethod: AuthMethod;
}

export interface CallResult {
  readonly args: unknown[];
  readonly kwargs: Dict;
}

export type EventHandler = (args: unknown[], kwargs: Dict) => void;

/** An ERROR reply, or an ABORT of the join. */
export class WampError extends Error {
  constructor(
    readonly uri: string,
    readonly args: unknown[] = [],
    readonly kwargs: Dict = {},
  ) {
    super(typeof args[0] === 'string' ? `${uri}: ${args[0]}` : uri);
  }
}

const HELLO = 1;
const WELCOME = 2;
const ABORT = 3;
const CHALLENGE = 4;
const AUTHENTICATE = 5;
const GOODBYE = 6;
const ERROR = 8;
const SUBSCRIBE = 32;
const SUBSCRIBED = 33;
const EVENT = 36;
const CALL = 48;
const RESULT = 50;

interface Pending {
  resolve(message: unknown[]): void;
  reject(error: Error): void;
}

export class WampSession {
  /** Called once when the session ends: the router's GOODBYE reason, or `lost` for a dropped connection. */
  onclose: ((reason: string, message: string) => void) | undefined;
  readonly id: number;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<number, EventHandler>();
  private nextRequest = 1;
  private closing = false;
  private ended = false;

  private constructor(
    private readonly socket: WebSocket,
    welcome: unknown[],
  ) {
    this.id = welcome[1] as number;
    socket.onmessage = (message) => this.receive(message.data as string);
    socket.onclose = () => this.end('lost', 'the connection closed');
  }

  /** Opens a WebSocket to `url` and joins `realm`; rejects with a `WampError` on ABORT. */
  static connect(url: string, realm: string, credentials: Credentials): Promise<WampSession> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, ['wamp.2.json']);
      const fail = (error: Error) => {
        socket.onclose = null;
        socket.close();
        reject(error);
      };
      socket.onerror = () => fail(new Error(`cannot connect to ${url}`));
      socket.onclose = () => reject(new Error('the connection closed before the session was established'));
      socket.onopen = () => {
        const details = { roles: { caller: {}, subscriber: {} }, authmethods: [credentials.authmethod], authid: credentials.authid };
        socket.send(JSON.stringify([HELLO, realm, details]));
      };
      socket.onmessage = (message) => {
        let frame: unknown[];
        try {
          frame = JSON.parse(message.data as string) as unknown[];
        } catch {
          return fail(new Error('the router sent a frame that is not JSON'));
        }
        switch (frame[0]) {
          case WELCOME:
            socket.onerror = null;
            return resolve(new WampSession(socket, frame));
          case ABORT:
            return fail(new WampError(frame[2] as string, [(frame[1] as Dict).message ?? 'the router refused the session']));
          case CHALLENGE:
            void answerChallenge(credentials, frame[1] as string, frame[2] as Dict).then(
              (signature) => socket.send(JSON.stringify([AUTHENTICATE, signature, {}])),
              (error: Error) => fail(error),
            );
            return;
          default:
            return fail(new Error(`unexpected message ${String(frame[0])} before WELCOME`));
        }
      };
    });
  }

  subscribe(topic: string, handler: EventHandler): Promise<number> {
    return this.request(SUBSCRIBE, [{}, topic]).then((reply) => {
      const id = reply[2] as number;
      this.handlers.set(id, handler);
      return id;
    });
  }

  call(procedure: string, args: unknown[] = [], kwargs: Dict = {}): Promise<CallResult> {
    return this.request(CALL, [{}, procedure, args, kwargs]).then((reply) => ({
      args: (reply[3] as unknown[] | undefined) ?? [],
      kwargs: (reply[4] as Dict | undefined) ?? {},
    }));
  }

  /** Leaves with GOODBYE and resolves once the router has answered (or the connection is gone). */
  close(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.closing = true;
    const closed = new Promise<void>((resolve) => {
      const onclose = this.onclose;
      this.onclose = (reason, message) => {
        onclose?.(reason, message);
        resolve();
      };
    });
    this.socket.send(JSON.stringify([GOODBYE, {}, 'wamp.close.normal']));
    return closed;
  }

  private request(type: number, body: unknown[]): Promise<unknown[]> {
    if (this.ended) return Promise.reject(new Error('the session has ended'));
    const id = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify([type, id, ...body]));
    });
  }

  private receive(data: string): void {
    const frame = JSON.parse(data) as unknown[];
    switch (frame[0]) {
      case EVENT:
        this.handlers.get(frame[1] as number)?.((frame[4] as unknown[] | undefined) ?? [], (frame[5] as Dict | undefined) ?? {});
        return;
      case RESULT:
      case SUBSCRIBED:
        this.settle(frame[1] as number)?.resolve(frame);
        return;
      case ERROR:
        this.settle(frame[2] as number)?.reject(new WampError(frame[4] as string, (frame[5] as unknown[] | undefined) ?? [], (frame[6] as Dict | undefined) ?? {}));
        return;
      case GOODBYE:
        // The router ends the session (a kick, a shutdown), or answers ours.
        if (!this.closing) this.socket.send(JSON.stringify([GOODBYE, {}, 'wamp.close.goodbye_and_out']));
        this.end(frame[2] as string, ((frame[1] as Dict).message as string | undefined) ?? '');
        this.socket.close();
        return;
      case ABORT:
        this.end(frame[2] as string, ((frame[1] as Dict).message as string | undefined) ?? '');
        this.socket.close();
        return;
    }
  }

  private settle(requestId: number): Pending | undefined {
    const pending = this.pending.get(requestId);
    this.pending.delete(requestId);
    return pending;
  }

  private end(reason: string, message: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const pending of this.pending.values()) pending.reject(new Error(`the session ended: ${reason}`));
    this.pending.clear();
    this.onclose?.(reason, message);
  }
}

/** The AUTHENTICATE signature: the ticket itself, or the WAMP-CRA HMAC of the challenge. */
async function answerChallenge(credentials: Credentials, method: string, extra: Dict): Promise<string> {
  if (method === 'ticket') return credentials.secret;
  if (method !== 'wampcra') throw new Error(`the router asked for ${method}, which the console does not speak`);
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) throw new Error('WAMP-CRA needs Web Crypto, which the browser offers only over https or on localhost');
  const { challenge, salt, iterations, keylen } = extra as { challenge: string; salt?: string; iterations?: number; keylen?: number };
  const key = salt === undefined ? credentials.secret : await deriveKey(subtle, credentials.secret, salt, iterations ?? 1000, keylen ?? 32);
  const hmacKey = await subtle.importKey('raw', utf8(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return base64(await subtle.sign('HMAC', hmacKey, utf8(challenge)));
}

/** The salted WAMP-CRA key: base64(PBKDF2-HMAC-SHA256(password, salt, iterations, keylen)). */
async function deriveKey(subtle: SubtleCrypto, password: string, salt: string, iterations: number, keylen: number): Promise<string> {
  const material = await subtle.importKey('raw', utf8(password), 'PBKDF2', false, ['deriveBits']);
  return base64(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: utf8(salt), iterations }, material, keylen * 8));
}

function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text);
}

function base64(bytes: ArrayBuffer): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
