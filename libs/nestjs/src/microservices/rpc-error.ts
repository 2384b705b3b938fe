import { ErrorUri, RouterError } from '@fox-wamp/core';
import { toWampError } from '../exceptions/to-wamp-error.js';
import { WampException } from '../exceptions/wamp.exception.js';

/**
 * The WAMP ERROR for what a microservice handler's stream failed with. Nest's RPC exception filter hands
 * on `RpcException.getError()`: `new RpcException(new WampException(uri, args, kwargs))` (or an object
 * `{ uri, args?, kwargs? }`) chooses the URI; a string or `{ message }` becomes `wamp.error.runtime_error`.
 */
export function rpcErrorToWamp(error: unknown): RouterError {
  if (error instanceof RouterError || error instanceof WampException) return toWampError(error);
  if (typeof error === 'string') return new RouterError(ErrorUri.runtimeError, error);
  if (typeof error === 'object' && error !== null) {
    const { uri, args, kwargs, message } = error as { uri?: unknown; args?: unknown; kwargs?: unknown; message?: unknown };
    if (typeof uri === 'string') {
      return new RouterError(uri, typeof message === 'string' ? message : undefined, {
        args: Array.isArray(args) ? args : typeof message === 'string' ? [message] : [],
        kwargs: typeof kwargs === 'object' && kwargs !== null ? (kwargs as Record<string, unknown>) : {},
      });
    }
    if (typeof message === 'string') return new RouterError(ErrorUri.runtimeError, message);
  }
  return toWampError(error);
}
