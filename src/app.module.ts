import { Module, type DynamicModule } from '@nestjs/common';
import type { StoreProvider } from '@fox-wamp/core';
import { FoxWampModule } from '@fox-wamp/nestjs';
import { authOptionsOf } from './config/auth-options.js';
import type { ServerConfig } from './config/server-config.js';
import { HealthController } from './health.controller.js';

/**
 * The standalone server: FoxWampModule attached to this app's HTTP server (WAMP over WebSocket at the WAMP path,
 * and RawSocket on the same port, MQTT over WebSocket at the MQTT path), plus /health; MQTT over TCP on its
 * own port; optionally RawSocket on a port of its own.
 */
@Module({})
export class AppModule {
  static forConfig(config: ServerConfig, store: StoreProvider): DynamicModule {
    return {
      module: AppModule,
      imports: [
        FoxWampModule.forRoot({
          realms: [config.realm, ...config.realms, ...Object.keys(config.perRealm)],
          perRealm: config.perRealm,
          defaultRealm: config.realm,
          autoRealms: config.autoRealms,
          uriCheck: config.uriCheck,
          store,
          history: { maxEvents: config.historySize, maxAgeMs: config.historyAge * 1000 },
          maxRetainedSize: config.maxRetainedSize,
          shutdownTimeoutMs: config.shutdownTimeout,
          auth: authOptionsOf(config),
          wamp: {
            path: config.wampPath,
            maxMessageSize: config.maxMessageSize,
            pingIntervalMs: config.pingInterval,
          },
          mqtt: config.mqtt
            ? { port: config.mqttPort, host: config.host, path: config.mqttWsPath, maxKeepAlive: config.mqttMaxKeepalive, maxPacketSize: config.maxMessageSize }
            : false,
          rawsocket: [
            { maxMessageSize: config.maxMessageSize },
            ...(config.rawsocketPort === undefined
              ? []
              : [{ port: config.rawsocketPort, host: config.host, maxMessageSize: config.maxMessageSize }]),
          ],
        }),
      ],
      controllers: [HealthController],
    };
  }
}
