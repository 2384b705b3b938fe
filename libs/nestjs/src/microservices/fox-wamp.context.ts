import { BaseRpcContext } from '@nestjs/microservices';
import type { WampContext } from '../context/wamp-context.js';

/** The `@Ctx()` of `@MessagePattern`/`@EventPattern` handlers served over WAMP. */
export class FoxWampContext extends BaseRpcContext<[WampContext]> {
  constructor(context: WampContext) {
    super([context]);
  }

  /** The call or event: realm, URI, args, kwargs, details, `progress()`. */
  getWampContext(): WampContext {
    return this.args[0];
  }

  /** The concrete procedure or topic. */
  getUri(): string {
    return this.args[0].uri;
  }

  getDetails(): Record<string, unknown> {
    return this.args[0].details;
  }
}
