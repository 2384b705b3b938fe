import { startMosquitto } from './mosquitto-process.js';
import { startServer } from './server-process.js';

/**
 * The MQTT brokers a differential test runs its scenarios against: ours (the built standalone server, as a
 * user starts it) and Debian's Mosquitto, the reference. `MQTT_BROKERS=fox` or `=mosquitto` narrows the
 * list (while developing); by default both run, so every scenario shows where the two differ.
 */
export type BrokerName = 'fox' | 'mosquitto';

export interface RunningBroker {
  readonly name: BrokerName;
  /** `mqtt://127.0.0.1:PORT` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

export const ALL_BROKERS: readonly BrokerName[] = ['fox', 'mosquitto'];

/** The brokers selected for this run (`MQTT_BROKERS`, comma separated; default: all). */
export function selectedBrokers(): BrokerName[] {
  const wanted = process.env.MQTT_BROKERS?.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  if (wanted === undefined || wanted.length === 0) return [...ALL_BROKERS];
  for (const name of wanted) {
    if (!(ALL_BROKERS as readonly string[]).includes(name)) throw new Error(`MQTT_BROKERS names an unknown broker: ${name}`);
  }
  return wanted as BrokerName[];
}

/**
 * Starts one broker. `foxArgs` are extra server flags for ours; `mosquittoConfig` extra configuration lines
 * for Mosquitto (e.g. `max_keepalive 10`), for scenarios that need the same setting on both.
 */
export async function startBroker(
  name: BrokerName,
  options: { readonly foxArgs?: readonly string[]; readonly mosquittoConfig?: readonly string[] } = {},
): Promise<RunningBroker> {
  if (name === 'mosquitto') {
    const mosquitto = await startMosquitto(options.mosquittoConfig ?? []);
    return { name, url: mosquitto.url, host: '127.0.0.1', port: mosquitto.port, stop: () => mosquitto.stop() };
  }
  const server = await startServer(['--mqtt-port', '0', ...(options.foxArgs ?? [])]);
  const url = server.mqttUrl!;
  return {
    name,
    url,
    host: '127.0.0.1',
    port: Number(new URL(url).port),
    async stop() {
      await server.stop();
    },
  };
}
