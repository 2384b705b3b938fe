import { ConsoleLogger, type LogLevel as NestLogLevel } from '@nestjs/common';
import type { LogFormat, LogLevel } from '../config/server-config.js';

const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  info: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
  silent: [],
};

/** Whether `format` means JSON lines: `json`, or `auto` when the output is not a terminal (a file, a pipe, a collector). */
export function logsAsJson(format: LogFormat, output: { readonly isTTY?: boolean } = process.stdout): boolean {
  return format === 'json' || (format === 'auto' && output.isTTY !== true);
}

/**
 * The server's logger: Nest's `ConsoleLogger` at `level`, as one JSON object per line (`level`, `timestamp`,
 * `message`, `context`, and a line's fields such as `session`, `realm`, `authid`, `protocol`, `remoteAddress`
 * as properties of their own) or as Nest's readable lines with the fields after the message. `false` for
 * `silent`. Colors only on a terminal, and never with `NO_COLOR`.
 */
export function serverLogger(level: LogLevel, format: LogFormat): ConsoleLogger | false {
  if (level === 'silent') return false;
  const json = logsAsJson(format);
  return new ConsoleLogger({
    logLevels: NEST_LEVELS[level],
    json,
    flattenParams: true,
    colors: !json && process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  });
}
