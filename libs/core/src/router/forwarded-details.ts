import type { MessageProperties } from './payload.js';

/**
 * The WAMP detail names under which a message's properties travel on: the `ppt_*` attributes of Payload
 * Passthru Mode (the spec's names) and the trace context. WAMP has no name for the latter; these follow the
 * spec's rule for implementation-specific keys (`_[a-z0-9_]{3,}`), which is also the form wampy sends.
 */
export const WAMP_TRACEPARENT = '_traceparent';
export const WAMP_TRACESTATE = '_tracestate';

/**
 * Adds to the details of an EVENT, INVOCATION, RESULT or ERROR what the message it delivers carried beside its
 * payload (Payload Passthru Mode, trace context), and returns them. Nothing to add costs two property reads.
 */
export function withForwardedDetails(details: Record<string, unknown>, properties: MessageProperties | undefined): Record<string, unknown> {
  if (properties === undefined) return details;
  const { passthru, trace } = properties;
  if (passthru !== undefined) {
    details.ppt_scheme = passthru.scheme;
    if (passthru.serializer !== undefined) details.ppt_serializer = passthru.serializer;
    if (passthru.cipher !== undefined) details.ppt_cipher = passthru.cipher;
    if (passthru.keyid !== undefined) details.ppt_keyid = passthru.keyid;
  }
  if (trace !== undefined) {
    details[WAMP_TRACEPARENT] = trace.traceparent;
    if (trace.tracestate !== undefined) details[WAMP_TRACESTATE] = trace.tracestate;
  }
  return details;
}
