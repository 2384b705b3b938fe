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
  /** Octets the transport adds to every message on the wire (RawSocket's 4-octet prefix; 0 when absent). */
  readonly framingBytes?: number;
  /**
   * The transport takes a text frame as its UTF-8 bytes too (a Buffer where `serializer.binary` is false): the
   * connection then converts each encoded JSON message once, so that an EVENT for many subscribers is converted
   * once rather than by every send, and its size is known without measuring the text again. Default false:
   * text frames come as strings.
   */
  readonly textAsBytes?: boolean;
  send(frame: string | Buffer): void;
  /** Bytes accepted by `send` and not yet handed to the operating system (metrics). */
  bufferedBytes?(): number;
  /** Closes the transport; `protocolError` chooses the close code where the transport has one. */
  close(protocolError?: boolean): void;
}
