import { Controller, Get, Injectable, Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { afterEach } from 'vitest';
import { Args, FoxWampModule, WampProcedure, type FoxWampModuleOptions } from '@fox-wamp/nestjs';
import type { AutobahnClient } from './autobahn-client.js';

// A small Nest app for the listener tests (WebSocket and RawSocket): an echo procedure and an HTTP
// controller, so a test can show WAMP and plain HTTP sharing a port.

@Injectable()
class EchoService {
  @WampProcedure('service.echo')
  echo(@Args(0) value: unknown): unknown {
    return value;
  }
}

@Controller()
class HelloController {
  @Get('hello')
  hello(): string {
    return 'Hello World!';
  }
}

@Module({})
export class ListenerAppModule {
  static with(options: FoxWampModuleOptions): DynamicModule {
    return { module: ListenerAppModule, imports: [FoxWampModule.forRoot(options)], providers: [EchoService], controllers: [HelloController] };
  }
}

/** Apps and clients a test file opened; closed after each test (clients first). Call once per file. */
export function closedAfterEach(): { apps: INestApplicationContext[]; clients: AutobahnClient[] } {
  const apps: INestApplicationContext[] = [];
  const clients: AutobahnClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  return { apps, clients };
}
