import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { FoxWampHealthIndicator } from './fox-wamp-health.indicator.js';

/**
 * `FoxWampHealthIndicator` ready to inject: import this module next to `FoxWampModule` (which it needs, as it
 * is global by default) and `TerminusModule` (for `HealthCheckService`).
 */
@Module({
  imports: [TerminusModule],
  providers: [FoxWampHealthIndicator],
  exports: [FoxWampHealthIndicator],
})
export class FoxWampHealthModule {}
