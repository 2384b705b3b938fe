// Public API of @fox-wamp/nestjs/microservices: the @nestjs/microservices bridge (needs that package).
export { FoxWampStrategy, FOX_WAMP_TRANSPORT, type FoxWampStrategyOptions } from './fox-wamp.strategy.js';
export { FoxWampClient, type FoxWampClientOptions } from './fox-wamp.client.js';
export { FoxWampContext } from './fox-wamp.context.js';
export type { RealmSource } from './realm-source.js';
export { valueOf, toWampResult } from './wamp-payload.js';
