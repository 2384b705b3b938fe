// Public API of @fox-wamp/nestjs. The @nestjs/microservices bridge is `@fox-wamp/nestjs/microservices`.
export { FoxWampModule, type FoxWampModuleAsyncOptions } from './fox-wamp.module.js';
export {
  FOX_WAMP_OPTIONS,
  OPTIONS_TYPE as FOX_WAMP_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE as FOX_WAMP_ASYNC_OPTIONS_TYPE,
} from './fox-wamp.module-definition.js';
export { WAMP_CONTEXT_TYPE, FOX_WAMP_STORE, getRealmToken } from './fox-wamp.constants.js';
export type {
  FoxWampModuleOptions,
  MqttListenerOptions,
  RawSocketListenerOptions,
  WampListenerOptions,
  WampTlsOptions,
} from './interfaces/fox-wamp-options.interface.js';
export type { WampProcedureOptions, WampSubscribeOptions } from './interfaces/wamp-handler-options.interface.js';

export {
  RouterService,
  type FoxWampReadiness,
  type ListenerReadiness,
  type MqttListenerInfo,
  type RawSocketListenerInfo,
  type WampListenerInfo,
} from './services/router.service.js';
export { RealmService } from './services/realm.service.js';
export { nestRouterLogger } from './nest-router-logger.js';

export { WampProcedure } from './decorators/wamp-procedure.decorator.js';
export { WampSubscribe } from './decorators/wamp-subscribe.decorator.js';
export { Args, Kwargs, Details, WampUri, WampCtx } from './decorators/wamp-params.decorator.js';
export { InjectRealm } from './decorators/inject-realm.decorator.js';

export { WampContext, type WampMessageKind } from './context/wamp-context.js';
export { WampException } from './exceptions/wamp.exception.js';
export { toWampError, INTERNAL_ERROR_MESSAGE } from './exceptions/to-wamp-error.js';
export { isWampContext } from './utils/is-wamp-context.js';
export { getWampContext } from './utils/get-wamp-context.js';

// Engine types a handler needs most, so that an app can import them from one place.
export {
  WampResult,
  RouterError,
  ErrorUri,
  type CallResult,
  type LocalEvent,
  type RouterLogger,
  type RouterMetrics,
  PrometheusMetrics,
  type RetainedEntry,
  type StoreProvider,
  type AuthOptions,
  type AuthenticateHook,
  type AuthRequest,
  type Identity,
  type IdentityWithSecret,
  type IdentityWithPubkeys,
  type AuthorizeHook,
  type AuthorizeRequest,
  type AuthorizeAction,
} from '@fox-wamp/core';
