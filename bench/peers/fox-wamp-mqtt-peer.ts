/**
 * The JavaScript fox-wamp 0.7.28 from npm (installed under bench/node_modules) as one router with its WAMP
 * gate (WebSocket, port 0) and its MQTT gate (TCP). Its MQTT listener cannot listen on port 0 and tell the
 * port, so the harness passes a free one: `node fox-wamp-mqtt-peer.js MQTT_PORT`.
 * Prints `listening wamp PORT` once the WAMP server listens; the harness waits for the MQTT port itself.
 * Out of the box, as a user would run it (its MQTT sockets keep Nagle's algorithm on).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const benchPackage = fileURLToPath(new URL('../../../bench/package.json', import.meta.url));
const FoxRouter = createRequire(benchPackage)('fox-wamp') as new () => {
  listenWAMP(options: { port: number; host?: string }): { on(event: 'listening', listener: () => void): void; address(): { port: number } };
  listenMQTT(options: { port: number; host?: string }): void;
};

const mqttPort = Number(process.argv[2]);
if (!Number.isInteger(mqttPort) || mqttPort <= 0) throw new Error('usage: fox-wamp-mqtt-peer.js MQTT_PORT');
const router = new FoxRouter();
router.listenMQTT({ port: mqttPort, host: '127.0.0.1' });
const wamp = router.listenWAMP({ port: 0, host: '127.0.0.1' });
wamp.on('listening', () => console.log(`listening wamp ${wamp.address().port}`));
