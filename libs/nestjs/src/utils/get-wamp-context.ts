import type { ArgumentsHost } from '@nestjs/common';
import { WampContext } from '../context/wamp-context.js';
import { isWampContext } from './is-wamp-context.js';

/** The call or event an enhancer runs for. Throws outside a WAMP handler (check `isWampContext` first). */
export function getWampContext(host: ArgumentsHost): WampContext {
  const context = host.getArgByIndex(0);
  if (!isWampContext(host) || !(context instanceof WampContext)) {
    throw new Error(`getWampContext: this ${host.getType()} context is not a WAMP handler's`);
  }
  return context;
}
