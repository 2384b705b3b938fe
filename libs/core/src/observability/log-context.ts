import { SILENT_LOGGER, type RouterLogger } from '../router/logger.js';
import type { Session } from '../router/session.js';

/**
 * A logger that adds `context()` to the fields of every line, e.g. the session a gate serves. The context is
 * computed when a line is written, so it shows the state of that moment (before and after the handshake) and
 * costs nothing while nothing is logged. A line's own fields win over the context's.
 */
export function withLogContext(logger: RouterLogger, context: () => Record<string, unknown>): RouterLogger {
  if (logger === SILENT_LOGGER) return logger;
  const merged = (fields: Record<string, unknown> | undefined) => (fields === undefined ? context() : { ...context(), ...fields });
  return {
    debug: (message, fields) => logger.debug(message, merged(fields)),
    info: (message, fields) => logger.info(message, merged(fields)),
    warn: (message, fields) => logger.warn(message, merged(fields)),
    error: (message, fields) => logger.error(message, merged(fields)),
  };
}

/** The fields that identify a joined session in log lines: session ID, realm, authid, protocol, remote address. */
export function sessionLogFields(session: Session): Record<string, unknown> {
  const info = session.info;
  return {
    session: session.id,
    realm: session.realm.name,
    authid: info.authid,
    protocol: info.protocol,
    transport: info.transport,
    ...(info.remoteAddress === undefined ? {} : { remoteAddress: info.remoteAddress }),
  };
}
