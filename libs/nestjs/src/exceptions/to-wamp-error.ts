import { HttpException, HttpStatus } from '@nestjs/common';
import { ErrorUri, RouterError } from '@fox-wamp/core';
import { WampException } from './wamp.exception.js';

/** What callers see for an error the application did not mean to show (its message may hold internals). */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/**
 * The WAMP ERROR a caller receives for what a handler, guard, pipe or filter threw:
 * - `WampException` and the engine's `RouterError` (e.g. from a nested `RealmService.call`): as they are;
 * - `BadRequestException` (what `ValidationPipe` throws): `wamp.error.invalid_argument`, messages in kwargs;
 * - `UnauthorizedException` / `ForbiddenException` (what a guard's denial throws): `wamp.error.not_authorized`;
 * - other `HttpException`s: `wamp.error.runtime_error` with their status and messages;
 * - anything else: `wamp.error.runtime_error` "Internal server error" (Nest's own rule for unknown errors).
 */
export function toWampError(error: unknown): RouterError {
  if (error instanceof RouterError) return error;
  if (error instanceof WampException) return new RouterError(error.uri, error.message, { args: error.args, kwargs: error.kwargs });
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const messages = messagesOf(error);
    const kwargs = { statusCode: status, messages };
    const summary = messages.join('; ');
    if (status === HttpStatus.BAD_REQUEST) return new RouterError(ErrorUri.invalidArgument, summary, { args: [summary], kwargs });
    if (status === HttpStatus.UNAUTHORIZED || status === HttpStatus.FORBIDDEN) {
      return new RouterError(ErrorUri.notAuthorized, summary, { args: [summary], kwargs });
    }
    return new RouterError(ErrorUri.runtimeError, summary, { args: [summary], kwargs });
  }
  return new RouterError(ErrorUri.runtimeError, INTERNAL_ERROR_MESSAGE);
}

/** An HttpException's message(s): `ValidationPipe` puts one per failed constraint in `response.message`. */
function messagesOf(error: HttpException): string[] {
  const response = error.getResponse();
  if (typeof response === 'string') return [response];
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String);
  return [typeof message === 'string' ? message : error.message];
}
