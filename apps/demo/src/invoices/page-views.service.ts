import { Injectable } from '@nestjs/common';
import { Details, WampProcedure } from '@fox-wamp/nestjs';

/**
 * The seed README's reducer: every event published on `demo.views.<page>` (the invoices page sends one when
 * it opens) comes here with the topic's retained value, and what this returns is the new value, published to
 * the topic's subscribers. The router reduces one topic's events one at a time, in order, so concurrent
 * visitors lose no count.
 */
@Injectable()
export class PageViewsService {
  @WampProcedure('demo.views.*', { reducer: true })
  count(@Details('retained') retained: number | null): number {
    return (retained ?? 0) + 1;
  }
}
