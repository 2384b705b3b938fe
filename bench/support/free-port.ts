import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { sleep } from './clock.js';

/** Asks the kernel for a free port, for peers that cannot listen on port 0 and tell which port they got. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Resolves once a TCP connection to the port succeeds; rejects when `gaveUp()` holds or after the timeout. */
export async function waitForPort(port: number, gaveUp: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gaveUp()) throw new Error('the process exited');
    const connected = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    if (Date.now() > deadline) throw new Error(`port ${port} not accepting after ${timeoutMs} ms`);
    await sleep(25);
  }
}
