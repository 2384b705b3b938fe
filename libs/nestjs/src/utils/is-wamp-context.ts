import type { ArgumentsHost } from '@nestjs/common';
import { WAMP_CONTEXT_TYPE } from '../fox-wamp.constants.js';

/**
 * Whether a guard, interceptor or filter runs for a WAMP handler, so that HTTP-only enhancers (global ones
 * especially) can step aside: `if (isWampContext(context)) return true;`.
 */
export function isWampContext(host: ArgumentsHost): boolean {
  return host.getType<string>() === WAMP_CONTEXT_TYPE;
}
