import { IntrinsicException } from '@nestjs/common';

/**
 * Answers a WAMP call with an ERROR of your choosing: `throw new WampException('app.error.no_stock', ['out
 * of stock'], { sku })`. The caller receives exactly this URI, args and kwargs. Like Nest's HTTP
 * exceptions it is an expected outcome, so it is not logged as an error.
 */
export class WampException extends IntrinsicException {
  constructor(
    readonly uri: string,
    readonly args: unknown[] = [],
    readonly kwargs: Record<string, unknown> = {},
  ) {
    super(typeof args[0] === 'string' ? args[0] : uri);
    this.name = 'WampException';
  }
}
