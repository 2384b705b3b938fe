/**
 * Application payload as the router carries it: WAMP's positional and keyword arguments (both optional), plus
 * what a message carries beside them. Gates of both protocols read and write this one shape.
 */
export interface Payload {
  readonly args?: unknown[];
  readonly kwargs?: Record<string, unknown>;
  /**
   * The message's original bytes when it came from a protocol that sends bytes (MQTT). A gate of that protocol
   * sends them unchanged, so an MQTT → router → MQTT trip is byte-exact whatever `args` made of them.
   */
  readonly raw?: Buffer;
  /** Message properties (MQTT 5 names), kept with retained entries and history. */
  readonly properties?: MessageProperties;
}

/** What a message carries beside its payload; every field optional. */
export interface MessageProperties {
  /** The delivery guarantee the publisher asked for: MQTT's QoS; a WAMP publish counts 1 when acknowledged. */
  readonly qos?: 0 | 1 | 2;
  readonly contentType?: string;
  /** MQTT 5 Payload Format Indicator: 1 = UTF-8 text. */
  readonly payloadFormat?: 0 | 1;
  /** MQTT 5 request/response: where the answer goes (an MQTT topic name) and what identifies it. */
  readonly responseTopic?: string;
  readonly correlationData?: Buffer;
  /** Name/value pairs in the order they came, repeated names included. */
  readonly userProperties?: readonly (readonly [name: string, value: string])[];
  /** Milliseconds since the epoch after which the message is not delivered any more (MQTT 5 Message Expiry). */
  readonly expiresAt?: number;
  /**
   * WAMP Payload Passthru Mode: `args[0]` is the whole payload, encoded as these attributes say; the router
   * forwards it (and them) without looking inside.
   */
  readonly passthru?: PayloadPassthru;
  /** The W3C trace context the message travels in (see `observability/tracing.ts`). */
  readonly trace?: TraceContext;
}

/** The `ppt_*` attributes of a WAMP message in Payload Passthru Mode (spec names without the prefix). */
export interface PayloadPassthru {
  readonly scheme: string;
  readonly serializer?: string;
  readonly cipher?: string;
  readonly keyid?: string;
}

/** W3C Trace Context: a valid `traceparent` and, optionally, the `tracestate` that goes with it. */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string;
}

export const EMPTY_PAYLOAD: Payload = Object.freeze({});

/** Whether kwargs carry anything: autobahn sends `{}` for "no kwargs". */
export function hasKwargs(payload: Payload): payload is Payload & { kwargs: Record<string, unknown> } {
  if (payload.kwargs === undefined || payload.kwargs === null) return false;
  for (const _ in payload.kwargs) return true;
  return false;
}

/**
 * A payload as plain data (no getters, no class), for stores that serialize it: `args` of a lazily parsed
 * payload become a value, undefined fields are left out.
 */
export function plainPayload(payload: Payload): Payload {
  const plain: { args?: unknown[]; kwargs?: Record<string, unknown>; raw?: Buffer; properties?: MessageProperties } = {};
  if (payload.args !== undefined) plain.args = payload.args;
  if (payload.kwargs !== undefined) plain.kwargs = payload.kwargs;
  if (payload.raw !== undefined) plain.raw = payload.raw;
  if (payload.properties !== undefined) plain.properties = payload.properties;
  return plain;
}
