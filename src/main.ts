import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisBackplane, connectStore, isRedisStore, type Backplane, type StoreProvider } from '@fox-wamp/core';
import { RouterService, nestRouterLogger } from '@fox-wamp/nestjs';
import { AppModule } from './app.module.js';
import { loadConfig } from './config/load-config.js';
import { ConfigError, type ServerConfig } from './config/server-config.js';
import { serverLogger } from './logging/server-logger.js';

/** Prints one line to stderr and exits: configuration and startup errors are not stack traces. */
function fail(message: string, status: number): never {
  process.stderr.write(`fox-wamp: ${message}\n`);
  process.exit(status);
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** A failed `listen` as one line; `flag` is the option that chose the port. */
function describeListenError(error: NodeJS.ErrnoException, host: string, port: number, flag: string): string {
  const what = flag === '--port' ? 'port' : flag === '--mqtt-port' ? 'mqtt port' : 'rawsocket port';
  switch (error.code) {
    case 'EADDRINUSE':
      return `${what} ${port} on ${host} is already in use (choose another with ${flag}, or 0 for any free port)`;
    case 'EACCES':
      return `no permission to listen on ${host}:${port}`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `cannot listen on host ${host}: no such local address`;
    default:
      return `cannot listen on ${host}:${port}: ${error.message}`;
  }
}

/** Whether `error` is a failed `listen` (as opposed to a bug), which gets a one-line description. */
function isListenError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && (error as NodeJS.ErrnoException).syscall === 'listen';
}

async function main(): Promise<void> {
  let config: ServerConfig;
  try {
    config = loadConfig(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }

  // Opened (and, for Redis, connected) before Nest, so that a bad path or an unreachable Redis is our one line
  // and exit 2, not a dependency-injection stack trace or a realm's error log.
  let store: StoreProvider;
  try {
    store = await connectStore(config.store);
  } catch (error) {
    fail((error as Error).message, 2);
  }
  // A Redis store makes this process one node of a cluster: every router process on that Redis is one router.
  let cluster: Backplane | undefined;
  let fenced = (): void => {};
  if (isRedisStore(config.store)) {
    try {
      cluster = await RedisBackplane.connect(config.store, {
        nodeId: config.nodeId,
        leaseMs: config.leaseTime,
        logger: nestRouterLogger('FoxWampCluster'),
        onFenced: () => fenced(),
      });
    } catch (error) {
      await store.close().catch(() => {});
      fail((error as Error).message, 2);
    }
  }

  const app = await NestFactory.create(AppModule.forConfig(config, store, cluster), {
    logger: serverLogger(config.logLevel, config.logFormat),
    abortOnError: false,
  });
  // useProcessExit: after the graceful close, exit with 0 instead of Nest's default of re-raising the signal
  // (which ends the process "killed by SIGTERM", a failure to supervisors and scripts).
  app.enableShutdownHooks(['SIGINT', 'SIGTERM'], { useProcessExit: true });
  // init opens the RawSocket port of its own, if any (FoxWampModule listens at bootstrap).
  try {
    await app.init();
  } catch (error) {
    if (!isListenError(error)) throw error;
    await app.close().catch(() => {});
    // The ports of their own that init opens: which one failed is in the error.
    const failedPort = (error as NodeJS.ErrnoException & { port?: number }).port;
    const flag = config.mqtt && failedPort === config.mqttPort ? '--mqtt-port' : '--rawsocket-port';
    fail(describeListenError(error, config.host, failedPort ?? config.rawsocketPort ?? config.mqttPort, flag), 1);
  }

  // Listening ourselves (not app.listen) keeps a taken port to our one line instead of Nest's error log.
  let address: AddressInfo;
  try {
    address = await listen(app.getHttpServer() as Server, config.port, config.host);
  } catch (error) {
    await app.close().catch(() => {});
    fail(describeListenError(error as NodeJS.ErrnoException, config.host, config.port, '--port'), 1);
  }
  const logger = new Logger('FoxWamp');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  logger.log(`listening http http://${host}:${address.port}/health`);
  if (config.metrics) logger.log(`metrics http://${host}:${address.port}/metrics`);
  logger.log(`listening rawsocket tcp://${host}:${address.port} (shared with http)`);
  if (config.mqtt) logger.log(`listening mqtt-ws ws://${host}:${address.port}${config.mqttWsPath}`);
  // Last of the listening lines: tests and scripts take it to mean "ready".
  logger.log(`listening wamp ws://${host}:${address.port}${config.wampPath}`);
  const router = app.get(RouterService).router;
  // A node that lost its lease has been (or is about to be) reaped by the others: its sessions must end.
  fenced = () => router.closeAll('wamp.close.system_shutdown', 'this router node lost its cluster lease');
  if (cluster !== undefined) logger.log(`cluster node ${cluster.node} on ${cluster.description}`);
  logger.log(`realms: ${[...router.realms()].map((realm) => realm.name).join(', ')}${config.autoRealms ? ' (auto-realms on)' : ''}`);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error), 1));
