import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DEFAULT_REALM, FOX_WAMP_STORE, getRealmToken } from './fox-wamp.constants.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, OPTIONS_TYPE } from './fox-wamp.module-definition.js';
import { WampContextCreator } from './context/wamp-context-creator.js';
import { WampHandlerExplorer } from './explorer/wamp-handler.explorer.js';
import { RealmService } from './services/realm.service.js';
import { RouterService } from './services/router.service.js';

/** `forRootAsync` options: the usual `imports`/`inject`/`useFactory`/`useClass`, plus the realms to inject. */
export type FoxWampModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE & {
  /**
   * Realms to provide for `@InjectRealm(name)`. Their names must be known before the options factory runs;
   * each is created at startup if the factory's options do not list it.
   */
  readonly realms?: readonly string[];
};

/**
 * The fox-wamp router inside a Nest application: `FoxWampModule.forRoot(options)` or `forRootAsync(...)`.
 * Global by default (`isGlobal: false` to scope it). Provides `RouterService`, `RealmService` (the default
 * realm), one `RealmService` per named realm for `@InjectRealm(name)` and the retained store
 * (`FOX_WAMP_STORE`); serves `@WampProcedure` and
 * `@WampSubscribe` methods of every provider and controller.
 */
/** The router's retained store, injectable with `@Inject(FOX_WAMP_STORE)`. */
const storeProvider: Provider = {
  provide: FOX_WAMP_STORE,
  useFactory: (routerService: RouterService) => routerService.router.store,
  inject: [RouterService],
};

@Module({
  imports: [DiscoveryModule],
  providers: [RouterService, RealmService, storeProvider, WampContextCreator, WampHandlerExplorer],
  exports: [RouterService, RealmService, FOX_WAMP_STORE],
})
export class FoxWampModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    const names = [options.defaultRealm ?? options.realms?.[0] ?? DEFAULT_REALM, ...(options.realms ?? [])];
    return withRealmProviders(super.forRoot(options), names);
  }

  static override forRootAsync(options: FoxWampModuleAsyncOptions): DynamicModule {
    const { realms = [], ...asyncOptions } = options;
    return withRealmProviders(super.forRootAsync(asyncOptions), realms);
  }
}

/** Adds a `RealmService` provider per realm name (the default realm's is `RealmService` itself). */
function withRealmProviders(module: DynamicModule, names: readonly string[]): DynamicModule {
  const providers: Provider[] = [...new Set(names)].map((name) => ({
    provide: getRealmToken(name),
    useFactory: (routerService: RouterService, defaultRealmService: RealmService) => {
      if (name === routerService.defaultRealmName) return defaultRealmService;
      routerService.router.addRealm(name);
      return new RealmService(routerService, name);
    },
    inject: [RouterService, RealmService],
  }));
  return {
    ...module,
    providers: [...(module.providers ?? []), ...providers],
    exports: [...(module.exports ?? []), ...providers.map((provider) => (provider as { provide: string }).provide)],
  };
}
