import type { SerializerName, WampSerializer } from '../serializer.js';
import { CborSerializer } from './cbor-serializer.js';
import { JsonSerializer } from './json-serializer.js';
import { MsgpackSerializer } from './msgpack-serializer.js';

export { CborSerializer } from './cbor-serializer.js';
export { JsonSerializer } from './json-serializer.js';
export { MsgpackSerializer } from './msgpack-serializer.js';

/**
 * One instance of each serializer we ship. They hold no per-connection state, so every session shares them.
 * Order: json, msgpack, cbor. Whoever negotiates subprotocols decides its own preference; this is just a list.
 */
export const ALL_SERIALIZERS: readonly WampSerializer[] = Object.freeze([
  new JsonSerializer(),
  new MsgpackSerializer(),
  new CborSerializer(),
]);

/** The WebSocket subprotocols of `ALL_SERIALIZERS`, in the same order. */
export const SUBPROTOCOLS: readonly string[] = Object.freeze(ALL_SERIALIZERS.map((s) => s.subprotocol));

const byName = new Map<string, WampSerializer>(ALL_SERIALIZERS.map((s) => [s.name, s]));
const bySubprotocol = new Map<string, WampSerializer>(ALL_SERIALIZERS.map((s) => [s.subprotocol, s]));

/** The serializer called `name`; throws for a name we do not ship (a configuration error). */
export function serializerFor(name: SerializerName): WampSerializer {
  const serializer = byName.get(name);
  if (!serializer) throw new Error(`Unknown WAMP serializer "${String(name)}"; known: ${[...byName.keys()].join(', ')}`);
  return serializer;
}

/** The serializer for a WebSocket subprotocol such as `wamp.2.json`, or `undefined` when we do not speak it. */
export function serializerForSubprotocol(subprotocol: string): WampSerializer | undefined {
  return bySubprotocol.get(subprotocol);
}
