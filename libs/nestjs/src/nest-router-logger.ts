import { Logger } from '@nestjs/common';
import type { RouterLogger } from '@fox-wamp/core';

/** The engine's logger on Nest's `Logger`, so router logs follow the app's logger and levels. */
export function nestRouterLogger(context = 'FoxWamp'): RouterLogger {
  const logger = new Logger(context);
  const format = (message: string, fields?: Record<string, unknown>) =>
    fields === undefined || Object.keys(fields).length === 0 ? message : `${message} ${JSON.stringify(fields)}`;
  return {
    debug: (message, fields) => logger.debug(format(message, fields)),
    info: (message, fields) => logger.log(format(message, fields)),
    warn: (message, fields) => logger.warn(format(message, fields)),
    error: (message, fields) => logger.error(format(message, fields)),
  };
}
