/**
 * The logging the engine needs. The Nest module passes Nest's logger; the default drops everything, so the
 * engine stays silent when embedded without one.
 */
export interface RouterLogger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

export const SILENT_LOGGER: RouterLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
