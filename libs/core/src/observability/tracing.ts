import {
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import type { CallSink } from '../router/call.js';
import type { RouterError } from '../router/errors.js';
import type { MessageProperties, Payload, TraceContext } from '../router/payload.js';
import { wampUriOf, type TopicLevels } from '../router/topic.js';

/**
 * W3C Trace Context through the router, and the router's own spans through `@opentelemetry/api`.
 *
 * A message's trace context travels in its properties (`MessageProperties.trace`): WAMP options and details
 * `_traceparent` / `_tracestate` (the spec's form for implementation-specific keys), MQTT 5 user properties
 * `traceparent` / `tracestate` (W3C's MQTT binding). When the application has registered a tracer provider,
 * the router makes a span per CALL (until the caller has its outcome) and per PUBLISH (its delivery), child of
 * the message's context, and what it sends on carries the router span's context instead. Without one, the
 * context is forwarded as it came and nothing else happens: whether a provider is registered is checked once,
 * at the first message that could be traced.
 */

/** The names of the context in MQTT 5 user properties (and HTTP headers). */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

const TRACER_NAME = '@fox-wamp/core';
/** W3C: version (not `ff`), trace ID, parent (span) ID, flags; later versions may append fields. */
const TRACEPARENT_FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);
/** W3C asks vendors to propagate at least 512 characters of `tracestate`; longer ones are dropped here. */
const MAX_TRACESTATE_LENGTH = 512;

/**
 * A trace context from the values a message carried, or undefined when `traceparent` is absent or not a valid
 * W3C value: as W3C asks, an unreadable context is ignored (never an error) and `tracestate` goes with it.
 */
export function traceContextOf(traceparent: unknown, tracestate: unknown): TraceContext | undefined {
  if (typeof traceparent !== 'string' || parseTraceparent(traceparent) === undefined) return undefined;
  if (typeof tracestate === 'string' && tracestate !== '' && tracestate.length <= MAX_TRACESTATE_LENGTH) return { traceparent, tracestate };
  return { traceparent };
}

/** The trace context in MQTT 5 user properties (several `tracestate` values are one list, W3C-style). */
export function traceFromUserProperties(pairs: readonly (readonly [string, string])[] | undefined): TraceContext | undefined {
  if (pairs === undefined) return undefined;
  let traceparent: string | undefined;
  const states: string[] = [];
  for (const [name, value] of pairs) {
    if (name === TRACEPARENT) traceparent ??= value;
    else if (name === TRACESTATE) states.push(value);
  }
  return traceparent === undefined ? undefined : traceContextOf(traceparent, states.join(','));
}

/** The trace context as MQTT 5 user properties. */
export function traceUserProperties(context: TraceContext): [string, string][] {
  const pairs: [string, string][] = [[TRACEPARENT, context.traceparent]];
  if (context.tracestate !== undefined) pairs.push([TRACESTATE, context.tracestate]);
  return pairs;
}

/** The span context a `traceparent` names (remote), or undefined when it is not a valid W3C value. */
export function parseTraceparent(traceparent: string): SpanContext | undefined {
  const match = TRACEPARENT_FORMAT.exec(traceparent);
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 0xff, isRemote: true };
}

/** A span context as W3C Trace Context. */
export function traceContextOfSpan(spanContext: SpanContext): TraceContext {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  const tracestate = spanContext.traceState?.serialize();
  return tracestate === undefined || tracestate === '' ? { traceparent } : { traceparent, tracestate };
}

/** undefined: not checked yet; null: no tracer provider registered (tracing off). */
let tracer: Tracer | null | undefined;

/**
 * The router's tracer, or undefined while the application has registered no tracer provider. Checked once:
 * register the provider before the router handles its first message (OpenTelemetry's setup runs first anyway).
 */
export function routerTracer(): Tracer | undefined {
  if (tracer === undefined) tracer = registeredTracer() ?? null;
  return tracer ?? undefined;
}

function registeredTracer(): Tracer | undefined {
  // The API's global provider is a proxy that hands out no-op tracers until an SDK registers a delegate. Duck
  // typing, not instanceof: the application may hold another copy of the API package.
  const provider = trace.getTracerProvider() as ReturnType<typeof trace.getTracerProvider> & {
    getDelegateTracer?(name: string): Tracer | undefined;
  };
  if (typeof provider.getDelegateTracer === 'function' && provider.getDelegateTracer(TRACER_NAME) === undefined) return undefined;
  return provider.getTracer(TRACER_NAME);
}

/**
 * One router span, child of the message's trace context (a new trace when it had none). `payload` is the
 * message as it goes on: the same payload, with the router span's context as its trace.
 */
export class RouterSpan {
  private ended = false;

  private constructor(
    private readonly span: Span,
    readonly payload: Payload,
  ) {}

  /** Starts the span of a PUBLISH (its delivery to subscribers); undefined when tracing is off. */
  static publish(realm: string, levels: TopicLevels, payload: Payload): RouterSpan | undefined {
    if (routerTracer() === undefined) return undefined;
    const topic = wampUriOf(levels);
    const attributes: Attributes = { 'messaging.system': 'wamp', 'messaging.operation.type': 'publish', 'messaging.destination.name': topic, 'wamp.realm': realm };
    return RouterSpan.start(`publish ${topic}`, SpanKind.PRODUCER, attributes, payload);
  }

  /** Starts the span of a CALL (until the caller has its outcome); undefined when tracing is off. */
  static call(realm: string, procedure: string, payload: Payload): RouterSpan | undefined {
    if (routerTracer() === undefined) return undefined;
    return RouterSpan.start(`call ${procedure}`, SpanKind.SERVER, { 'rpc.system': 'wamp', 'rpc.method': procedure, 'wamp.realm': realm }, payload);
  }

  private static start(name: string, kind: SpanKind, attributes: Attributes, payload: Payload): RouterSpan | undefined {
    const tracer = routerTracer();
    if (tracer === undefined) return undefined;
    const span = tracer.startSpan(name, { kind, attributes }, parentContextOf(payload.properties?.trace));
    const properties: MessageProperties = Object.assign({}, payload.properties, { trace: traceContextOfSpan(span.spanContext()) });
    return new RouterSpan(span, new TracedPayload(payload, properties));
  }

  /** Ends the span (once); an error marks it failed with the error's URI. */
  end(error?: RouterError): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) {
      this.span.setAttribute('wamp.error', error.uri);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: error.uri });
    }
    this.span.end();
  }

  /** Ends the span with the publication's fan-out: how many events it became. */
  delivered(events: number): void {
    this.span.setAttribute('wamp.events', events);
    this.end();
  }

  /** `sink`, ending the span when the call's final result or error passes through. */
  sink(sink: CallSink): CallSink {
    return {
      result: (payload, progress) => {
        if (!progress) this.end();
        sink.result(payload, progress);
      },
      error: (error) => {
        this.end(error);
        sink.error(error);
      },
    };
  }
}

function parentContextOf(context: TraceContext | undefined): Context {
  if (context === undefined) return ROOT_CONTEXT;
  const parent = parseTraceparent(context.traceparent);
  if (parent === undefined) return ROOT_CONTEXT;
  const traceState = context.tracestate === undefined ? undefined : createTraceState(context.tracestate);
  return trace.setSpanContext(ROOT_CONTEXT, traceState === undefined ? parent : { ...parent, traceState });
}

/** A payload with other properties, reading everything else from the original (an MQTT payload parses lazily). */
class TracedPayload implements Payload {
  constructor(
    private readonly original: Payload,
    readonly properties: MessageProperties,
  ) {}

  get args(): unknown[] | undefined {
    return this.original.args;
  }

  get kwargs(): Record<string, unknown> | undefined {
    return this.original.kwargs;
  }

  get raw(): Buffer | undefined {
    return this.original.raw;
  }
}
