import { Injectable } from '@nestjs/common';
import { Args, Kwargs, WampProcedure, WampResult } from '@fox-wamp/nestjs';

/**
 * The seed's "register option concurrency" use case: `service.echo` answers with what it was given, at
 * most 10 calls at a time; further calls wait their turn in the router.
 */
@Injectable()
export class EchoService {
  @WampProcedure('service.echo', { concurrency: 10 })
  echo(@Args() args: unknown[], @Kwargs() kwargs: Record<string, unknown>): WampResult {
    return new WampResult(args, kwargs);
  }
}
