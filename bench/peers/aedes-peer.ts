/**
 * Aedes (from npm, installed under bench/node_modules by `npm run bench:mqtt`) as an MQTT broker on a free
 * TCP port, with its default in-memory persistence and `TCP_NODELAY` on every socket as ours has.
 * Prints `listening PORT`.
 */
import { createRequire } from 'node:module';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface AedesBroker {
  handle(socket: Socket): void;
}
const benchPackage = fileURLToPath(new URL('../../../bench/package.json', import.meta.url));
// Resolved from bench/ (the peers' own package), not from the repository's dependencies.
const aedesEntry = createRequire(benchPackage).resolve('aedes');
const { Aedes } = (await import(pathToFileURL(aedesEntry).href)) as { Aedes: { createBroker(): Promise<AedesBroker> } };

const broker = await Aedes.createBroker();
const server = createServer({ noDelay: true }, (socket) => broker.handle(socket));
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as { port: number }).port}`));
