import { Module, type DynamicModule } from '@nestjs/common';
import { FoxWampModule } from '@fox-wamp/nestjs';
import type { ServerConfig } from './config/server-config.js';
import { HealthController } from './health.controller.js';

/** The standalone server: FoxWampModule attached to this app's HTTP server, plus /health. */
@Module({})
export class AppModule {
  static forConfig(config: ServerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        FoxWampModule.forRoot({
          realms: [config.realm, ...config.realms],
          defaultRealm: config.realm,
          autoRealms: config.autoRealms,
          uriCheck: config.uriCheck,
          shutdownTimeoutMs: config.shutdownTimeout,
          wamp: {
            path: config.wampPath,
            maxMessageSize: config.maxMessageSize,
            pingIntervalMs: config.pingInterval,
          },
        }),
      ],
      controllers: [HealthController],
    };
  }
}
