import WebSocket from 'ws';

/**
 * Runs `body` with the global `WebSocket` (which autobahn uses) replaced by `ws`'s, trusting `ca`: how an
 * autobahn client reaches a `wss://` endpoint with a self-signed certificate. The original is put back
 * afterwards.
 */
export async function withTrustedCa<T>(ca: string, body: () => Promise<T>): Promise<T> {
  const original = globalThis.WebSocket;
  class TrustingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca });
    }
  }
  (globalThis as { WebSocket: unknown }).WebSocket = TrustingWebSocket;
  try {
    return await body();
  } finally {
    (globalThis as { WebSocket: unknown }).WebSocket = original;
  }
}
