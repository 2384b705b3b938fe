// Public API of @fox-wamp/nestjs.
export { FoxWampModule } from './fox-wamp.module.js';
export { FOX_WAMP_OPTIONS, OPTIONS_TYPE as FOX_WAMP_OPTIONS_TYPE, ASYNC_OPTIONS_TYPE as FOX_WAMP_ASYNC_OPTIONS_TYPE } from './fox-wamp.module-definition.js';
export type { FoxWampModuleOptions, WampListenerOptions } from './interfaces/fox-wamp-options.interface.js';
export { RouterService } from './services/router.service.js';
export { RealmService } from './services/realm.service.js';
export { nestRouterLogger } from './nest-router-logger.js';
