import { Module, type DynamicModule } from '@nestjs/common';
import { PrometheusMetrics, type Backplane, type StoreProvider } from '@fox-wamp/core';
import { FoxWampModule } from '@fox-wamp/nestjs';
import { authOptionsOf } from './config/auth-options.js';
import type { ServerConfig } from './config/server-config.js';
import { withConsoleRealmGuard } from './console/console-access.js';
import { consoleSettingsOf } from './console/console-settings.js';
import { ConsoleModule } from './console/console.module.js';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';

/**
 * The standalone server: FoxWampModule attached to this app's HTTP server (WAMP over WebSocket at the WAMP path,
 * and RawSocket on the same port, MQTT over WebSocket at the MQTT path); MQTT over TCP on its
 * own port; optionally RawSocket on a port of its own. `/health`, `/health/ready` and `/metrics` on the HTTP port,
 * and, with a console user configured, the admin console at `/console` with its own realm.
 */
@Module({})
export class AppModule {
  static forConfig(config: ServerConfig, store: StoreProvider, cluster?: Backplane): DynamicModule {
    const consoleSettings = consoleSettingsOf(config);
    return {
      module: AppModule,
      imports: [
        FoxWampModule.forRoot({
          realms: [config.realm, ...config.realms, ...Object.keys(config.perRealm), ...(consoleSettings === undefined ? [] : [consoleSettings.realm])],
          perRealm: config.perRealm,
          defaultRealm: config.realm,
          autoRealms: config.autoRealms,
          uriCheck: config.uriCheck,
          store,
          cluster,
          history: { maxEvents: config.historySize, maxAgeMs: config.historyAge * 1000 },
          maxRetainedSize: config.maxRetainedSize,
          shutdownTimeoutMs: config.shutdownTimeout,
          auth: consoleSettings === undefined ? authOptionsOf(config) : withConsoleRealmGuard(authOptionsOf(config), consoleSettings),
          schema: config.schema,
          // The standalone server also reports the process (CPU, memory, event loop lag) next to the router.
          metrics: config.metrics ? new PrometheusMetrics({ processMetrics: true }) : false,
          wamp: {
            path: config.wampPath,
            maxMessageSize: config.maxMessageSize,
            pingIntervalMs: config.pingInterval,
          },
          mqtt: config.mqtt
            ? {
                port: config.mqttPort,
                host: config.host,
                path: config.mqttWsPath,
                maxKeepAlive: config.mqttMaxKeepalive,
                maxPacketSize: config.maxMessageSize,
                sysInterval: config.mqttSysInterval,
              }
            : false,
          rawsocket: [
            { maxMessageSize: config.maxMessageSize },
            ...(config.rawsocketPort === undefined
              ? []
              : [{ port: config.rawsocketPort, host: config.host, maxMessageSize: config.maxMessageSize }]),
          ],
        }),
        ...(consoleSettings === undefined ? [] : [ConsoleModule.forSettings(consoleSettings)]),
      ],
      controllers: [HealthController, MetricsController],
    };
  }
}
