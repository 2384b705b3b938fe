// Public API of @fox-wamp/nestjs/terminus: the router's @nestjs/terminus health indicator (needs that package).
export { FoxWampHealthIndicator } from './fox-wamp-health.indicator.js';
export { FoxWampHealthModule } from './fox-wamp-health.module.js';
