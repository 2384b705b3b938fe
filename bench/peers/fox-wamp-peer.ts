/**
 * The JavaScript fox-wamp 0.7.28 from npm (installed under bench/node_modules by `npm run bench`), as a
 * WAMP server on a free port. Prints `listening PORT`.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const benchPackage = fileURLToPath(new URL('../../../bench/package.json', import.meta.url));
const FoxRouter = createRequire(benchPackage)('fox-wamp') as new () => {
  listenWAMP(options: { port: number; host?: string }): { on(event: 'listening', listener: () => void): void; address(): { port: number } };
};

const server = new FoxRouter().listenWAMP({ port: 0, host: '127.0.0.1' });
server.on('listening', () => console.log(`listening ${server.address().port}`));
