import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MqttGate, MqttTcpListener, Router, WampWebSocketListener } from '@fox-wamp/core';
import { autobahn, AutobahnClients } from '../support/autobahn-client.js';
import { contextOf, fieldsOf, foreignTraceparent, InMemoryTracing, traceparentOf } from '../support/in-memory-tracing.js';
import { MqttTestClients } from '../support/mqtt-client.js';
import { startServer, type RunningServer } from '../support/server-process.js';
import { Collector, WampyClients } from '../support/wampy-client.js';

/**
 * W3C Trace Context through the router: WAMP `_traceparent` / `_tracestate` options and details (the spec's
 * form for implementation-specific keys, which wampy sends and shows), MQTT 5 user properties `traceparent` /
 * `tracestate`. With a tracer provider registered, the router adds a span per CALL and per PUBLISH between
 * the sender's span and the recipients; without one, it forwards the context untouched.
 */

type Dict = Record<string, unknown>;

interface Received {
  readonly details: Dict;
  readonly argsList?: unknown[];
}

/** A URI of its own for one test, in a form every client accepts (wampy refuses dashes). */
function uniqueUri(stem: string): string {
  return `${stem}.${randomBytes(4).toString('hex')}`;
}

/** The MQTT topic of a WAMP topic URI (the bridge's mapping). */
function mqttTopicOf(uri: string): string {
  return uri.replaceAll('.', '/');
}

/** The value of an MQTT 5 user property as MQTT.js reports it (one value, or the first of several). */
function userProperty(properties: { userProperties?: Record<string, string | string[]> }, name: string): string | undefined {
  const value = properties.userProperties?.[name];
  return Array.isArray(value) ? value[0] : value;
}

describe('with a tracer provider registered (a Router in process)', () => {
  let tracing: InMemoryTracing;
  let router: Router;
  let http: Server;
  let wampListener: WampWebSocketListener;
  let mqttGate: MqttGate;
  let mqttListener: MqttTcpListener;
  let wampy: WampyClients;
  let autobahnClients: AutobahnClients;
  let mqtt: MqttTestClients;

  beforeAll(async () => {
    // Before the router sees its first message: that is when it checks, once, for a registered provider.
    tracing = new InMemoryTracing();
    router = new Router({ realms: ['realm1'] });
    http = createServer();
    wampListener = new WampWebSocketListener(router, http, { path: '/ws', pingIntervalMs: 0 });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    mqttGate = new MqttGate(router, { sysInterval: 0 });
    mqttListener = await MqttTcpListener.listen(mqttGate, { port: 0 });
    const wampUrl = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`;
    wampy = new WampyClients(wampUrl, 'json');
    autobahnClients = new AutobahnClients(() => wampUrl);
    mqtt = new MqttTestClients(mqttListener.url, 5);
  });

  afterEach(async () => {
    await wampy.closeAll();
    await autobahnClients.closeAll();
    await mqtt.closeAll();
    tracing.exporter.reset();
  });

  afterAll(async () => {
    await mqttListener?.close();
    mqttGate?.close();
    wampListener?.close();
    http?.close();
    await router?.close();
    await tracing?.uninstall();
  });

  it('CALL → INVOCATION → YIELD → RESULT: caller, router and callee spans share one trace id; the callee sees the router span as parent and the caller gets the callee\'s context back', async () => {
    const procedure = uniqueUri('trace.rpc');
    const { client: callee } = await wampy.connect();
    const invocations = new Collector<Received & { calleeTraceparent: string }>();
    await callee.register(procedure, (invocation) => {
      const span = tracing.tracer.startSpan('callee', { kind: SpanKind.SERVER }, contextOf(invocation.details._traceparent));
      span.end();
      const calleeTraceparent = traceparentOf(span.spanContext());
      invocations.push({ ...(invocation as Received), calleeTraceparent });
      return { argsList: ['done'], options: { _traceparent: calleeTraceparent } };
    });
    const { client: caller } = await wampy.connect();

    const callerSpan = tracing.tracer.startSpan('caller', { kind: SpanKind.CLIENT });
    const result = (await caller.call(procedure, ['work'], { _traceparent: traceparentOf(callerSpan.spanContext()), _tracestate: 'fox=1' })) as Received;
    callerSpan.end();

    const [invocation] = await invocations.waitFor(1, 'the invocation');
    const routerSpan = tracing.span(`call ${procedure}`);
    const calleeSpan = tracing.span('callee');
    const traceId = callerSpan.spanContext().traceId;
    // One trace: caller → router → callee.
    expect(routerSpan.spanContext().traceId).toBe(traceId);
    expect(calleeSpan.spanContext().traceId).toBe(traceId);
    expect(routerSpan.parentSpanContext?.spanId).toBe(callerSpan.spanContext().spanId);
    expect(calleeSpan.parentSpanContext?.spanId).toBe(routerSpan.spanContext().spanId);
    // What the callee saw: the router span's context, the caller's tracestate kept.
    expect(fieldsOf(invocation!.details._traceparent)).toMatchObject({ traceId, spanId: routerSpan.spanContext().spanId });
    expect(invocation!.details._tracestate).toBe('fox=1');
    expect(routerSpan.kind).toBe(SpanKind.SERVER);
    expect(routerSpan.attributes).toMatchObject({ 'rpc.system': 'wamp', 'rpc.method': procedure, 'wamp.realm': 'realm1' });
    expect(routerSpan.status.code).toBe(SpanStatusCode.UNSET);
    // YIELD → RESULT: the callee's context reaches the caller as the callee sent it.
    expect(result.details._traceparent).toBe(invocation!.calleeTraceparent);
    expect(result.argsList).toEqual(['done']);
  });

  it('a CALL without trace context still gets a router span, which starts the trace the callee continues', async () => {
    const procedure = uniqueUri('trace.root');
    const { client: callee } = await wampy.connect();
    const invocations = new Collector<Received>();
    await callee.register(procedure, (invocation) => {
      invocations.push(invocation as Received);
      return { argsList: ['ok'] };
    });
    const { client: caller } = await wampy.connect();

    await caller.call(procedure, ['untraced']);

    const [invocation] = await invocations.waitFor(1, 'the invocation');
    const routerSpan = tracing.span(`call ${procedure}`);
    expect(routerSpan.parentSpanContext).toBeUndefined();
    expect(fieldsOf(invocation!.details._traceparent)).toMatchObject({ traceId: routerSpan.spanContext().traceId, spanId: routerSpan.spanContext().spanId });
  });

  it('a CALL the callee fails ends its router span with an error status naming the error URI', async () => {
    const procedure = uniqueUri('trace.fail');
    const callee = await autobahnClients.connect('json');
    await callee.session.register(procedure, () => {
      throw new autobahn.Error('app.error.refused');
    });
    const { client: caller } = await wampy.connect();
    const callerSpan = tracing.tracer.startSpan('caller');

    const failure = (await caller.call(procedure, [], { _traceparent: traceparentOf(callerSpan.spanContext()) }).then(
      () => undefined,
      (error: unknown) => error,
    )) as { errorUri?: string } | undefined;
    callerSpan.end();

    expect(failure?.errorUri).toBe('app.error.refused');
    const routerSpan = tracing.span(`call ${procedure}`);
    expect(routerSpan.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'app.error.refused' });
    expect(routerSpan.parentSpanContext?.spanId).toBe(callerSpan.spanContext().spanId);
  });

  it('PUBLISH → EVENT: the subscriber sees the router\'s publish span, whose parent is the publisher\'s span', async () => {
    const topic = uniqueUri('trace.pubsub');
    const { client: subscriber } = await wampy.connect();
    const events = new Collector<Received>();
    await subscriber.subscribe(topic, (event) => events.push(event as Received));
    const { client: publisher } = await wampy.connect();

    const publisherSpan = tracing.tracer.startSpan('publisher', { kind: SpanKind.PRODUCER });
    await publisher.publish(topic, ['news'], { _traceparent: traceparentOf(publisherSpan.spanContext()) });
    publisherSpan.end();

    const [event] = await events.waitFor(1, 'the event');
    const routerSpan = tracing.span(`publish ${topic}`);
    expect(routerSpan.spanContext().traceId).toBe(publisherSpan.spanContext().traceId);
    expect(routerSpan.parentSpanContext?.spanId).toBe(publisherSpan.spanContext().spanId);
    expect(routerSpan.kind).toBe(SpanKind.PRODUCER);
    expect(routerSpan.attributes).toMatchObject({ 'messaging.destination.name': topic, 'wamp.events': 1 });
    expect(fieldsOf(event!.details._traceparent)).toMatchObject({ traceId: publisherSpan.spanContext().traceId, spanId: routerSpan.spanContext().spanId });
    expect(event!.argsList).toEqual(['news']);
  });

  it('an MQTT 5 traceparent user property reaches a WAMP subscriber as _traceparent through the router span', async () => {
    const topic = uniqueUri('trace.fromdevice');
    const { client: subscriber } = await wampy.connect();
    const events = new Collector<Received>();
    await subscriber.subscribe(topic, (event) => events.push(event as Received));
    const device = await mqtt.connect();
    const origin = foreignTraceparent();

    await device.client.publishAsync(mqttTopicOf(topic), JSON.stringify({ celsius: 21 }), {
      qos: 1,
      properties: { userProperties: { traceparent: origin.traceparent, tracestate: 'device=7' } },
    });

    const [event] = await events.waitFor(1, 'the event from MQTT');
    const routerSpan = tracing.span(`publish ${topic}`);
    expect(routerSpan.spanContext().traceId).toBe(origin.traceId);
    expect(routerSpan.parentSpanContext?.spanId).toBe(origin.spanId);
    expect(fieldsOf(event!.details._traceparent)).toMatchObject({ traceId: origin.traceId, spanId: routerSpan.spanContext().spanId });
    expect(event!.details._tracestate).toBe('device=7');
    expect(event!.argsList).toEqual([{ celsius: 21 }]);
  });

  it('a WAMP _traceparent reaches an MQTT 5 subscriber as the traceparent user property, naming the router span', async () => {
    const topic = uniqueUri('trace.todevice');
    const device = await mqtt.connect();
    await device.client.subscribeAsync(mqttTopicOf(topic), { qos: 1 });
    const { client: publisher } = await wampy.connect();
    const publisherSpan = tracing.tracer.startSpan('publisher');

    await publisher.publish(topic, ['on'], { _traceparent: traceparentOf(publisherSpan.spanContext()), _tracestate: 'app=2' });
    publisherSpan.end();

    const received = await device.inbox.waitForMessage(mqttTopicOf(topic));
    const routerSpan = tracing.span(`publish ${topic}`);
    expect(fieldsOf(userProperty(received.properties, 'traceparent'))).toMatchObject({
      traceId: publisherSpan.spanContext().traceId,
      spanId: routerSpan.spanContext().spanId,
    });
    expect(userProperty(received.properties, 'tracestate')).toBe('app=2');
    expect(received.text).toBe('"on"');
  });
});

describe('without a tracer provider (the standalone server)', () => {
  let server: RunningServer;
  let wampy: WampyClients;
  let mqtt: MqttTestClients;

  beforeAll(async () => {
    server = await startServer();
    wampy = new WampyClients(server.wampUrl, 'json');
    mqtt = new MqttTestClients(server.mqttUrl!, 5);
  });

  afterEach(async () => {
    await wampy.closeAll();
    await mqtt.closeAll();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('the context is forwarded untouched: the callee sees the caller\'s traceparent and tracestate, the caller the callee\'s', async () => {
    const procedure = uniqueUri('trace.plain');
    const callerContext = foreignTraceparent();
    const calleeContext = foreignTraceparent();
    const { client: callee } = await wampy.connect();
    const invocations = new Collector<Received>();
    await callee.register(procedure, (invocation) => {
      invocations.push(invocation as Received);
      return { argsList: ['ok'], options: { _traceparent: calleeContext.traceparent } };
    });
    const { client: caller } = await wampy.connect();

    const result = (await caller.call(procedure, [], { _traceparent: callerContext.traceparent, _tracestate: 'fox=1' })) as Received;

    const [invocation] = await invocations.waitFor(1, 'the invocation');
    expect(invocation!.details).toMatchObject({ _traceparent: callerContext.traceparent, _tracestate: 'fox=1' });
    expect(result.details._traceparent).toBe(calleeContext.traceparent);
  });

  it('an invalid traceparent is dropped (W3C: ignored, never an error), and the call goes through', async () => {
    const procedure = uniqueUri('trace.invalid');
    const { client: callee } = await wampy.connect();
    const invocations = new Collector<Received>();
    await callee.register(procedure, (invocation) => {
      invocations.push(invocation as Received);
      return { argsList: ['ok'] };
    });
    const { client: caller } = await wampy.connect();

    const result = (await caller.call(procedure, [], { _traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01', _tracestate: 'fox=1' })) as Received;

    const [invocation] = await invocations.waitFor(1, 'the invocation');
    expect(invocation!.details).not.toHaveProperty('_traceparent');
    expect(invocation!.details).not.toHaveProperty('_tracestate');
    expect(result.argsList).toEqual(['ok']);
  });

  it('MQTT → WAMP → MQTT: the traceparent user property becomes _traceparent as it is, and a WAMP _traceparent the user property', async () => {
    const inbound = uniqueUri('trace.plainin');
    const outbound = uniqueUri('trace.plainout');
    const { client: subscriber } = await wampy.connect();
    const events = new Collector<Received>();
    await subscriber.subscribe(inbound, (event) => events.push(event as Received));
    const device = await mqtt.connect();
    await device.client.subscribeAsync(mqttTopicOf(outbound), { qos: 1 });
    const fromDevice = foreignTraceparent();
    const fromApp = foreignTraceparent();

    await device.client.publishAsync(mqttTopicOf(inbound), '1', { qos: 1, properties: { userProperties: { traceparent: fromDevice.traceparent } } });
    const { client: publisher } = await wampy.connect();
    await publisher.publish(outbound, ['2'], { _traceparent: fromApp.traceparent });

    const [event] = await events.waitFor(1, 'the event from MQTT');
    expect(event!.details._traceparent).toBe(fromDevice.traceparent);
    const received = await device.inbox.waitForMessage(mqttTopicOf(outbound));
    expect(userProperty(received.properties, 'traceparent')).toBe(fromApp.traceparent);
  });
});
