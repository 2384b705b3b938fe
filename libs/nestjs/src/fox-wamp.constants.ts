/** The context type guards, interceptors and filters see for WAMP handlers (`host.getType()`). */
export const WAMP_CONTEXT_TYPE = 'wamp';

/** Metadata keys of the method and parameter decorators. */
export const WAMP_PROCEDURE_METADATA = 'fox-wamp:procedure';
export const WAMP_SUBSCRIBE_METADATA = 'fox-wamp:subscribe';
export const WAMP_PARAMS_METADATA = 'fox-wamp:params';

/** Defaults the module applies when an option is absent. */
export const DEFAULT_REALM = 'realm1';
export const DEFAULT_WAMP_PATH = '/ws';

/** Where MQTT over WebSocket is served on Nest's HTTP server unless the options say otherwise. */
export const DEFAULT_MQTT_WS_PATH = '/mqtt';
export const DEFAULT_GOODBYE_TIMEOUT_MS = 2_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** The injection token of the router's retained store (`StoreProvider`: memory, sqlite, ...). */
export const FOX_WAMP_STORE = 'FoxWampStore';

/** The injection token of the `RealmService` for the realm `name` (what `@InjectRealm(name)` injects). */
export function getRealmToken(name: string): string {
  return `FoxWampRealm:${name}`;
}
