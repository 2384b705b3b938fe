import { payloadSize } from '../retained/payload-size.js';
import { valueOf } from '../retained/retained-value.js';
import type { Broker } from '../router/broker.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import { randomId } from '../router/ids.js';
import type { RouterLogger } from '../router/logger.js';
import { isAddressed, type PublishOptions } from '../router/options.js';
import { plainPayload, type Payload } from '../router/payload.js';
import type { Session } from '../router/session.js';
import { levelsOfKey } from '../router/topic.js';
import type { RealmMetrics } from '../observability/router-metrics.js';
import { DELIVERY_RULE_NAMES, type ClusterEvent, type DeliveryRules, type RealmBackplane } from './backplane.js';

/** A publish parked in the engine by `watch`, waiting on this node for the engine to apply it. */
interface ParkedPublish {
  readonly session: Session | undefined;
  readonly publicationId: number;
  resolve(publicationId: number): void;
  reject(error: RouterError): void;
}

/**
 * Publications of a realm that runs on several router processes: each goes to the engine first (one atomic
 * step: event ID, retained write with its condition, history, fan-out), and every node, this one included,
 * delivers it to its own subscribers when the engine's fan-out brings it back. So all subscribers of the
 * cluster see the realm's events in one order, the engine's, and an acknowledged publish is in the engine
 * before the publisher hears PUBLISHED.
 */
export class ClusterPublications {
  private readonly parked = new Map<string, ParkedPublish>();

  constructor(
    private readonly realmName: string,
    private readonly backplane: RealmBackplane,
    private readonly broker: Broker,
    private readonly localSession: (id: number) => Session | undefined,
    private readonly settings: { readonly keepsHistory: boolean; readonly maxRetainedSize: number },
    private readonly logger: RouterLogger,
    private readonly metrics: RealmMetrics,
  ) {}

  publish(publisher: Session | undefined, topic: string, payload: Payload, options: PublishOptions): Promise<number> {
    const publicationId = randomId();
    const event = this.eventOf(publisher, topic, payload, options, publicationId);
    const keep = this.settings.keepsHistory && !isAddressed(options);
    const stateful = options.retain === true || options.when !== undefined || options.will !== undefined;
    if (!stateful) return this.backplane.publish(event, keep).then(() => publicationId, engineFailed);
    return this.write(publisher, topic, payload, options, event, keep);
  }

  /** A session left: the engine drops its parked publishes and fires its wills (exactly once, cluster-wide). */
  sessionLeft(session: Session): void {
    for (const [id, parked] of this.parked) {
      if (parked.session !== session) continue;
      this.parked.delete(id);
      parked.reject(new RouterError(ErrorUri.canceled, 'the session left while its publish waited'));
    }
    // Always: the engine's session directory lists every session of the cluster.
    this.backplane.sessionLeft(session.id).catch((error: unknown) => {
      this.logger.error('the cluster did not take the end of a session (its wills fire when this node is reaped)', {
        realm: this.realmName,
        session: session.id,
        error: String(error),
      });
    });
  }

  /** An event from the engine's fan-out: delivered to this node's subscribers. */
  deliver(event: ClusterEvent): void {
    const local = event.node === this.backplane.node ? this.localSession(event.publisherId) : undefined;
    const rules = event.rules;
    // Object.assign, not `{ ...rules, retain }`: this runs per event (docs/performance.md, rule 1).
    const options: PublishOptions = rules === undefined ? (event.retainedWrite ? RETAINED : PLAIN) : Object.assign({}, rules, { retain: event.retainedWrite });
    const delivered = this.broker.deliver({
      publisher: local,
      remotePublisher: local === undefined ? { id: event.publisherId, ...event.disclosed } : undefined,
      topic: event.topic,
      levels: levelsOfKey(event.topic),
      payload: event.payload,
      options,
      publicationId: event.publicationId,
      eventId: this.settings.keepsHistory ? event.eventId : 0,
    });
    this.metrics.published(delivered);
  }

  waiterApplied(waiterId: string): void {
    const parked = this.parked.get(waiterId);
    if (parked === undefined) return;
    this.parked.delete(waiterId);
    parked.resolve(parked.publicationId);
  }

  private async write(
    publisher: Session | undefined,
    topic: string,
    payload: Payload,
    options: PublishOptions,
    event: ClusterEvent,
    keep: boolean,
  ): Promise<number> {
    const limit = this.settings.maxRetainedSize;
    if (payloadSize(payload, limit) > limit) {
      throw new RouterError(ErrorUri.invalidArgument, `the retained value for ${topic} is over the limit of ${limit} bytes`);
    }
    if (publisher !== undefined && !publisher.isOpen && (options.will !== undefined || options.watch)) {
      throw new RouterError(ErrorUri.canceled, 'the session left before its publish was applied');
    }
    const will = options.will === undefined ? undefined : options.will === null ? null : { args: [options.will] };
    const willEvent = will === undefined ? undefined : this.eventOf(undefined, topic, will ?? {}, { retain: true }, randomId());
    const waiterId = options.watch ? `${randomId()}` : undefined;
    // Registered before the engine answers: the engine may apply the parked publish before its reply arrives.
    const parked = waiterId === undefined ? undefined : this.park(waiterId, publisher, event.publicationId);
    let outcome;
    try {
      outcome = await this.backplane.write({ topic, payload, condition: options.when, will, event, willEvent, keep, waiterId });
    } catch (error) {
      if (waiterId !== undefined) this.parked.delete(waiterId);
      return engineFailed(error);
    }
    if (outcome.kind === 'applied') {
      if (waiterId !== undefined) this.parked.delete(waiterId);
      return event.publicationId;
    }
    if (outcome.kind === 'parked') return parked!;
    if (waiterId !== undefined) this.parked.delete(waiterId);
    throw new RouterError(ErrorUri.conditionNotMet, `the condition on ${topic} does not hold`, {
      args: [`the condition on ${topic} does not hold`],
      kwargs: { topic, current: outcome.current === undefined ? null : (valueOf(outcome.current) ?? null) },
    });
  }

  private park(waiterId: string, session: Session | undefined, publicationId: number): Promise<number> {
    return new Promise((resolve, reject) => this.parked.set(waiterId, { session, publicationId, resolve, reject }));
  }

  private eventOf(publisher: Session | undefined, topic: string, payload: Payload, options: PublishOptions, publicationId: number): ClusterEvent {
    const rules = rulesOf(options);
    const event: ClusterEvent = {
      topic,
      payload: plainPayload(payload),
      publisherId: publisher?.id ?? 0,
      publicationId,
      publishedAt: Date.now(),
      eventId: 0,
      node: this.backplane.node,
      ...(rules === undefined ? {} : { rules }),
      ...(options.discloseMe && publisher !== undefined ? { disclosed: { authid: publisher.info.authid, authrole: publisher.info.authrole } } : {}),
      ...(options.retain === true || options.when !== undefined || options.will !== undefined ? { retainedWrite: true } : {}),
    };
    return event;
  }
}

const PLAIN: PublishOptions = Object.freeze({});
const RETAINED: PublishOptions = Object.freeze({ retain: true });

/** The delivery rules of a publication, or undefined for the common case (exclude_me on, nobody listed). */
function rulesOf(options: PublishOptions): DeliveryRules | undefined {
  const rules: Record<string, unknown> = {};
  let any = false;
  for (const name of DELIVERY_RULE_NAMES) {
    const value = options[name];
    if (value === undefined) continue;
    rules[name] = value;
    any = true;
  }
  return any ? (rules as DeliveryRules) : undefined;
}


/** The engine could not take the publication: the publisher hears why, as a router error. */
function engineFailed(error: unknown): never {
  if (error instanceof RouterError) throw error;
  const message = error instanceof Error ? error.message : String(error);
  throw new RouterError(ErrorUri.engineUnavailable, `the cluster engine did not take the publication: ${message}`);
}

