import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { ROOT_CONTEXT, trace, type Context, type SpanContext, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * The `@opentelemetry/api` that @fox-wamp/core resolves. The API keeps one global registry per process, and a
 * copy of the API sees a provider only if it was registered through a copy of the same or a newer minor
 * version. While core's manifest asks for ^1.10 and the SDK for <1.10, npm installs two copies, and only a
 * registration through the newer one (core's) reaches both. With one shared copy this is simply that copy.
 */
const coreTraceApi: typeof trace = (
  createRequire(createRequire(import.meta.url).resolve('@fox-wamp/core'))('@opentelemetry/api') as { trace: typeof trace }
).trace;

/**
 * An OpenTelemetry SDK registered as the process's tracer provider, exporting every finished span to memory,
 * as an application would set it up before starting its router. `tracer` makes the test's own spans (the
 * caller's, the callee's); `uninstall()` unregisters it.
 */
export class InMemoryTracing {
  readonly exporter = new InMemorySpanExporter();
  private readonly provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.exporter)] });
  readonly tracer: Tracer;

  constructor() {
    coreTraceApi.setGlobalTracerProvider(this.provider);
    this.tracer = trace.getTracer('fox-wamp-tests');
  }

  /** The finished span named `name` (exactly one is expected). */
  span(name: string): ReadableSpan {
    const spans = this.exporter.getFinishedSpans().filter((span) => span.name === name);
    if (spans.length !== 1) {
      const names = this.exporter.getFinishedSpans().map((span) => span.name);
      throw new Error(`expected one finished span named ${JSON.stringify(name)}, found ${spans.length} among ${JSON.stringify(names)}`);
    }
    return spans[0]!;
  }

  async uninstall(): Promise<void> {
    await this.provider.shutdown();
    coreTraceApi.disable();
  }
}

/** W3C `traceparent` of a span context, written out independently of the router's own formatting. */
export function traceparentOf(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags & 1}`;
}

/** The fields of a W3C `traceparent` (fails the test on anything else). */
export function fieldsOf(traceparent: unknown): { traceId: string; spanId: string; flags: string } {
  const match = typeof traceparent === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent) : null;
  if (match === null) throw new Error(`not a W3C traceparent: ${JSON.stringify(traceparent)}`);
  return { traceId: match[1]!, spanId: match[2]!, flags: match[3]! };
}

/** A context whose remote parent is the span a `traceparent` names: what a callee or subscriber continues from. */
export function contextOf(traceparent: unknown): Context {
  const { traceId, spanId, flags } = fieldsOf(traceparent);
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true });
}

/** A made-up but valid W3C trace context of a client outside the test's tracer. */
export function foreignTraceparent(): { traceparent: string; traceId: string; spanId: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceparent: `00-${traceId}-${spanId}-01`, traceId, spanId };
}
