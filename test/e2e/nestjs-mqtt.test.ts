import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Args, FoxWampModule, RealmService, RouterService, WampProcedure, WampSubscribe, type FoxWampModuleOptions } from '@fox-wamp/nestjs';
import { Inbox } from '../support/autobahn-client.js';
import { MqttTestClients, uniqueName } from '../support/mqtt-client.js';

// MQTT inside an application's Nest app (`FoxWampModule.forRoot({ mqtt })`): devices over MQTT reach the
// application's decorated handlers and RealmService, and the module's listeners start and stop with the app.

const readings = new Inbox<unknown[]>();

@Injectable()
class SensorHandlers {
  @WampSubscribe('plant.temperature')
  onTemperature(@Args() args: unknown[]): void {
    readings.push(args);
  }

  @WampProcedure('plant.setpoint')
  setpoint(@Args(0) request: { celsius: number }): { accepted: number } {
    return { accepted: request.celsius };
  }
}

@Module({})
class SensorAppModule {
  static with(options: FoxWampModuleOptions) {
    return { module: SensorAppModule, imports: [FoxWampModule.forRoot(options)], providers: [SensorHandlers] };
  }
}

const apps: INestApplication[] = [];
const clients: MqttTestClients[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((open) => open.closeAll()));
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(options: FoxWampModuleOptions): Promise<INestApplication> {
  const app = await NestFactory.create(SensorAppModule.with(options), { logger: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('FoxWampModule with mqtt', () => {
  it('serves MQTT on its own TCP port and at a path of Nest\'s HTTP server; devices reach @WampSubscribe handlers', async () => {
    const app = await start({ mqtt: { port: 0 } });
    const listener = app.get(RouterService).mqttListener!;
    expect(listener.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(listener.webSocketUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    for (const url of [listener.url!, listener.webSocketUrl!]) {
      const devices = new MqttTestClients(url, 5);
      clients.push(devices);
      const device = await devices.connect();
      await device.client.publishAsync('plant/temperature', '21.5', { qos: 1 });
    }
    await readings.waitFor(2);
    expect(readings.items.slice(-2)).toEqual([[21.5], [21.5]]);
  });

  it('RealmService publications reach MQTT subscribers, and an MQTT 5 request calls a @WampProcedure', async () => {
    const app = await start({ mqtt: { port: 0, path: false } });
    const listener = app.get(RouterService).mqttListener!;
    expect(listener.webSocketUrl).toBeUndefined();
    const devices = new MqttTestClients(listener.url!, 5);
    clients.push(devices);
    const device = await devices.connect();
    const topic = uniqueName('alerts');
    await device.client.subscribeAsync({ [topic]: { qos: 1 }, 'replies/me': { qos: 1 } });
    await app.get(RealmService).publish(topic, [{ level: 'high' }]);
    expect((await device.inbox.waitForMessage(topic)).text).toBe('{"level":"high"}');
    await device.client.publishAsync('plant/setpoint', '{"celsius":19}', { qos: 1, properties: { responseTopic: 'replies/me', correlationData: Buffer.from('1') } });
    expect((await device.inbox.waitForMessage('replies/me')).text).toBe('{"accepted":19}');
  });

  it('has no MQTT unless asked for, and app.close() ends MQTT sessions with DISCONNECT 0x8B (server shutting down)', async () => {
    const plain = await start({});
    expect(plain.get(RouterService).mqttListener).toBeUndefined();
    const app = await start({ mqtt: { port: 0, path: false } });
    const devices = new MqttTestClients(app.get(RouterService).mqttListener!.url!, 5);
    clients.push(devices);
    const device = await devices.connect();
    apps.splice(apps.indexOf(app), 1);
    await app.close();
    const disconnect = await device.packets.waitFor((packet) => packet.cmd === 'disconnect', 'the DISCONNECT');
    expect((disconnect as { reasonCode?: number }).reasonCode).toBe(0x8b);
    await device.closed;
  });
});
