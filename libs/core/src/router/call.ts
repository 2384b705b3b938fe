import type { RouterError } from './errors.js';
import type { CallOptions } from './options.js';
import type { Payload } from './payload.js';
import type { Callee, Registration } from './registration.js';
import type { Session } from './session.js';

/** Where the outcome of a call goes: the caller's gate, or an in-process promise. */
export interface CallSink {
  /** A result; `progress` marks a progressive (non-final) one. */
  result(payload: Payload, progress: boolean): void;
  error(error: RouterError): void;
}

/** The lifecycle of one call: queued at a registration, invoked at a callee, then done. */
export type CallState = 'queued' | 'invoked' | 'done';

/** One call in flight through the dealer. */
export class Call {
  state: CallState = 'queued';
  callee: Callee | undefined;
  /** The INVOCATION request ID in the callee's session scope, once invoked. */
  invocationId = 0;
  /** The callee was sent an INTERRUPT for this invocation (sent once, whatever follows). */
  interrupted = false;
  /** Expires the call's `timeout` option; cleared once the caller has its outcome. */
  timer: NodeJS.Timeout | undefined;
  /** A progressive call invocation whose caller has not sent its final chunk yet. */
  streaming: boolean;
  /**
   * The call this one became: a call of a procedure this process did not know yet waits for the cluster's
   * registry (`Dealer.onMissingProcedure`), then goes on as a new call, which cancels and chunks follow.
   */
  rerouted: Call | undefined;
  /** Chunks that arrived while the call was queued, sent after its first INVOCATION. */
  chunks: Array<{ readonly payload: Payload; readonly progress: boolean }> | undefined;

  constructor(
    readonly caller: Session,
    readonly procedure: string,
    readonly registration: Registration,
    readonly payload: Payload,
    readonly options: CallOptions,
    /** Replaced by a no-op sink once the caller has its outcome or is gone, so a late answer goes nowhere. */
    public sink: CallSink,
  ) {
    this.streaming = options.progress === true;
  }
}

/** A sink for calls whose caller is gone. */
export const DISCARDING_SINK: CallSink = { result() {}, error() {} };
