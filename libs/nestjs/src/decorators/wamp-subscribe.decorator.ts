import { WAMP_SUBSCRIBE_METADATA } from '../fox-wamp.constants.js';
import type { WampSubscribeMetadata, WampSubscribeOptions } from '../interfaces/wamp-handler-options.interface.js';
import { appendMethodMetadata } from './append-method-metadata.js';

/**
 * Calls the method for every event published to `topic` (a pattern with `match`, or fox-wamp's `*`/`#`),
 * from application start. Works on any provider or controller; guards, interceptors, pipes and exception
 * filters apply (context type `wamp`). May be applied more than once.
 */
export function WampSubscribe(topic: string, options: WampSubscribeOptions = {}): MethodDecorator {
  return appendMethodMetadata<WampSubscribeMetadata>(WAMP_SUBSCRIBE_METADATA, { topic, options });
}
