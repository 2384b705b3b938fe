import { ErrorUri, RouterError } from '../router/errors.js';
import type { RouterLogger } from '../router/logger.js';
import type { AuthorizeHook, AuthorizeRequest } from './authorize-hook.js';
import { isPromiseLike } from './promise-like.js';

/** How an allowed request goes ahead. */
export interface Permit {
  /** Disclose the caller or publisher, as if the request had set `disclose_me` (a role's permission says so). */
  readonly disclose: boolean;
}

const ALLOWED: Permit = Object.freeze({ disclose: false });
const ALLOWED_DISCLOSED: Permit = Object.freeze({ disclose: true });

/** What the gate does with a request once its turn has come. */
export interface GateHandlers<T> {
  /** The request may go ahead, as `permit` says. */
  perform(item: T, permit: Permit): void;
  /** The request is refused with `error`. */
  refuse(item: T, error: RouterError): void;
  /** Too many requests wait for decisions; the session should end (its client ignores back pressure). */
  overflow(): void;
}

export interface GateOptions {
  /** How long an asynchronous decision may take before the request is refused (ms). */
  readonly timeoutMs: number;
  /** How many requests may wait behind undecided ones before `overflow`. */
  readonly maxWaiting: number;
  readonly logger: RouterLogger;
}

type Verdict = Permit | RouterError;

interface Waiting<T> {
  readonly item: T;
  /** Undefined while the hook has not decided. */
  verdict: Verdict | undefined;
  /** Refuses the request if the hook takes too long. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * Authorizes one session's requests without reordering them. A synchronous hook answer (or a request that
 * needs no authorization) is acted on at once, as long as nothing waits: the fast path creates no promise.
 * Once a decision is pending, every later request queues behind it, its own decision is asked for at once
 * (decisions run in parallel), and requests are performed or refused strictly in arrival order. So PUBLISH
 * a, PUBLISH b reach subscribers as a, b even if a's decision comes last.
 */
export class AuthorizationGate<T> {
  private readonly waiting: Waiting<T>[] = [];
  private closed = false;

  constructor(
    private readonly authorize: AuthorizeHook,
    private readonly handlers: GateHandlers<T>,
    private readonly options: GateOptions,
  ) {}

  /** Requests waiting behind an undecided one. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /**
   * Takes the next request of the session. `request` undefined: it needs no authorization (UNSUBSCRIBE,
   * GOODBYE, ...) but still keeps its place in line.
   */
  submit(item: T, request: AuthorizeRequest | undefined): void {
    if (this.closed) return;
    const answer = request === undefined ? ALLOWED : this.ask(request);
    if (this.waiting.length === 0 && !isPromiseLike(answer)) {
      this.act(item, answer);
      return;
    }
    if (this.waiting.length >= this.options.maxWaiting) {
      this.handlers.overflow();
      return;
    }
    const entry: Waiting<T> = { item, verdict: undefined, timer: undefined };
    this.waiting.push(entry);
    if (isPromiseLike(answer)) this.awaitDecision(entry, request!, answer);
    else entry.verdict = answer;
  }

  /** The session has ended: what still waits is dropped, and late decisions are ignored. */
  close(): void {
    this.closed = true;
    for (const entry of this.waiting) clearTimeout(entry.timer);
    this.waiting.length = 0;
  }

  private flush(): void {
    while (!this.closed && this.waiting.length > 0 && this.waiting[0]!.verdict !== undefined) {
      const entry = this.waiting.shift()!;
      this.act(entry.item, entry.verdict!);
    }
  }

  private act(item: T, verdict: Verdict): void {
    if (verdict instanceof RouterError) this.handlers.refuse(item, verdict);
    else this.handlers.perform(item, verdict);
  }

  /** The hook's answer: a verdict at once, or the promise it returned. */
  private ask(request: AuthorizeRequest): Verdict | PromiseLike<unknown> {
    let answer: unknown;
    try {
      answer = this.authorize(request);
    } catch (error) {
      return this.failed(request, error);
    }
    return isPromiseLike(answer) ? answer : this.verdictOf(request, answer);
  }

  private awaitDecision(entry: Waiting<T>, request: AuthorizeRequest, answer: PromiseLike<unknown>): void {
    const decided = (verdict: () => Verdict) => {
      if (this.closed || entry.verdict !== undefined) return;
      clearTimeout(entry.timer);
      entry.verdict = verdict();
      this.flush();
    };
    entry.timer = setTimeout(() => {
      decided(() => {
        this.options.logger.warn('authorize hook timed out', { ...describe(request), timeoutMs: this.options.timeoutMs });
        return new RouterError(ErrorUri.authorizationFailed, 'the authorization check timed out');
      });
    }, this.options.timeoutMs);
    entry.timer.unref();
    answer.then(
      (value) => decided(() => this.verdictOf(request, value)),
      (error: unknown) => decided(() => this.failed(request, error)),
    );
  }

  private verdictOf(request: AuthorizeRequest, answer: unknown): Verdict {
    if (answer === true) return ALLOWED;
    if (answer === false) return notAuthorized(request);
    if (typeof answer === 'object' && answer !== null && typeof (answer as { allow?: unknown }).allow === 'boolean') {
      const { allow, disclose } = answer as { allow: boolean; disclose?: unknown };
      if (!allow) return notAuthorized(request);
      return disclose === true ? ALLOWED_DISCLOSED : ALLOWED;
    }
    return this.failed(request, new TypeError(`authorize returned ${describeValue(answer)}, not a boolean or { allow: boolean }`));
  }

  private failed(request: AuthorizeRequest, error: unknown): RouterError {
    if (error instanceof RouterError) return error;
    this.options.logger.error('authorize hook failed', { ...describe(request), error: String(error) });
    return new RouterError(ErrorUri.authorizationFailed, 'the authorization check failed');
  }
}

function notAuthorized(request: AuthorizeRequest): RouterError {
  return new RouterError(ErrorUri.notAuthorized, `not authorized to ${request.action} ${request.uri}`);
}

function describe(request: AuthorizeRequest): Record<string, unknown> {
  return { session: request.session.id, authrole: request.session.info.authrole, action: request.action, uri: request.uri };
}

function describeValue(value: unknown): string {
  return value === null ? 'null' : typeof value;
}
