import type { Payload } from './payload.js';
import type { TopicLevels } from './topic.js';

/**
 * One event for one subscription, shared by all of that subscription's subscribers. Gates keep the frame
 * they encoded in `frames`, so N subscribers on one serializer cost one encoding.
 */
export interface EventDelivery {
  readonly subscriptionId: number;
  readonly publicationId: number;
  /** The realm's event ID of the publication (history order); 0 for none. */
  readonly eventId: number;
  /** The concrete topic, as levels (each gate renders it in its protocol's syntax). */
  readonly levels: TopicLevels;
  /** Session ID of the publisher; 0 for the router itself. */
  readonly publisherId: number;
  /** The publication was a retained write (MQTT Retain As Published). */
  readonly retainedWrite: boolean;
  /** WAMP EVENT details (publisher disclosure, pattern topic, event ID). */
  readonly details: Record<string, unknown>;
  readonly payload: Payload;
  /** A retained entry replayed to a new subscriber (not a live publication). */
  readonly retained?: boolean;
  frames?: Record<string, string | Buffer>;
  /** The wire size of each frame in `frames`, measured once for the metrics (not for every subscriber). */
  frameSizes?: Record<string, number>;
}

/** One INVOCATION for a callee. `requestId` is in the callee session's scope. */
export interface InvocationDelivery {
  readonly requestId: number;
  readonly registrationId: number;
  readonly details: Record<string, unknown>;
  readonly payload: Payload;
}
