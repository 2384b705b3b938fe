import { WAMP_PROCEDURE_METADATA } from '../fox-wamp.constants.js';
import type { WampProcedureMetadata, WampProcedureOptions } from '../interfaces/wamp-handler-options.interface.js';
import { appendMethodMetadata } from './append-method-metadata.js';

/**
 * Serves the method as the WAMP procedure `uri`, in process, from application start. Works on any
 * provider or controller; guards, interceptors, pipes and exception filters apply (context type `wamp`).
 * The return value is the call's result (`WampResult` for several args or kwargs); a thrown
 * `WampException` is the caller's ERROR. May be applied more than once to serve several URIs.
 */
export function WampProcedure(uri: string, options: WampProcedureOptions = {}): MethodDecorator {
  return appendMethodMetadata<WampProcedureMetadata>(WAMP_PROCEDURE_METADATA, { uri, options });
}
