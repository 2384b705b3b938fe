import { Module, type DynamicModule } from '@nestjs/common';
import { ConsoleAdminService } from './console-admin.service.js';
import { ConsoleController } from './console.controller.js';
import { CONSOLE_SETTINGS, type ConsoleSettings } from './console-settings.js';

/**
 * The admin console: the page at `/console` and the server side it talks to. Imported by the server only
 * when a console user is configured (the router must then have the console realm, guarded by
 * `withConsoleRealmGuard`); without it `/console` does not exist.
 */
@Module({})
export class ConsoleModule {
  static forSettings(settings: ConsoleSettings): DynamicModule {
    return {
      module: ConsoleModule,
      providers: [{ provide: CONSOLE_SETTINGS, useValue: settings }, ConsoleAdminService],
      controllers: [ConsoleController],
    };
  }
}
