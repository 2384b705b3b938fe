/** Application payload as WAMP carries it: positional and keyword arguments, both optional. */
export interface Payload {
  readonly args?: unknown[];
  readonly kwargs?: Record<string, unknown>;
}

export const EMPTY_PAYLOAD: Payload = Object.freeze({});

/** Whether kwargs carry anything: autobahn sends `{}` for "no kwargs". */
export function hasKwargs(payload: Payload): payload is Payload & { kwargs: Record<string, unknown> } {
  if (payload.kwargs === undefined || payload.kwargs === null) return false;
  for (const _ in payload.kwargs) return true;
  return false;
}
