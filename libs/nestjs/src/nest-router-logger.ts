import { Logger } from '@nestjs/common';
import type { RouterLogger } from '@fox-wamp/core';

/**
 * The engine's logger on Nest's `Logger`, so router logs follow the app's logger and levels. A line's fields
 * (session, realm, authid, remote address, ...) go as Nest's structured params: `ConsoleLogger` prints them
 * after the message, or, with `json: true, flattenParams: true`, as properties of the JSON line.
 */
export function nestRouterLogger(context = 'FoxWamp'): RouterLogger {
  const logger = new Logger(context);
  const params = (fields?: Record<string, unknown>): [Record<string, unknown>] | [] =>
    fields === undefined || Object.keys(fields).length === 0 ? [] : [fields];
  return {
    debug: (message, fields) => logger.debug(message, ...params(fields)),
    info: (message, fields) => logger.log(message, ...params(fields)),
    warn: (message, fields) => logger.warn(message, ...params(fields)),
    error: (message, fields) => logger.error(message, ...params(fields)),
  };
}
