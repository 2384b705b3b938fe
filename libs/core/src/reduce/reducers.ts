import type { MetaService } from '../meta/meta-service.js';
import { valueOf } from '../retained/retained-value.js';
import type { Call } from '../router/call.js';
import type { Dealer } from '../router/dealer.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { RouterLogger } from '../router/logger.js';
import type { PublishOptions } from '../router/options.js';
import { plainPayload, type Payload } from '../router/payload.js';
import type { PublicationPipeline } from '../router/publication-pipeline.js';
import type { Registration } from '../router/registration.js';
import type { Session } from '../router/session.js';
import { wampUriOf, type TopicLevels } from '../router/topic.js';

/** The meta event that reports a failed reduction. */
export const REDUCER_ERROR_TOPIC = 'fox.reducer.on_error';

/** Events of one topic that may wait for their turn; a publisher beyond that gets `fox.error.call_queue_full`. */
export const MAX_WAITING_EVENTS_PER_TOPIC = 10_000;

/** One publication waiting for its turn on a reduced topic. */
interface PendingEvent {
  readonly publisher: Session | undefined;
  readonly levels: TopicLevels;
  readonly payload: Payload;
  readonly options: PublishOptions;
  resolve(publicationId: number | Promise<number>): void;
  reject(error: unknown): void;
}

/** How one event ended: reduced (the publication of the new value), or handed on as it was sent. */
type Outcome = { readonly reduced: number } | { readonly asSent: Promise<number> };

/**
 * Reducers (fox-wamp's map-reduce): registrations with `reducer: true` whose pattern is a topic pattern.
 * Every event published on a matching topic is handed to the reducer as an INVOCATION: the event's args
 * and kwargs, and in the details `retained`, the topic's current retained value (the value as `when` and
 * `filter` see it; `null` when the topic has none). What the reducer returns (its YIELD) becomes the topic's
 * new retained value and is published to the topic's subscribers as a retained write by the router; an
 * empty YIELD (a callee returning nothing) deletes the value.
 *
 * - The event itself is not delivered: subscribers of a reduced topic see its values, never the inputs.
 * - The publisher's PUBLISHED comes once the new value is stored and delivered, with that publication's
 *   ID. A publish on a reduced topic takes no `when`, `watch` or `will` (refused: invalid argument);
 *   `retain` changes nothing, the result is always retained.
 * - Reductions of one topic run one at a time, in the order the events were published, each reading the
 *   value the previous one wrote: concurrent publishers lose no update. Topics are reduced in parallel, up
 *   to the registration's `concurrency` (further invocations wait in the dealer's queue).
 * - A reducer's ERROR (or a result that cannot be stored) leaves the value unchanged; the publisher gets
 *   that ERROR (when acknowledged), a `fox.reducer.on_error` meta event and a log line report it.
 * - A callee that leaves while reducing hands the event on: it goes, still first of its topic, to the
 *   reducer that matches the topic then (another callee of a shared registration, a reducer registered
 *   meanwhile). An event that finds no reducer when its turn comes is published as it was sent, so events
 *   published after the last reducer left wait behind the topic's earlier ones and keep their order.
 *
 * Each event is routed when its turn comes: the topic's best-matching reducer registration (exact before
 * prefix before wildcard, as for calls) at that moment. A reduction has no timeout of its own: a reducer
 * that never answers holds its topic until its callee leaves.
 */
export class Reducers {
  /** Events per topic key, first = the one being reduced; a topic is here only while it has events. */
  private readonly queues = new Map<string, PendingEvent[]>();

  constructor(
    private readonly realmName: string,
    private readonly dealer: Dealer,
    private readonly pipeline: PublicationPipeline,
    /** The router's session in the realm: the caller of every reduction and publisher of the meta event. */
    private readonly router: MetaService,
    private readonly logger: RouterLogger,
  ) {}

  /** Whether any publication may concern a reducer: one is registered, or a topic still has waiting events. */
  get engaged(): boolean {
    return this.dealer.reducerCount !== 0 || this.queues.size !== 0;
  }

  /**
   * Takes a publication if its topic (key `key`) is reduced or still has events waiting; resolves to the
   * publication ID of the reduced value (or of the event as sent). Undefined: not a reducer's business.
   */
  route(publisher: Session | undefined, key: string, levels: TopicLevels, payload: Payload, options: PublishOptions): Promise<number> | undefined {
    let queue = this.queues.get(key);
    if (queue === undefined) {
      const reducer = this.dealer.reducerFor(key, levels);
      if (reducer === undefined) return undefined;
      if (options.when !== undefined || options.watch || options.will !== undefined) {
        return Promise.reject(
          new RouterError(ErrorUri.invalidArgument, `${wampUriOf(levels)} is reduced by ${reducer.uri}: a publish there takes no when, watch or will`),
        );
      }
      queue = [];
      this.queues.set(key, queue);
    } else if (queue.length >= MAX_WAITING_EVENTS_PER_TOPIC) {
      return Promise.reject(new RouterError(ErrorUri.callQueueFull, `${MAX_WAITING_EVENTS_PER_TOPIC} events already wait for the reducer of ${wampUriOf(levels)}`));
    }
    const waiting = queue;
    return new Promise<number>((resolve, reject) => {
      waiting.push({ publisher, levels, payload, options, resolve, reject });
      if (waiting.length === 1) void this.drain(key, waiting);
    });
  }

  /** Reduces the events of one topic in order until none is left. */
  private async drain(key: string, queue: PendingEvent[]): Promise<void> {
    while (queue.length > 0) {
      const event = queue[0]!;
      try {
        const outcome = await this.reduce(key, event);
        event.resolve('reduced' in outcome ? outcome.reduced : outcome.asSent);
      } catch (error) {
        event.reject(error);
      }
      queue.shift();
    }
    this.queues.delete(key);
  }

  private async reduce(key: string, event: PendingEvent): Promise<Outcome> {
    const topic = wampUriOf(event.levels);
    for (;;) {
      const registration = this.dealer.reducerFor(key, event.levels);
      if (registration === undefined) {
        // Queued in the pipeline now, so later events of the topic follow it; not awaited: a parked `watch`
        // must not hold the topic.
        return { asSent: this.pipeline.publish(event.publisher, key, event.levels, event.payload, event.options) };
      }
      const entry = await this.pipeline.get(key);
      const retained = entry === undefined ? null : (valueOf(entry.payload) ?? null);
      const { answer, call } = await this.invoke(registration, topic, event.payload, retained);
      if ('error' in answer) {
        if (this.reducerLeft(registration, call, answer.error)) continue;
        this.report(topic, registration, event, answer.error);
        throw answer.error;
      }
      try {
        // Only what a YIELD carries: the result is a value, not a message with properties.
        const value = plainPayload({ args: answer.result.args, kwargs: answer.result.kwargs });
        return { reduced: await this.pipeline.publish(undefined, key, event.levels, value, { retain: true }) };
      } catch (error) {
        const failure = asRouterError(error);
        this.report(topic, registration, event, failure);
        throw failure;
      }
    }
  }

  /** One INVOCATION of the reducer; resolves with its final answer, whatever it is. */
  private invoke(
    registration: Registration,
    topic: string,
    payload: Payload,
    retained: unknown,
  ): Promise<{ answer: { result: Payload } | { error: RouterError }; call: Call | undefined }> {
    return new Promise((resolve) => {
      let call: Call | undefined;
      try {
        call = this.dealer.callRegistration(this.router.session, registration, topic, payload, { invocationDetails: { retained } }, {
          result: (result, progress) => {
            if (!progress) resolve({ answer: { result }, call });
          },
          error: (error) => resolve({ answer: { error }, call }),
        });
      } catch (error) {
        resolve({ answer: { error: asRouterError(error) }, call });
      }
    });
  }

  /**
   * Whether the reduction ended because its reducer went away rather than answered: its callee left while
   * reducing, or the registration lost its last callee while the invocation waited for a free one.
   */
  private reducerLeft(registration: Registration, call: Call | undefined, error: RouterError): boolean {
    if (error.uri !== ErrorUri.canceled) return false;
    if (this.dealer.getRegistration(registration.id) !== registration) return true;
    return call?.callee !== undefined && !call.callee.session.isOpen;
  }

  private report(topic: string, registration: Registration, event: PendingEvent, error: RouterError): void {
    this.logger.warn('reducer failed; the value is unchanged', {
      realm: this.realmName,
      topic,
      registration: registration.id,
      error: error.uri,
      message: error.message,
    });
    const details: Record<string, unknown> = {
      topic,
      registration: registration.id,
      procedure: registration.uri,
      error: error.uri,
      args: error.args ?? [],
      kwargs: error.kwargs ?? {},
      publisher: event.publisher?.id ?? null,
    };
    this.router.publish(REDUCER_ERROR_TOPIC, [details]);
  }
}

function asRouterError(error: unknown): RouterError {
  if (error instanceof RouterError) return error;
  return new RouterError(ErrorUri.runtimeError, error instanceof Error ? error.message : String(error));
}
