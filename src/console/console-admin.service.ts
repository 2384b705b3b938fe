import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { RouterService } from '@fox-wamp/nestjs';
import { ConsoleAdmin } from './admin-api.js';
import { isConsoleUser } from './console-access.js';
import { CONSOLE_SETTINGS, type ConsoleSettings } from './console-settings.js';

/** Serves the console's `fox.admin.*` procedures and events in the console realm for the app's lifetime. */
@Injectable()
export class ConsoleAdminService implements OnModuleInit, OnApplicationShutdown {
  private admin: ConsoleAdmin | undefined;

  constructor(
    private readonly routerService: RouterService,
    @Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings,
  ) {}

  onModuleInit(): void {
    this.admin = new ConsoleAdmin({
      router: this.routerService.router,
      realm: this.routerService.realm(this.settings.realm),
      isConsoleUser: (session) => isConsoleUser(session, this.settings),
      prometheus: this.routerService.prometheus,
    });
  }

  onApplicationShutdown(): void {
    this.admin?.close();
  }
}
