import type { WampSerializer } from './serializer.js';

/**
 * A message-based transport carrying one WAMP connection (WebSocket now, RawSocket later). The transport
 * feeds frames to the connection with `WampConnection.receive` and reports its end with `transportClosed`.
 */
export interface WampTransport {
  readonly serializer: WampSerializer;
  /** `websocket` or `rawsocket`: shown in session meta data. */
  readonly kind: string;
  readonly remoteAddress?: string;
  send(frame: string | Buffer): void;
  /** Closes the transport; `protocolError` chooses the close code where the transport has one. */
  close(protocolError?: boolean): void;
}
