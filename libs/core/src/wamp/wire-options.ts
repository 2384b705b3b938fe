import { ErrorUri, RouterError } from '../router/errors.js';
import { isWampId } from '../router/ids.js';
import {
  isInvokePolicy,
  type CallOptions,
  type CancelMode,
  type PublishOptions,
  type RegisterOptions,
  type SubscribeOptions,
} from '../router/options.js';
import { hasKwargs, type Payload, type PayloadPassthru, type TraceContext } from '../router/payload.js';
import { isMatchPolicy } from '../router/topic-pattern.js';
import { isPlainObject, parseWhen } from '../retained/retained-value.js';
import { traceContextOf } from '../observability/tracing.js';

/**
 * Translation of WAMP wire options (snake_case dictionaries) into the router's protocol-neutral options.
 * Unknown options are ignored, as the spec asks; a known option with a value of the wrong type is an
 * `wamp.error.invalid_argument` for that request only.
 *
 * Router-specific options (fox-wamp's `concurrency` and friends) are also read with a leading underscore,
 * because some clients (wampy) send custom options only in that form.
 */
type Dict = Record<string, unknown>;

export function subscribeOptions(options: Dict): SubscribeOptions {
  const filter = routerOption(options, 'filter');
  if (filter !== undefined && filter !== null && !isPlainObject(filter)) {
    throw invalid(`filter must be an object; got ${JSON.stringify(filter)}`);
  }
  const after = routerOption(options, 'after');
  if (after !== undefined && after !== null && !(typeof after === 'number' && Number.isSafeInteger(after) && after >= 0)) {
    throw invalid(`after must be an event ID (an integer of 0 or more); got ${JSON.stringify(after)}`);
  }
  // WAMP's own `get_retained`, and fox-wamp's `retained` / `_retained`.
  const retained = bool(options, 'get_retained') ?? routerBool(options, 'retained');
  return {
    match: matchOption(options),
    retained,
    filter: (filter ?? undefined) as Record<string, unknown> | undefined,
    after: (after ?? undefined) as number | undefined,
  };
}

export function publishOptions(options: Dict): PublishOptions & { acknowledge: boolean } {
  // Most publications carry no options, or only `acknowledge`: nothing else to read (the router tests each
  // option for undefined).
  const only = soleKey(options);
  if (only === null) return { acknowledge: false };
  if (only === 'acknowledge') return { acknowledge: options.acknowledge === true };
  return {
    acknowledge: wantsAcknowledge(options),
    excludeMe: bool(options, 'exclude_me'),
    discloseMe: bool(options, 'disclose_me'),
    exclude: idList(options, 'exclude'),
    eligible: idList(options, 'eligible'),
    excludeAuthid: stringList(options, 'exclude_authid'),
    eligibleAuthid: stringList(options, 'eligible_authid'),
    excludeAuthrole: stringList(options, 'exclude_authrole'),
    eligibleAuthrole: stringList(options, 'eligible_authrole'),
    retain: routerBool(options, 'retain'),
    // Presence matters: `when: null` means "only if absent", so null is a value here, not "not given".
    when: hasRouterOption(options, 'when') ? parseWhen(routerOption(options, 'when')) : undefined,
    watch: routerBool(options, 'watch'),
    will: hasRouterOption(options, 'will') ? routerOption(options, 'will') : undefined,
  };
}

export function registerOptions(options: Dict): RegisterOptions {
  const invoke = options.invoke;
  if (invoke !== undefined && !isInvokePolicy(invoke)) {
    throw invalid(`invoke must be one of single, roundrobin, random, first, last; got ${JSON.stringify(invoke)}`);
  }
  const concurrency = routerOption(options, 'concurrency');
  if (concurrency !== undefined && !(typeof concurrency === 'number' && Number.isInteger(concurrency) && concurrency >= 1)) {
    throw invalid(`concurrency must be an integer of at least 1; got ${JSON.stringify(concurrency)}`);
  }
  // fox-wamp's `reducer` (also `_reducer`): the registration reduces the events of matching topics.
  return { match: matchOption(options), invoke, concurrency, reducer: routerBool(options, 'reducer') };
}

export function callOptions(options: Dict): CallOptions {
  if (isEmpty(options)) return {};
  const timeout = options.timeout;
  if (timeout !== undefined && timeout !== null && !(typeof timeout === 'number' && Number.isSafeInteger(timeout) && timeout >= 0)) {
    throw invalid(`timeout must be a number of milliseconds (an integer of 0 or more); got ${JSON.stringify(timeout)}`);
  }
  return {
    receiveProgress: bool(options, 'receive_progress'),
    discloseMe: bool(options, 'disclose_me'),
    // 0 means no timeout (spec).
    timeout: typeof timeout === 'number' && timeout > 0 ? timeout : undefined,
    progress: bool(options, 'progress'),
  };
}

/**
 * CANCEL.Options.mode. The spec names no default; like the router's own cancellations (caller gone, timeout)
 * it is `killnowait`. Returns a description of a bad mode instead: a CANCEL has no reply to carry an ERROR.
 */
export function cancelMode(options: Dict): CancelMode | string {
  const mode = options.mode;
  if (mode === undefined || mode === null) return 'killnowait';
  if (mode === 'skip' || mode === 'kill' || mode === 'killnowait') return mode;
  return `CANCEL.Options.mode must be skip, kill or killnowait; got ${JSON.stringify(mode)}`;
}

export function yieldProgress(options: Dict): boolean {
  return bool(options, 'progress') ?? false;
}

/**
 * The Payload Passthru Mode attributes of a PUBLISH, CALL, YIELD or ERROR; undefined when it has none. Checked
 * as far as the spec lets a router look: `ppt_scheme` is required with any other `ppt_*` and is `wamp`, `mqtt`
 * or a custom `x_…` scheme; `wamp` (end-to-end encryption) requires `ppt_serializer`; each is a non-empty
 * string. Their values are the peers' business (spec: the router shall not analyze them).
 */
export function passthruOptions(options: Dict): PayloadPassthru | undefined {
  const scheme = pptString(options, 'ppt_scheme');
  const serializer = pptString(options, 'ppt_serializer');
  const cipher = pptString(options, 'ppt_cipher');
  const keyid = pptString(options, 'ppt_keyid');
  if (scheme === undefined) {
    if (serializer === undefined && cipher === undefined && keyid === undefined) return undefined;
    throw invalid('ppt_scheme is required in Payload Passthru Mode');
  }
  if (scheme !== 'wamp' && scheme !== 'mqtt' && !scheme.startsWith('x_')) {
    throw invalid(`ppt_scheme must be wamp, mqtt or a custom scheme starting with x_; got ${JSON.stringify(scheme)}`);
  }
  if (scheme === 'wamp' && serializer === undefined) throw invalid('ppt_scheme wamp (end-to-end encryption) requires ppt_serializer');
  return {
    scheme,
    ...(serializer === undefined ? {} : { serializer }),
    ...(cipher === undefined ? {} : { cipher }),
    ...(keyid === undefined ? {} : { keyid }),
  };
}

/** Spec: in Payload Passthru Mode the payload is one item of Arguments|list, and ArgumentsKw|dict is absent or empty. */
export function checkPassthruPayload(payload: Payload): void {
  if ((payload.args !== undefined && payload.args.length > 1) || hasKwargs(payload)) {
    throw invalid('in Payload Passthru Mode the payload is a single item of Arguments|list, without ArgumentsKw|dict');
  }
}

/**
 * The W3C trace context of a message: `_traceparent` / `_tracestate` (also without the underscore, like the
 * router's other options). An invalid one is ignored, as W3C asks: it never fails the request.
 */
export function traceOptions(options: Dict): TraceContext | undefined {
  // Literal names rather than `routerOption`: this runs for every message, and most carry no context.
  const traceparent = options.traceparent ?? options._traceparent;
  if (traceparent === undefined) return undefined;
  return traceContextOf(traceparent, options.tracestate ?? options._tracestate);
}

/** PUBLISH.Options.acknowledge, also read as `_acknowledge` like fox-wamp's own options. Never throws. */
export function wantsAcknowledge(options: Dict): boolean {
  return routerOption(options, 'acknowledge') === true;
}

/** A router-specific option under its plain name or with a leading underscore (plain wins). */
export function routerOption(options: Dict, name: string): unknown {
  return name in options ? options[name] : options[underscored(name)];
}

function hasRouterOption(options: Dict, name: string): boolean {
  return name in options || underscored(name) in options;
}

/** Whether a dictionary has no keys (the usual options of a PUBLISH or CALL: `{}`). */
function isEmpty(options: Dict): boolean {
  for (const _ in options) return false;
  return true;
}

/** The one key of a dictionary; null when it has none, undefined when it has more. */
function soleKey(options: Dict): string | null | undefined {
  let sole: string | null = null;
  for (const key in options) {
    if (sole !== null) return undefined;
    sole = key;
  }
  return sole;
}

/**
 * Whether options may hold Payload Passthru attributes or a trace context: false when no key is a `ppt_*` one or
 * `traceparent` (also `_traceparent`), and then `passthruOptions` and `traceOptions` are both undefined. A
 * PUBLISH or CALL has few options, so looking at its keys is cheaper than reading the six names.
 */
export function mayCarryProperties(options: Dict): boolean {
  for (const key in options) {
    if (key.startsWith('ppt_') || key === 'traceparent' || key === '_traceparent') return true;
  }
  return false;
}

const UNDERSCORED = new Map<string, string>();

/**
 * `_name`, built once per option name: a concatenated key would be a new string on every look-up, to be
 * flattened and hashed before the property could be found (this runs for every PUBLISH and CALL).
 */
function underscored(name: string): string {
  let key = UNDERSCORED.get(name);
  if (key === undefined) UNDERSCORED.set(name, (key = `_${name}`));
  return key;
}

function routerBool(options: Dict, name: string): boolean | undefined {
  const value = routerOption(options, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${name} must be a boolean; got ${JSON.stringify(value)}`);
  return value;
}

function matchOption(options: Dict) {
  const match = options.match;
  if (match === undefined) return undefined;
  if (!isMatchPolicy(match)) throw invalid(`match must be exact, prefix or wildcard; got ${JSON.stringify(match)}`);
  return match;
}

function bool(options: Dict, name: string): boolean | undefined {
  const value = options[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${name} must be a boolean; got ${JSON.stringify(value)}`);
  return value;
}

function idList(options: Dict, name: string): number[] | undefined {
  const value = options[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every(isWampId)) throw invalid(`${name} must be a list of session IDs`);
  return value;
}

function stringList(options: Dict, name: string): string[] | undefined {
  const value = options[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalid(`${name} must be a list of strings`);
  }
  return value;
}

function pptString(options: Dict, name: string): string | undefined {
  const value = options[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') throw invalid(`${name} must be a non-empty string; got ${JSON.stringify(value)}`);
  return value;
}

function invalid(message: string): RouterError {
  return new RouterError(ErrorUri.invalidArgument, message);
}
