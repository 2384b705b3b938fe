import { Wampy } from 'wampy';
import { CborSerializer } from 'wampy/CborSerializer.js';
import { JsonSerializer } from 'wampy/JsonSerializer.js';
import { MsgpackSerializer } from 'wampy/MsgpackSerializer.js';
import WebSocket from 'ws';

type WampyOptions = NonNullable<ConstructorParameters<typeof Wampy>[1]>;

export const WAMPY_SERIALIZERS = ['json', 'msgpack', 'cbor'] as const;
export type WampySerializerName = (typeof WAMPY_SERIALIZERS)[number];

/** The WELCOME.Details wampy resolves `connect()` with: what the router announced. */
export interface WelcomeDetails {
  readonly realm?: string;
  readonly authid?: string;
  readonly authrole?: string;
  readonly agent?: string;
  readonly roles: Record<string, { features?: Record<string, boolean> }>;
}

function serializerFor(name: WampySerializerName) {
  switch (name) {
    case 'json':
      return new JsonSerializer();
    case 'msgpack':
      return new MsgpackSerializer();
    case 'cbor':
      return new CborSerializer();
  }
}

/**
 * Opens wampy 8 sessions to one router with one serializer and closes them all in `closeAll()` (call it in
 * afterEach). wampy in Node needs a WebSocket class (`ws`) and never reconnects here, so a failure surfaces.
 */
export class WampyClients {
  private readonly open: Wampy[] = [];

  constructor(
    private readonly url: string,
    readonly serializer: WampySerializerName,
    private readonly realm = 'realm1',
  ) {}

  /** `options`: further wampy options, e.g. `authid`, `authmethods` and `onChallenge` for ticket authentication. */
  async connect(options: WampyOptions = {}): Promise<{ client: Wampy; welcome: WelcomeDetails }> {
    const client = new Wampy(this.url, {
      realm: this.realm,
      // wampy's type wants a browser-style constructor; `ws` is what it calls in Node (url, protocols, ...).
      ws: WebSocket as unknown as NonNullable<WampyOptions['ws']>,
      serializer: serializerFor(this.serializer),
      autoReconnect: false,
      ...options,
    });
    this.open.push(client);
    const welcome = (await client.connect()) as unknown as WelcomeDetails;
    return { client, welcome };
  }

  /** Says GOODBYE on every session still open; bounded, so a stuck close cannot hang the teardown. */
  async closeAll(): Promise<void> {
    const clients = this.open.splice(0);
    await Promise.all(
      clients.map(async (client) => {
        if (client.getSessionId() === null) return;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)));
        await Promise.race([client.disconnect().catch(() => {}), timeout]);
        clearTimeout(timer);
      }),
    );
  }
}

/**
 * Collects what callbacks report (events, invocations) so a test can await "the n-th one arrived" instead of
 * sleeping. `waitFor` fails after a bounded time, naming what it waited for.
 */
export class Collector<T> {
  readonly items: T[] = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  push(item: T): void {
    this.items.push(item);
    const ready = this.waiters.filter((waiter) => this.items.length >= waiter.count);
    this.waiters = this.waiters.filter((waiter) => this.items.length < waiter.count);
    for (const waiter of ready) waiter.resolve();
  }

  async waitFor(count: number, what: string, ms = 5000): Promise<T[]> {
    if (this.items.length < count) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          new Promise<void>((resolve) => this.waiters.push({ count, resolve })),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}: ${this.items.length} of ${count}`)), ms);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    }
    return this.items;
  }
}
