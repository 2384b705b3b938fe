import type { Call, CallSink } from '../router/call.js';
import type { Dealer } from '../router/dealer.js';
import type { InvocationDelivery } from '../router/deliveries.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { RouterLogger } from '../router/logger.js';
import type { CallOptions, RegisterOptions } from '../router/options.js';
import { plainPayload } from '../router/payload.js';
import type { Realm } from '../router/realm.js';
import type { Registration } from '../router/registration.js';
import { Session, type SessionPeer } from '../router/session.js';
import { parseWampPattern, type MatchPolicy } from '../router/topic-pattern.js';
import { RegistrationConflict, type NodeMessage, type RealmBackplane, type RemoteCallee } from './backplane.js';

/**
 * RPC across the router processes of a cluster. Each process's dealer holds the callees of the other
 * processes as proxy sessions, so a call is routed by the one dealer with the spec's precedence, the
 * invocation policy and the concurrency limits as on a single process; an INVOCATION for a proxy travels to
 * the callee's process, which invokes the real callee (queuing it there while that callee is at its limit)
 * and sends the answers back. Timeouts stay with the caller's process.
 *
 * The cluster registry in the engine is the authority on conflicts (`single` against anything, different
 * policies): a registration is confirmed there before the callee hears REGISTERED. When a process dies, the
 * engine's reaper removes its callees and tells the others, whose pending calls to them fail at once.
 */
export class ClusterCalls {
  /** Proxies of the callees of other processes: `<node>|<session>` → proxy session. */
  private readonly calleeProxies = new Map<string, Session>();
  /** Proxies of callers on other processes whose calls this process serves: `<node>|<session>` → proxy. */
  private readonly callerProxies = new Map<string, Session>();
  /** Calls this process serves for other processes, by the caller process's key. */
  private readonly served = new Map<string, { readonly call: Call; readonly from: string }>();
  /** Invocations sent to callees of other processes: key → the proxy and its INVOCATION request ID. */
  private readonly forwarded = new Map<string, { readonly proxy: Session; readonly requestId: number }>();

  constructor(
    private readonly realm: Realm,
    private readonly dealer: Dealer,
    private readonly backplane: RealmBackplane,
    private readonly logger: RouterLogger,
  ) {}

  /**
   * A local session registered: the cluster registry must agree. On a conflict the local registration is
   * undone and the promise rejects with `procedure_already_exists`.
   */
  async confirm(session: Session, registration: Registration, options: RegisterOptions): Promise<void> {
    const callee: RemoteCallee = {
      node: this.backplane.node,
      sessionId: session.id,
      uri: registration.uri,
      match: registration.match,
      policy: registration.policy,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      interruptible: session.peer.acceptsInterrupts?.() ?? session.peer.sendInterrupt !== undefined,
      progressive: session.peer.acceptsProgressiveInvocations?.() === true,
      passthru: session.peer.acceptsPayloadPassthru?.('callee') !== false,
    };
    try {
      await this.backplane.addCallee(callee);
    } catch (error) {
      if (registration.calleeOf(session) !== undefined) this.realm.unregister(session, registration.id);
      if (error instanceof RegistrationConflict) {
        const policy = error.registeredPolicy;
        throw new RouterError(
          ErrorUri.procedureAlreadyExists,
          policy === 'single' || registration.policy === 'single'
            ? `${registration.uri} is already registered in the cluster`
            : `${registration.uri} is registered in the cluster with invocation policy '${policy}', not '${registration.policy}'`,
        );
      }
      throw new RouterError(ErrorUri.engineUnavailable, `the cluster engine did not take the registration: ${(error as Error).message}`);
    }
  }

  /**
   * A call found no registration here: the registry may hold one that another process confirmed (its callee
   * already heard REGISTERED) but whose announcement has not arrived yet. Reading the registry comes after
   * that confirmation in the engine's order, so it finds it.
   */
  async lookFurther(): Promise<void> {
    for (const callee of await this.backplane.callees()) {
      if (callee.node === this.backplane.node) continue;
      const proxy = this.calleeProxies.get(`${callee.node}|${callee.sessionId}`);
      if (proxy !== undefined && [...proxy.registrations].some((held) => held.uri === callee.uri && held.match === callee.match)) continue;
      this.calleeAdded(callee);
    }
  }

  /** A local callee left a registration (unregistered, or its session left). */
  withdrawn(session: Session, registration: Registration): void {
    this.backplane.removeCallee(session.id, registration.match, registration.uri).catch((error: unknown) => {
      this.logger.warn('the cluster registry kept a callee that left (it goes when this node is reaped)', { uri: registration.uri, error: String(error) });
    });
  }

  calleeAdded(remote: RemoteCallee): void {
    const key = `${remote.node}|${remote.sessionId}`;
    let proxy = this.calleeProxies.get(key);
    if (proxy === undefined) {
      const peer = new RemoteCalleePeer(this, remote);
      proxy = new Session(remote.sessionId, this.realm, peer, {
        protocol: 'wamp',
        authid: `${remote.node}/${remote.sessionId}`,
        authrole: 'cluster',
        authmethod: 'cluster',
        authprovider: 'cluster',
        transport: 'cluster',
      });
      peer.session = proxy;
      this.calleeProxies.set(key, proxy);
    }
    for (const held of proxy.registrations) if (held.uri === remote.uri && held.match === remote.match) return;
    try {
      this.dealer.register(proxy, remote.uri, remote.match, parseWampPattern(remote.uri, remote.match), {
        invoke: remote.policy,
        ...(remote.concurrency !== undefined ? { concurrency: remote.concurrency } : {}),
      });
    } catch (error) {
      // A local registration this process has not had confirmed yet: the engine will refuse one of the two.
      this.logger.warn('a callee of another router node conflicts with a local registration', { uri: remote.uri, error: String(error) });
    }
  }

  calleeRemoved(node: string, sessionId: number, match: MatchPolicy, uri: string): void {
    const proxy = this.calleeProxies.get(`${node}|${sessionId}`);
    if (proxy === undefined) return;
    for (const registration of proxy.registrations) {
      if (registration.uri !== uri || registration.match !== match) continue;
      // Invocations already sent stay with the proxy: the callee may still answer them.
      this.dealer.unregister(proxy, registration.id);
    }
  }

  /** Another process is gone: calls to its callees fail now, calls from its callers are interrupted. */
  nodeDown(node: string): void {
    const prefix = `${node}|`;
    for (const [key, proxy] of this.calleeProxies) {
      if (!key.startsWith(prefix)) continue;
      this.calleeProxies.delete(key);
      this.dealer.removeSession(proxy);
    }
    for (const [key, proxy] of this.callerProxies) {
      if (!key.startsWith(prefix)) continue;
      this.callerProxies.delete(key);
      this.dealer.removeSession(proxy);
    }
    for (const [key, served] of this.served) if (served.from === node) this.served.delete(key);
    for (const key of this.forwarded.keys()) if (key.startsWith(prefix)) this.forwarded.delete(key);
  }

  message(message: NodeMessage): void {
    switch (message.type) {
      case 'call':
        return this.serve(message);
      case 'chunk': {
        const served = this.served.get(message.key);
        if (served !== undefined) this.dealer.continueCall(served.call, message.payload, message.progress);
        return;
      }
      case 'interrupt': {
        const served = this.served.get(message.key);
        if (served !== undefined) this.dealer.cancel(served.call, message.mode);
        return;
      }
      case 'result': {
        const forwarded = this.forwarded.get(message.key);
        if (forwarded === undefined) return;
        if (!message.progress) this.forwarded.delete(message.key);
        this.dealer.yield(forwarded.proxy, forwarded.requestId, message.payload, message.progress);
        return;
      }
      case 'error': {
        const forwarded = this.forwarded.get(message.key);
        if (forwarded === undefined) return;
        this.forwarded.delete(message.key);
        this.dealer.error(forwarded.proxy, forwarded.requestId, new RouterError(message.uri, message.message, message.payload));
        return;
      }
      case 'mqtt-claim':
      case 'mqtt-state':
        return;
    }
  }

  /** @internal An INVOCATION the dealer sent to a proxy: it goes to the callee's process. */
  forward(proxy: Session, remote: RemoteCallee, invocation: InvocationDelivery): void {
    const key = `${remote.node}|${proxy.id}|${invocation.requestId}|${this.backplane.node}`;
    const progress = invocation.details.progress === true;
    if (this.forwarded.has(key)) {
      this.backplane.send(remote.node, { type: 'chunk', from: this.backplane.node, key, payload: plainPayload(invocation.payload), progress });
      return;
    }
    const call = proxy.invocations.get(invocation.requestId);
    if (call === undefined) return;
    this.forwarded.set(key, { proxy, requestId: invocation.requestId });
    this.backplane.send(remote.node, {
      type: 'call',
      from: this.backplane.node,
      key,
      callee: remote.sessionId,
      uri: call.registration.uri,
      match: call.registration.match,
      procedure: call.procedure,
      payload: plainPayload(invocation.payload),
      details: invocation.details,
      caller: call.caller.id,
      progress,
    });
  }

  /** @internal The dealer interrupts an invocation of a proxy. */
  interrupt(proxy: Session, remote: RemoteCallee, invocationId: number, mode: 'kill' | 'killnowait'): boolean {
    if (!remote.interruptible) return false;
    const key = `${remote.node}|${proxy.id}|${invocationId}|${this.backplane.node}`;
    if (!this.forwarded.has(key)) return false;
    if (mode === 'killnowait') this.forwarded.delete(key);
    this.backplane.send(remote.node, { type: 'interrupt', from: this.backplane.node, key, mode });
    return true;
  }

  /** A call another process routed to a callee of this one. */
  private serve(message: Extract<NodeMessage, { type: 'call' }>): void {
    const answer = (reply: NodeMessage) => this.backplane.send(message.from, reply);
    const session = this.realm.getSession(message.callee);
    const registration = session === undefined ? undefined : [...session.registrations].find((held) => held.uri === message.uri && held.match === message.match);
    const callee = registration?.calleeOf(session!);
    if (callee === undefined) {
      answer({ type: 'error', key: message.key, uri: ErrorUri.canceled, message: 'the callee left before answering', payload: {} });
      return;
    }
    const callerKey = `${message.from}|${message.caller}`;
    let caller = this.callerProxies.get(callerKey);
    if (caller === undefined) {
      caller = new Session(message.caller, this.realm, CALLER_PEER, {
        protocol: 'wamp',
        authid: callerKey,
        authrole: 'cluster',
        authmethod: 'cluster',
        authprovider: 'cluster',
        transport: 'cluster',
      });
      this.callerProxies.set(callerKey, caller);
    }
    const sink: CallSink = {
      result: (payload, progress) => {
        if (!progress) this.served.delete(message.key);
        answer({ type: 'result', key: message.key, payload: plainPayload(payload), progress });
      },
      error: (error) => {
        this.served.delete(message.key);
        answer({
          type: 'error',
          key: message.key,
          uri: error.uri,
          message: error.message,
          payload: plainPayload({ ...(error.args !== undefined ? { args: error.args } : {}), ...(error.kwargs !== undefined ? { kwargs: error.kwargs } : {}), ...(error.properties !== undefined ? { properties: error.properties } : {}) }),
        });
      },
    };
    // The caller's process built the INVOCATION details (disclosure, pattern procedure, progress): passed as they are.
    const { progress: _progress, ...details } = message.details;
    const options: CallOptions = {
      invocationDetails: details,
      ...(details.receive_progress === true ? { receiveProgress: true } : {}),
      ...(message.progress ? { progress: true } : {}),
    };
    const call = this.dealer.invokeCallee(caller, callee, message.procedure, message.payload, options, sink);
    if (call.state !== 'done') this.served.set(message.key, { call, from: message.from });
  }
}

/** The peer of a proxy callee: what the dealer sends it goes to the callee's own process. */
class RemoteCalleePeer implements SessionPeer {
  /** The proxy session of this peer, set once it exists. */
  session: Session | undefined;

  constructor(
    private readonly calls: ClusterCalls,
    private readonly remote: RemoteCallee,
  ) {}

  sendEvent(): void {}

  sendInvocation(invocation: InvocationDelivery): void {
    this.calls.forward(this.session!, this.remote, invocation);
  }

  sendInterrupt(invocationId: number, mode: 'kill' | 'killnowait'): boolean {
    return this.session !== undefined && this.calls.interrupt(this.session, this.remote, invocationId, mode);
  }

  acceptsProgressiveInvocations(): boolean {
    return this.remote.progressive;
  }

  acceptsPayloadPassthru(): boolean {
    return this.remote.passthru;
  }

  close(): void {}
}

/** The peer of a proxy caller: it receives nothing (its answers go through the call's sink). */
const CALLER_PEER: SessionPeer = {
  sendEvent() {},
  sendInvocation() {},
  close() {},
};

