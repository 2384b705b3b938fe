import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { DEMO_WAMP_PATH } from './demo.constants.js';

/**
 * `npm run demo` (or `node dist/apps/demo/main.js [--port N] [--host H]`): the chat page at `/`, the live
 * invoices page at `/invoices`, WAMP at `/wamp` on the same port. PORT and HOST environment variables work too; port 0 picks a free one.
 */
async function main(): Promise<void> {
  const port = Number(flag('--port') ?? process.env.PORT ?? 5000);
  const host = flag('--host') ?? process.env.HOST ?? '127.0.0.1';
  const app = await NestFactory.create(AppModule);
  app.useGlobalPipes(new ValidationPipe());
  app.enableShutdownHooks(['SIGINT', 'SIGTERM']);
  await app.listen(port, host);
  const address = (app.getHttpServer() as Server).address() as AddressInfo;
  const logger = new Logger('Demo');
  logger.log(`chat page http://${host}:${address.port}/`);
  logger.log(`invoices page http://${host}:${address.port}/invoices`);
  logger.log(`listening wamp ws://${host}:${address.port}${DEMO_WAMP_PATH}`);
}

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
