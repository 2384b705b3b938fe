import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { LocalClient } from '@fox-wamp/core';
import { resolveRealm, type RealmSource } from './realm-source.js';
import { toWampResult, valueOf } from './wamp-payload.js';

export interface FoxWampClientOptions {
  /** The realm to call and publish in (default: the module's default realm). */
  readonly realm?: string;
}

/**
 * A `ClientProxy` that calls and publishes through the in-process router, as its own session:
 * `client.send(uri, data)` calls the procedure `uri` (progressive results arrive as further values; an
 * ERROR fails the stream with a `RouterError` carrying its URI, args and kwargs) and `client.emit(topic,
 * data)` publishes. `data` goes as the one positional argument, or as given by a `WampResult`.
 *
 * Provide it with a factory: `{ provide: 'WAMP', useFactory: (r: RouterService) => new FoxWampClient(r),
 * inject: [RouterService] }`.
 */
export class FoxWampClient extends ClientProxy {
  private client: LocalClient | undefined;

  constructor(
    private readonly source: RealmSource,
    private readonly options: FoxWampClientOptions = {},
  ) {
    super();
    this.initializeSerializer({});
    this.initializeDeserializer({});
  }

  async connect(): Promise<LocalClient> {
    if (this.client === undefined || !this.client.isOpen) {
      this.client = new LocalClient(resolveRealm(this.source, this.options.realm), { authid: 'nestjs-client' });
    }
    return this.client;
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  unwrap<T>(): T {
    if (this.client === undefined) throw new Error('FoxWampClient is not connected');
    return this.client as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const { args, kwargs } = toWampResult(packet.data) ?? { args: [], kwargs: {} };
    this.client!.call(this.normalizePattern(packet.pattern), args, kwargs, {
      onProgress: (progress) => callback({ response: valueOf(progress.args, progress.kwargs) }),
    }).then(
      (result) => callback({ response: valueOf(result.args, result.kwargs), isDisposed: true }),
      (error: unknown) => callback({ err: error }),
    );
    // The router does not support call canceling: unsubscribing only stops listening.
    return () => {};
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const { args, kwargs } = toWampResult(packet.data) ?? { args: [], kwargs: {} };
    // Resolves once the router has applied the publication (a rejected conditional publish fails emit()).
    await this.client!.publish(this.normalizePattern(packet.pattern), args, kwargs);
    return undefined as T;
  }
}
