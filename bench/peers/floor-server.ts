/**
 * The floor: the least a WAMP router built on `ws` can do. It parses each message and forwards it to every
 * other connection with no routing, no checks and no state (PUBLISH → EVENT, CALL → INVOCATION,
 * YIELD → RESULT; the handshakes get canned answers). It corks each socket for one event-loop turn, as our
 * transport does, so that a burst of frames costs one write: its throughput is the ceiling for any router
 * on `ws` on this machine, and the benchmark reports ours as a ratio of it.
 *
 *   node dist/bench/peers/floor-server.js   → prints `listening PORT`
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { serializerForSubprotocol, WriteCorker, type WampSerializer } from '@fox-wamp/core';

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, handleProtocols: (protocols) => [...protocols][0] ?? false });
const peers = new Set<{ ws: WebSocket; serializer: WampSerializer; corker: WriteCorker }>();

wss.on('connection', (ws, request) => {
  const serializer = serializerForSubprotocol(ws.protocol)!;
  const peer = { ws, serializer, corker: new WriteCorker(request.socket) };
  peers.add(peer);
  ws.on('close', () => peers.delete(peer));
  ws.on('message', (data: Buffer, isBinary) => {
    const message = serializer.decode(isBinary ? data : data.toString('utf8'));
    const send = (reply: unknown[]) => {
      peer.corker.hold();
      ws.send(serializer.encode(reply as [number]));
    };
    switch (message[0]) {
      case 1: return send([2, 1, { roles: { broker: {}, dealer: {} } }]);
      case 6: return send([6, {}, 'wamp.close.goodbye_and_out']);
      case 32: return send([33, message[1], 1]);
      case 64: return send([65, message[1], 1]);
      case 16:
        if ((message[2] as { acknowledge?: boolean }).acknowledge) send([17, message[1], 1]);
        return forward(peer, [36, 1, 1, {}, ...message.slice(4)]);
      case 48: return forward(peer, [68, message[1], 1, {}, ...message.slice(4)]);
      case 70: return forward(peer, [50, message[1], {}, ...message.slice(3)]);
    }
  });
});

/** Encodes once per serializer and sends to everyone but the sender. */
function forward(from: { ws: WebSocket }, message: unknown[]): void {
  const frames = new Map<WampSerializer, string | Buffer>();
  for (const peer of peers) {
    if (peer.ws === from.ws) continue;
    let frame = frames.get(peer.serializer);
    if (frame === undefined) {
      frame = peer.serializer.encode(message as [number]);
      frames.set(peer.serializer, frame);
    }
    peer.corker.hold();
    peer.ws.send(frame);
  }
}

wss.on('listening', () => console.log(`listening ${(wss.address() as { port: number }).port}`));
// Exit normally on SIGTERM so that a `--cpu-prof` profile gets written (the benchmark's --profile).
process.on('SIGTERM', () => process.exit(0));
