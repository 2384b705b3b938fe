import { Module } from '@nestjs/common';
import { ConfigurableModuleClass } from './fox-wamp.module-definition.js';
import { RealmService } from './services/realm.service.js';
import { RouterService } from './services/router.service.js';

/**
 * The fox-wamp router inside a Nest application: `FoxWampModule.forRoot(options)` or `forRootAsync(...)`.
 * Global by default (`isGlobal: false` to scope it).
 */
@Module({
  providers: [RouterService, RealmService],
  exports: [RouterService, RealmService],
})
export class FoxWampModule extends ConfigurableModuleClass {}
