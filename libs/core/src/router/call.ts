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

  constructor(
    readonly caller: Session,
    readonly procedure: string,
    readonly registration: Registration,
    readonly payload: Payload,
    readonly options: CallOptions,
    /** Replaced by a no-op sink when the caller leaves, so a late result goes nowhere. */
    public sink: CallSink,
  ) {}
}

/** A sink for calls whose caller is gone. */
export const DISCARDING_SINK: CallSink = { result() {}, error() {} };
