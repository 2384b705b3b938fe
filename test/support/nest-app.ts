import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { RouterService } from '@fox-wamp/nestjs';

/** The port Nest's HTTP server listens on, after `app.listen(0, '127.0.0.1')`. */
export function httpPortOf(app: INestApplication): number {
  return ((app.getHttpServer() as Server).address() as AddressInfo).port;
}

/** The app's first WAMP URL, as `RouterService` reports it (fails clearly while nothing listens). */
export function wampUrlOf(app: { get: INestApplication['get'] }): string {
  const url = app.get(RouterService).wampUrl();
  if (url === undefined) throw new Error('the app has no listening WAMP endpoint');
  return url;
}

/**
 * Resolves once `condition()` holds, checking every 5 ms; fails after `timeoutMs` naming `what`. For state
 * that has no event to await (e.g. "shutdown has begun" inside `app.close()`).
 */
export async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
