import { ErrorUri, RouterError } from '../router/errors.js';
import { isWampId } from '../router/ids.js';
import {
  isInvokePolicy,
  type CallOptions,
  type PublishOptions,
  type RegisterOptions,
  type SubscribeOptions,
} from '../router/options.js';
import { isMatchPolicy } from '../router/topic-pattern.js';

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
  return { match: matchOption(options) };
}

export function publishOptions(options: Dict): PublishOptions & { acknowledge: boolean } {
  return {
    acknowledge: bool(options, 'acknowledge') ?? false,
    excludeMe: bool(options, 'exclude_me'),
    discloseMe: bool(options, 'disclose_me'),
    exclude: idList(options, 'exclude'),
    eligible: idList(options, 'eligible'),
    excludeAuthid: stringList(options, 'exclude_authid'),
    eligibleAuthid: stringList(options, 'eligible_authid'),
    excludeAuthrole: stringList(options, 'exclude_authrole'),
    eligibleAuthrole: stringList(options, 'eligible_authrole'),
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
  return { match: matchOption(options), invoke, concurrency };
}

export function callOptions(options: Dict): CallOptions {
  return { receiveProgress: bool(options, 'receive_progress'), discloseMe: bool(options, 'disclose_me') };
}

export function yieldProgress(options: Dict): boolean {
  return bool(options, 'progress') ?? false;
}

/** A router-specific option under its plain name or with a leading underscore (plain wins). */
export function routerOption(options: Dict, name: string): unknown {
  return name in options ? options[name] : options[`_${name}`];
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

function invalid(message: string): RouterError {
  return new RouterError(ErrorUri.invalidArgument, message);
}
