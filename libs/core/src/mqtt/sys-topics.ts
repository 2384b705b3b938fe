import { createRequire } from 'node:module';
import type { Realm } from '../router/realm.js';
import type { Router } from '../router/router.js';
import { MqttPayload } from './mqtt-payload.js';

/** The engine's version, as `$SYS/broker/version` tells it. */
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * The `$SYS` topics Mosquitto clients look for, as retained messages of each realm that has MQTT sessions:
 * `$SYS/broker/version`, `$SYS/broker/uptime` ("N seconds"), `$SYS/broker/clients/connected`. Refreshed every
 * `intervalSeconds` (Mosquitto's `sys_interval`). Wildcard subscriptions never match `$` topics (MQTT-4.7.2-1),
 * so only a subscriber that names `$SYS/...` receives them.
 */
export class SysTopics {
  private readonly startedAt = Date.now();
  private readonly timer: NodeJS.Timeout;
  private readonly lastSent = new Map<string, string>();

  constructor(
    private readonly router: Router,
    private readonly connectedIn: (realm: Realm) => number,
    intervalSeconds: number,
  ) {
    this.timer = setInterval(() => this.publish(), intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Publishes what changed since the last round (and everything the first time a realm is seen). */
  publish(): void {
    const uptime = `${Math.floor((Date.now() - this.startedAt) / 1000)} seconds`;
    for (const realm of this.router.realms()) {
      const connected = this.connectedIn(realm);
      if (connected === 0 && !this.lastSent.has(`${realm.name}\u0000version`)) continue;
      this.send(realm, 'version', `fox-wamp ${VERSION}`);
      this.send(realm, 'uptime', uptime);
      this.send(realm, 'clients/connected', String(connected));
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  private send(realm: Realm, name: string, value: string): void {
    const key = `${realm.name}\u0000${name}`;
    if (this.lastSent.get(key) === value) return;
    this.lastSent.set(key, value);
    realm
      .publishTo(undefined, ['$SYS', 'broker', ...name.split('/')], new MqttPayload(Buffer.from(value, 'utf8')), { retain: true })
      .catch(() => this.lastSent.delete(key));
  }
}
