import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * Asks the kernel for a free port, for programs that cannot listen on port 0 and report the port they got
 * (Mosquitto, redis-server). The port is released before it is returned, so a caller retries on EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
