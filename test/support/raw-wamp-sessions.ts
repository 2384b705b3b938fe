import { RawWampClient, WampCode, type WampSubprotocol, type WireMessage } from './raw-wamp-client.js';

type Dict = Record<string, unknown>;

/** The four client roles of WAMP. */
export const CLIENT_ROLE_NAMES = ['publisher', 'subscriber', 'caller', 'callee'] as const;

/** HELLO.Details.roles announcing `features` (e.g. `{ payload_passthru_mode: true }`) in every client role. */
export function rolesWithFeatures(features: Record<string, boolean>): Dict {
  return Object.fromEntries(CLIENT_ROLE_NAMES.map((role) => [role, { features }]));
}

/** HELLO.Details.roles announcing no feature at all. */
export const PLAIN_ROLES: Dict = rolesWithFeatures({});

export interface RawJoinOptions {
  readonly realm?: string;
  readonly subprotocol?: WampSubprotocol;
  /** HELLO.Details.roles (default: every role, no features). */
  readonly roles?: Dict;
}

/**
 * Hand-driven WAMP sessions (`RawWampClient`) whose HELLO announces exactly the features a test chooses, with
 * request IDs handed out per client, and every client terminated in `closeAll()` (call it in afterEach).
 */
export class RawWampSessions {
  private readonly open: RawWampClient[] = [];
  private readonly requestIds = new WeakMap<RawWampClient, number>();

  constructor(private readonly url: () => string) {}

  /** Connects and sends HELLO; resolves with the client once WELCOME came (fails on anything else). */
  async join(options: RawJoinOptions = {}): Promise<RawWampClient> {
    const client = await RawWampClient.connect(this.url(), options.subprotocol ?? 'wamp.2.json');
    this.open.push(client);
    client.send([WampCode.HELLO, options.realm ?? 'realm1', { roles: options.roles ?? PLAIN_ROLES }]);
    const welcome = await client.nextMessage();
    if (welcome[0] !== WampCode.WELCOME) throw new Error(`expected WELCOME, got ${JSON.stringify(welcome)}`);
    return client;
  }

  /** The next request ID of `client` (1, 2, 3, ... per client). */
  requestId(client: RawWampClient): number {
    const next = (this.requestIds.get(client) ?? 0) + 1;
    this.requestIds.set(client, next);
    return next;
  }

  /** REGISTERs `procedure` and resolves with the registration ID. */
  async register(client: RawWampClient, procedure: string, options: Dict = {}): Promise<number> {
    const requestId = this.requestId(client);
    client.send([WampCode.REGISTER, requestId, options, procedure]);
    return (await expectMessage(client, WampCode.REGISTERED, requestId))[2] as number;
  }

  /** SUBSCRIBEs to `topic` and resolves with the subscription ID. */
  async subscribe(client: RawWampClient, topic: string, options: Dict = {}): Promise<number> {
    const requestId = this.requestId(client);
    client.send([WampCode.SUBSCRIBE, requestId, options, topic]);
    return (await expectMessage(client, WampCode.SUBSCRIBED, requestId))[2] as number;
  }

  closeAll(): void {
    for (const client of this.open.splice(0)) client.terminate();
  }
}

/**
 * The client's next message, which must be of type `code` (and, when given, answer `requestId`); anything else
 * fails the test with the message that came instead.
 */
export async function expectMessage(client: RawWampClient, code: number, requestId?: number): Promise<WireMessage> {
  const message = await client.nextMessage();
  const answered = code === WampCode.ERROR ? message[2] : message[1];
  if (message[0] !== code || (requestId !== undefined && answered !== requestId)) {
    throw new Error(`expected message type ${code}${requestId === undefined ? '' : ` for request ${requestId}`}, got ${JSON.stringify(message)}`);
  }
  return message;
}

/** Bytes as the WAMP JSON serializer carries them: "\0" followed by their base64 (WAMP spec, binary in JSON). */
export function jsonBinary(bytes: Buffer): string {
  return `\u0000${bytes.toString('base64')}`;
}
