import { ErrorUri, RouterError } from '../router/errors.js';
import type { PublishOptions } from '../router/options.js';
import type { Payload } from '../router/payload.js';
import type { Realm } from '../router/realm.js';
import type { Session } from '../router/session.js';
import { isValidUri } from '../router/uri.js';
import { publishOptions } from '../wamp/wire-options.js';
import { dictArgument, type MetaService } from './meta-service.js';

/** When a testament is published. Without session resumption both happen when the session ends, `detached` first. */
type TestamentScope = 'detached' | 'destroyed';

interface Testament {
  readonly topic: string;
  readonly payload: Payload;
  readonly options: PublishOptions;
}

/**
 * Session Testament (`testament_meta_api`): `wamp.session.add_testament` / `flush_testaments`. A session's
 * testaments are published, in the order they were added, when the session ends for any reason, as if the
 * session had published them (so `disclose_me` names it and black/white lists apply).
 */
export function attachTestaments(realm: Realm, service: MetaService): void {
  const testaments = new Map<Session, Record<TestamentScope, Testament[]>>();

  service.register('wamp.session.add_testament', (args, kwargs, caller) => {
    const topic = args[0];
    if (!isValidUri(topic, 'concrete', realm.uriCheck) || topic === 'wamp' || topic.startsWith('wamp.')) {
      throw new RouterError(ErrorUri.invalidUri, `testament topic ${JSON.stringify(topic)} is not a valid application topic URI`);
    }
    const eventArgs = args[1] ?? [];
    if (!Array.isArray(eventArgs)) throw new RouterError(ErrorUri.invalidArgument, 'argument 2 (args) must be a list');
    const eventKwargs = dictArgument(args, 2, 'kwargs');
    const scope = scopeOf(kwargs);
    const options = testamentOptions(dictArgument([kwargs.publish_options], 0, 'publish_options'));
    if (!caller.isOpen) return {};
    let buckets = testaments.get(caller);
    if (buckets === undefined) testaments.set(caller, (buckets = { detached: [], destroyed: [] }));
    buckets[scope].push({ topic, payload: { args: eventArgs, kwargs: eventKwargs }, options });
    return {};
  });
  service.register('wamp.session.flush_testaments', (_args, kwargs, caller) => {
    const scope = scopeOf(kwargs);
    const buckets = testaments.get(caller);
    if (buckets !== undefined) buckets[scope] = [];
    return {};
  });

  realm.onSessionLeave((session) => {
    const buckets = testaments.get(session);
    if (buckets === undefined) return;
    testaments.delete(session);
    for (const testament of [...buckets.detached, ...buckets.destroyed]) {
      realm.publish(session, testament.topic, testament.payload, testament.options).catch(() => {
        // Nobody is left to tell: a testament that cannot be published (e.g. refused by the store) is dropped.
      });
    }
  });
}

function scopeOf(kwargs: Readonly<Record<string, unknown>>): TestamentScope {
  const scope = kwargs.scope ?? 'destroyed';
  if (scope !== 'detached' && scope !== 'destroyed') {
    throw new RouterError(ErrorUri.invalidArgument, `scope must be 'detached' or 'destroyed', not ${JSON.stringify(scope)}`);
  }
  return scope;
}

/**
 * The publish options a testament honours. Acknowledgement has no one to go to, and the retained-state
 * conditions (`when`, `watch`, `will`) belong to a live publisher, so they are refused rather than ignored.
 */
function testamentOptions(options: Record<string, unknown>): PublishOptions {
  let parsed: ReturnType<typeof publishOptions>;
  try {
    parsed = publishOptions(options);
  } catch (error) {
    throw new RouterError(ErrorUri.invalidArgument, `bad publish_options: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { acknowledge: _acknowledge, when, watch, will, ...rest } = parsed;
  if (when !== undefined || watch || will !== undefined) {
    throw new RouterError(ErrorUri.invalidArgument, 'a testament cannot use when, watch or will');
  }
  return rest;
}
