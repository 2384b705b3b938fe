import { Call, DISCARDING_SINK, type CallSink } from './call.js';
import { ErrorUri, RouterError } from './errors.js';
import { withForwardedDetails } from './forwarded-details.js';
import { randomId } from './ids.js';
import type { CallOptions, CancelMode, RegisterOptions } from './options.js';
import type { Payload } from './payload.js';
import { Callee, Registration } from './registration.js';
import type { Session } from './session.js';
import { TopicIndex } from './topic-index.js';
import { comparePrecedence, isConcrete, type MatchPolicy, type TopicPattern } from './topic-pattern.js';
import { RouterSpan } from '../observability/tracing.js';

/** What happened to a YIELD or callee ERROR, so a gate can tell a late answer from a bogus one. */
export type InvocationAnswer =
  /** Delivered to the caller. */
  | 'delivered'
  /** The invocation existed but is over (caller left, call canceled): drop quietly. */
  | 'stale'
  /** This session was never sent that invocation: a protocol violation. */
  | 'unknown'
  /**
   * A YIELD in Payload Passthru Mode for a caller that did not announce the feature: the call failed with
   * `wamp.error.feature_not_supported`, and the spec wants the callee told the same.
   */
  | 'unsupported';

/** Chunks of one progressive call that may wait while the call itself waits for a busy callee. */
const MAX_QUEUED_CHUNKS = 1000;

export interface DealerLimits {
  /** Calls that may wait per registration when all its callees are at their concurrency limit. */
  readonly maxQueuedCalls: number;
}

/**
 * The dealer of one realm: registrations (exact, prefix, wildcard) and the routing of calls to callees
 * under the spec's precedence, the invocation policies and the callees' concurrency limits.
 *
 * Reducer registrations (`reducer: true`) live here too, with their callees, concurrency and invocations,
 * but in an index of their own: a CALL never reaches them, and `reducerFor` finds them for a topic.
 */
export class Dealer {
  private readonly exact = new Map<string, Registration>();
  private readonly byKey = new Map<string, Registration>();
  private readonly byId = new Map<number, Registration>();
  private readonly patterns = new TopicIndex<Registration>();
  private readonly reducers = new Set<Registration>();
  private readonly exactReducers = new Map<string, Registration>();
  private readonly reducerPatterns = new TopicIndex<Registration>();

  /**
   * Asked when a call finds no registration, before it fails; the call looks again once it resolves (a
   * cluster reads its registry, which holds registrations other processes have confirmed but whose
   * announcement has not reached this one yet). Absent: the call fails at once.
   */
  onMissingProcedure: ((procedure: string) => Promise<unknown>) | undefined;

  constructor(private readonly limits: DealerLimits) {}

  get registrationCount(): number {
    return this.byId.size;
  }

  /** Reducer registrations in the realm: while 0, a publication needs no reducer look-up. */
  get reducerCount(): number {
    return this.reducers.size;
  }

  isReducer(registration: Registration): boolean {
    return this.reducers.has(registration);
  }

  getRegistration(id: number): Registration | undefined {
    return this.byId.get(id);
  }

  registrations(): IterableIterator<Registration> {
    return this.byId.values();
  }

  register(session: Session, uri: string, match: MatchPolicy, pattern: TopicPattern, options: RegisterOptions): Registration {
    const policy = options.invoke ?? 'single';
    const concurrency = options.concurrency ?? Infinity;
    const reducer = options.reducer === true;
    const key = registrationKey(match, uri, reducer);
    let registration = this.byKey.get(key);
    if (registration !== undefined) {
      if (registration.calleeOf(session) !== undefined) {
        throw new RouterError(ErrorUri.procedureAlreadyExists, `this session already registered ${uri}`);
      }
      if (registration.policy === 'single' || policy === 'single') {
        throw new RouterError(ErrorUri.procedureAlreadyExists, `${uri} is already registered`);
      }
      if (registration.policy !== policy) {
        throw new RouterError(
          ErrorUri.procedureAlreadyExists,
          `${uri} is registered with invocation policy '${registration.policy}', not '${policy}'`,
        );
      }
    } else {
      registration = new Registration(randomId(), uri, match, pattern, policy);
      this.byKey.set(key, registration);
      this.byId.set(registration.id, registration);
      if (reducer) this.reducers.add(registration);
      if (isConcrete(pattern)) (reducer ? this.exactReducers : this.exact).set(uri, registration);
      else (reducer ? this.reducerPatterns : this.patterns).add(pattern, registration);
    }
    registration.callees.push(new Callee(session, registration, concurrency));
    session.registrations.add(registration);
    return registration;
  }

  unregister(session: Session, registrationId: number): void {
    const registration = this.byId.get(registrationId);
    const callee = registration?.calleeOf(session);
    if (registration === undefined || callee === undefined) {
      throw new RouterError(ErrorUri.noSuchRegistration, `no registration ${registrationId} in this session`);
    }
    this.detach(callee);
  }

  /** Routes a call. The outcome reaches `sink`; the returned call can be used to find it again. */
  call(caller: Session, procedure: string, levels: readonly string[], payload: Payload, options: CallOptions, sink: CallSink): Call {
    const registration = this.lookup(procedure, levels);
    if (registration !== undefined) return this.callRegistration(caller, registration, procedure, payload, options, sink);
    if (this.onMissingProcedure === undefined) throw noSuchProcedure(procedure);
    return this.callAfterLookup(this.onMissingProcedure, caller, procedure, levels, payload, options, sink);
  }

  /**
   * A call that waits (queued on a placeholder registration, so the caller may cancel it or leave) until
   * `onMissingProcedure` has looked further, then goes on as a new call or fails with no_such_procedure.
   */
  private callAfterLookup(
    lookFurther: (procedure: string) => Promise<unknown>,
    caller: Session,
    procedure: string,
    levels: readonly string[],
    payload: Payload,
    options: CallOptions,
    sink: CallSink,
  ): Call {
    const placeholder = new Registration(0, procedure, 'exact', { kind: 'levels', levels: [...levels], rest: false }, 'single');
    const call = new Call(caller, procedure, placeholder, payload, options, sink);
    caller.calls.add(call);
    placeholder.queue.push(call);
    const resume = () => {
      if (call.state === 'done' || call.sink === DISCARDING_SINK) return;
      this.dequeue(call);
      caller.calls.delete(call);
      const registration = this.lookup(procedure, levels);
      if (registration === undefined) return call.sink.error(noSuchProcedure(procedure));
      try {
        const next = this.callRegistration(caller, registration, procedure, payload, options, call.sink);
        call.rerouted = next;
        for (const chunk of call.chunks ?? []) this.continueCall(next, chunk.payload, chunk.progress);
        call.chunks = undefined;
      } catch (error) {
        call.sink.error(error instanceof RouterError ? error : new RouterError(ErrorUri.runtimeError, String(error)));
      }
    };
    lookFurther(procedure).then(resume, resume);
    return call;
  }

  /**
   * The reducer registration for a topic (`key`: its topic key, which is the WAMP URI for WAMP topics), by
   * the same precedence as calls; undefined when none matches.
   */
  reducerFor(key: string, levels: readonly string[]): Registration | undefined {
    return this.lookupIn(this.exactReducers, this.reducerPatterns, key, levels);
  }

  /** Routes a call to `registration` (found by the caller, e.g. with `reducerFor`), as `call` does. */
  callRegistration(caller: Session, registration: Registration, procedure: string, payload: Payload, options: CallOptions, sink: CallSink): Call {
    // With tracing on, the call runs in a router span until the caller has its outcome; the callee sees its context.
    const span = RouterSpan.call(caller.realm.name, procedure, payload);
    if (span !== undefined) {
      payload = span.payload;
      sink = span.sink(sink);
    }
    const call = new Call(caller, procedure, registration, payload, options, sink);
    const callee = registration.pickCallee();
    if (callee !== undefined) {
      caller.calls.add(call);
      this.invoke(call, callee);
    } else if (registration.queue.length >= this.limits.maxQueuedCalls) {
      const error = new RouterError(
        ErrorUri.callQueueFull,
        `all callees of ${registration.uri} are busy and ${registration.queue.length} calls already wait`,
      );
      span?.end(error);
      throw error;
    } else {
      caller.calls.add(call);
      registration.queue.push(call);
    }
    const timeout = options.timeout;
    if (timeout !== undefined && timeout > 0 && call.state !== 'done') {
      // Spec (Call Timeouts): the dealer cancels as `killnowait` where the callee can be interrupted, else `skip`.
      call.timer = setTimeout(() => {
        this.cancel(call, 'killnowait', new RouterError(ErrorUri.timeout, `no answer from ${procedure} within ${timeout} ms`));
      }, timeout);
      call.timer.unref();
    }
    return call;
  }

  /**
   * Invokes one callee in particular (a call another router process of the cluster routed to it), waiting in
   * that callee's own queue while it is at its concurrency limit. No timeout here: the caller's process keeps it.
   */
  invokeCallee(caller: Session, callee: Callee, procedure: string, payload: Payload, options: CallOptions, sink: CallSink): Call {
    const call = new Call(caller, procedure, callee.registration, payload, options, sink);
    caller.calls.add(call);
    if (callee.hasCapacity) this.invoke(call, callee);
    else callee.waiting.push(call);
    return call;
  }

  /**
   * The next chunk of a progressive call invocation (spec: the caller repeats the CALL with the same request
   * ID; `progress` false marks the last chunk). Returns false, doing nothing, when the call takes no more
   * chunks: it is over (the callee may answer before the last chunk) or its last chunk was sent.
   */
  continueCall(call: Call, payload: Payload, progress: boolean): boolean {
    if (call.rerouted !== undefined) return this.continueCall(call.rerouted, payload, progress);
    if (call.state === 'done' || !call.streaming || call.sink === DISCARDING_SINK) return false;
    call.streaming = progress;
    if (call.state === 'invoked') {
      this.sendChunk(call, payload, progress);
      return true;
    }
    const chunks = (call.chunks ??= []);
    if (chunks.length >= MAX_QUEUED_CHUNKS) {
      this.dequeue(call);
      this.takeSink(call).error(new RouterError(ErrorUri.callQueueFull, `more than ${MAX_QUEUED_CHUNKS} chunks wait for a busy callee`));
      return true;
    }
    chunks.push({ payload, progress });
    return true;
  }

  /**
   * Cancels a call (spec: Call Canceling). A queued call simply ends. An invoked one: `skip` answers the
   * caller now and drops the callee's later answer; `killnowait` also INTERRUPTs the callee and frees its
   * slot; `kill` INTERRUPTs and lets the callee's answer (RESULT or ERROR) reach the caller. A callee that
   * cannot be interrupted gets `skip`. A call that is over, or already answered, is left alone.
   */
  cancel(call: Call, mode: CancelMode, error = new RouterError(ErrorUri.canceled, 'the call was canceled')): void {
    if (call.rerouted !== undefined) return this.cancel(call.rerouted, mode, error);
    if (call.state === 'done' || call.sink === DISCARDING_SINK) return;
    if (call.state === 'queued') {
      this.dequeue(call);
      this.takeSink(call).error(error);
      return;
    }
    const interrupted = mode !== 'skip' && this.interrupt(call, mode);
    if (interrupted && mode === 'kill') return;
    // killnowait: the callee owes no answer, so its slot is free now. skip: it stays busy until it answers.
    if (interrupted) this.finish(call);
    this.takeSink(call).error(error);
  }

  /** A callee's YIELD. */
  yield(callee: Session, invocationId: number, payload: Payload, progress: boolean): InvocationAnswer {
    const call = callee.invocations.get(invocationId);
    if (call === undefined) return this.missing(callee, invocationId);
    if (progress && !call.options.receiveProgress) return 'delivered';
    if (payload.properties?.passthru !== undefined && !takesPassthru(call.caller, 'caller')) {
      this.finish(call);
      call.sink.error(passthruRefused('the caller', call.procedure));
      return 'unsupported';
    }
    if (progress) {
      call.sink.result(payload, true);
      return 'delivered';
    }
    this.finish(call);
    call.sink.result(payload, false);
    return 'delivered';
  }

  /** A callee's ERROR for an invocation: passed to the caller with the callee's URI, args and kwargs. */
  error(callee: Session, invocationId: number, error: RouterError): InvocationAnswer {
    const call = callee.invocations.get(invocationId);
    if (call === undefined) return this.missing(callee, invocationId);
    this.finish(call);
    // An ERROR has no answer to refuse it with: a caller that cannot take its payload learns only that much.
    const passthruMismatch = error.properties?.passthru !== undefined && !takesPassthru(call.caller, 'caller');
    call.sink.error(passthruMismatch ? passthruRefused('the caller', call.procedure) : error);
    return 'delivered';
  }

  /** A session is leaving: its registrations go, its invocations fail, its own calls go nowhere. */
  removeSession(session: Session): void {
    // Detach first, so that the slots freed below are not handed straight back to the leaving callee.
    for (const registration of session.registrations) {
      const callee = registration.calleeOf(session);
      if (callee !== undefined) this.detach(callee);
    }
    for (const call of session.invocations.values()) {
      this.finish(call);
      call.sink.error(new RouterError(ErrorUri.canceled, 'the callee left before answering'));
    }
    const calls = [...session.calls];
    for (const call of calls) {
      this.takeSink(call);
      if (call.state === 'queued') this.dequeue(call);
    }
    // Spec (Caller Leaving During RPC Invocation): INTERRUPT with killnowait where the callee supports it.
    for (const call of calls) {
      if (call.state === 'invoked' && this.interrupt(call, 'killnowait')) this.finish(call);
    }
  }

  /** Whether a CALL of `procedure` would find a registration (the MQTT gate turns requests into calls then). */
  hasRegistrationFor(procedure: string, levels: readonly string[]): boolean {
    return this.lookup(procedure, levels) !== undefined;
  }

  private lookup(procedure: string, levels: readonly string[]): Registration | undefined {
    return this.lookupIn(this.exact, this.patterns, procedure, levels);
  }

  private lookupIn(exactIndex: Map<string, Registration>, patterns: TopicIndex<Registration>, procedure: string, levels: readonly string[]): Registration | undefined {
    const exact = exactIndex.get(procedure);
    if (exact !== undefined) return exact;
    let best: Registration | undefined;
    patterns.match(levels, (candidate) => {
      if (best === undefined || comparePrecedence(candidate.pattern, best.pattern) < 0) best = candidate;
    });
    return best;
  }

  private invoke(call: Call, callee: Callee): void {
    const session = callee.session;
    if (call.options.progress && session.peer.acceptsProgressiveInvocations?.() !== true) {
      // Spec: a callee cannot be unaware of progressive invocations, so the call fails rather than go to it.
      call.state = 'done';
      this.takeSink(call).error(
        new RouterError(ErrorUri.featureNotSupported, `the callee of ${call.registration.uri} does not support progressive call invocations`),
      );
      return;
    }
    if (call.payload.properties?.passthru !== undefined && !takesPassthru(session, 'callee')) {
      // Spec (Payload Passthru Mode): an application error for the caller, not a protocol error.
      call.state = 'done';
      this.takeSink(call).error(passthruRefused(`the callee of ${call.registration.uri}`, call.procedure));
      return;
    }
    call.state = 'invoked';
    call.callee = callee;
    call.invocationId = session.invocationIds.next();
    callee.inFlight++;
    session.invocations.set(call.invocationId, call);
    this.sendChunk(call, call.payload, call.options.progress === true);
    const chunks = call.chunks;
    call.chunks = undefined;
    for (const chunk of chunks ?? []) this.sendChunk(call, chunk.payload, chunk.progress);
  }

  /** One INVOCATION of a call; every chunk of a progressive call has the same request ID and details. */
  private sendChunk(call: Call, payload: Payload, progress: boolean): void {
    const details = invocationDetails(call);
    if (progress) details.progress = true;
    call.callee!.session.peer.sendInvocation({ requestId: call.invocationId, registrationId: call.registration.id, details, payload });
  }

  /** Ends an invoked call: frees the callee's slot and lets the next queued call in. */
  private finish(call: Call): void {
    const callee = call.callee!;
    call.state = 'done';
    clearTimeout(call.timer);
    callee.inFlight--;
    callee.session.invocations.delete(call.invocationId);
    call.caller.calls.delete(call);
    // A call forwarded for this callee in particular goes before the registration's queue.
    if (callee.waiting.length > 0 && callee.hasCapacity) this.invoke(callee.waiting.shift()!, callee);
    this.drain(call.registration);
  }

  /** Detaches a call from its caller, who has its outcome or is gone: returns the sink for that outcome. */
  private takeSink(call: Call): CallSink {
    const sink = call.sink;
    call.sink = DISCARDING_SINK;
    clearTimeout(call.timer);
    call.caller.calls.delete(call);
    return sink;
  }

  private dequeue(call: Call): void {
    const queue = call.registration.queue;
    const index = queue.indexOf(call);
    if (index >= 0) queue.splice(index, 1);
    else {
      for (const callee of call.registration.callees) {
        const waiting = callee.waiting.indexOf(call);
        if (waiting >= 0) callee.waiting.splice(waiting, 1);
      }
    }
    call.state = 'done';
  }

  /** Sends the callee an INTERRUPT (once); false when the callee cannot be interrupted. */
  private interrupt(call: Call, mode: 'kill' | 'killnowait'): boolean {
    if (!call.interrupted) call.interrupted = call.callee!.session.peer.sendInterrupt?.(call.invocationId, mode) === true;
    return call.interrupted;
  }

  private drain(registration: Registration): void {
    while (registration.queue.length > 0) {
      const callee = registration.pickCallee();
      if (callee === undefined) return;
      this.invoke(registration.queue.shift()!, callee);
    }
  }

  private detach(callee: Callee): void {
    const registration = callee.registration;
    registration.removeCallee(callee);
    callee.session.registrations.delete(registration);
    for (const call of callee.waiting.splice(0)) {
      call.state = 'done';
      this.takeSink(call).error(new RouterError(ErrorUri.canceled, `the callee of ${registration.uri} left while the call waited`));
    }
    if (registration.callees.length > 0) return;
    const reducer = this.reducers.delete(registration);
    this.byKey.delete(registrationKey(registration.match, registration.uri, reducer));
    this.byId.delete(registration.id);
    if (isConcrete(registration.pattern)) (reducer ? this.exactReducers : this.exact).delete(registration.uri);
    else (reducer ? this.reducerPatterns : this.patterns).delete(registration.pattern, registration);
    for (const call of registration.queue.splice(0)) {
      call.state = 'done';
      this.takeSink(call).error(new RouterError(ErrorUri.canceled, `${registration.uri} was unregistered while the call waited`));
    }
  }

  private missing(callee: Session, invocationId: number): InvocationAnswer {
    return invocationId >= 1 && invocationId <= callee.invocationIds.current ? 'stale' : 'unknown';
  }
}

function noSuchProcedure(procedure: string): RouterError {
  return new RouterError(ErrorUri.noSuchProcedure, `no callee registered for procedure ${procedure}`);
}

/** A procedure and a reducer of the same URI and match policy are two registrations. */
function registrationKey(match: MatchPolicy, uri: string, reducer: boolean): string {
  return `${reducer ? 'reducer\u0000' : ''}${match}\u0000${uri}`;
}

function invocationDetails(call: Call): Record<string, unknown> {
  const details: Record<string, unknown> = call.options.invocationDetails === undefined ? {} : { ...call.options.invocationDetails };
  if (call.registration.pattern.kind === 'prefix' || !isConcrete(call.registration.pattern)) {
    details.procedure = call.procedure;
  }
  if (call.options.receiveProgress) details.receive_progress = true;
  if (call.options.discloseMe) {
    details.caller = call.caller.id;
    details.caller_authid = call.caller.info.authid;
    details.caller_authrole = call.caller.info.authrole;
  }
  return withForwardedDetails(details, call.payload.properties);
}

/** Whether a session takes messages in Payload Passthru Mode in `role` (peers with no HELLO take them as they are). */
function takesPassthru(session: Session, role: 'caller' | 'callee'): boolean {
  return session.peer.acceptsPayloadPassthru?.(role) !== false;
}

function passthruRefused(who: string, procedure: string): RouterError {
  return new RouterError(ErrorUri.featureNotSupported, `${who} did not announce payload_passthru_mode (a call of ${procedure} in Payload Passthru Mode)`);
}
