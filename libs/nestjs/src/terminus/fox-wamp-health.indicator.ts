import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RouterService } from '../services/router.service.js';

/**
 * The router as a `@nestjs/terminus` health indicator: `up` when `RouterService.readiness()` is ready (the
 * listeners listen, the store is reachable, no shutdown under way), `down` with the problems otherwise. Both
 * carry the listeners, the store and the session count.
 *
 * ```ts
 * @Controller('health')
 * class HealthController {
 *   constructor(private readonly health: HealthCheckService, private readonly foxWamp: FoxWampHealthIndicator) {}
 *   @Get() @HealthCheck()
 *   check() { return this.health.check([() => this.foxWamp.isHealthy()]); }
 * }
 * ```
 * with `imports: [TerminusModule, FoxWampModule.forRoot(...)]` and `providers: [FoxWampHealthIndicator]`, or
 * `imports: [FoxWampHealthModule]`.
 */
@Injectable()
export class FoxWampHealthIndicator {
  constructor(
    private readonly routerService: RouterService,
    private readonly healthIndicatorService: HealthIndicatorService,
  ) {}

  /** The router's health under `key` (default `fox-wamp`). */
  isHealthy<const Key extends string = 'fox-wamp'>(key: Key = 'fox-wamp' as Key): HealthIndicatorResult<Key> {
    const readiness = this.routerService.readiness();
    const indicator = this.healthIndicatorService.check(key);
    const details = {
      sessions: readiness.sessions,
      store: readiness.store,
      listeners: readiness.listeners.map(({ kind, url, listening }) => ({ kind, url: url ?? null, listening })),
    };
    return readiness.ready ? indicator.up(details) : indicator.down({ ...details, problems: [...readiness.problems] });
  }
}
