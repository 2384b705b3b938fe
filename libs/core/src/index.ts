// Public API of @fox-wamp/core.
export { Router, type RouterOptions } from './router/router.js';
export {
  RouterAuth,
  AUTH_METHODS,
  DEFAULT_AUTH_TIMEOUT_MS,
  MAX_WAITING_AUTHORIZATIONS,
  type AuthOptions,
} from './auth/router-auth.js';
export type { AuthRequest, AuthenticateHook, ConnectionInfo, Identity, IdentityWithSecret } from './auth/authenticate-hook.js';
export type { AuthHello, AuthResponse, AuthStep, Authenticator } from './auth/authenticator.js';
export type { AuthorizeAction, AuthorizeDecision, AuthorizeHook, AuthorizeRequest } from './auth/authorize-hook.js';
export { AnonymousAuthenticator } from './auth/anonymous-authenticator.js';
export { TicketAuthenticator } from './auth/ticket-authenticator.js';
export {
  WampCraAuthenticator,
  craSign,
  craDeriveKey,
  CRA_DEFAULT_ITERATIONS,
  CRA_DEFAULT_KEYLEN,
} from './auth/wampcra-authenticator.js';
export { CryptosignAuthenticator, ed25519PublicKey, type IdentityWithPubkeys } from './auth/cryptosign-authenticator.js';
export { ScramAuthenticator, SCRAM_METHOD, type IdentityWithScram } from './auth/scram-authenticator.js';
export {
  scramCredential,
  deriveScramCredential,
  normalizePassword,
  SCRAM_KDFS,
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_ARGON2_DEFAULT_ITERATIONS,
  SCRAM_ARGON2_DEFAULT_MEMORY,
  type ScramCredential,
  type ScramCredentialOptions,
  type Pbkdf2ScramCredential,
  type Argon2ScramCredential,
  type ScramKdf,
} from './auth/scram-credential.js';
export {
  RolePermissions,
  checkRealmRoles,
  type Permission,
  type RealmRoles,
  type RolePermissionsOfRealm,
} from './auth/role-permissions.js';
export { patternCovers } from './auth/pattern-coverage.js';
export {
  AuthorizationCache,
  DEFAULT_AUTHORIZATION_CACHE,
  type AuthorizationCacheOptions,
  type AuthorizationFilter,
} from './auth/authorization-cache.js';
export {
  staticUsersHook,
  staticUsersAuth,
  checkStaticUsers,
  type StaticUser,
  type StaticUsersOptions,
} from './auth/static-users.js';
export { AuthorizationGate, type GateHandlers, type GateOptions, type Permit } from './auth/authorization-gate.js';
export { Realm, type RealmOptions, type SessionListener } from './router/realm.js';
export { Session, type SessionInfo, type SessionPeer, type SessionProtocol } from './router/session.js';
// The router's own session in a realm: servers add procedures (reserved URIs) and events of their own with it.
export { MetaService, type MetaProcedure } from './meta/meta-service.js';
export { Broker } from './router/broker.js';
export { Dealer, type InvocationAnswer, type DealerLimits } from './router/dealer.js';
export { Subscription } from './router/subscription.js';
export { Registration, Callee } from './router/registration.js';
export { Call, type CallSink, type CallState } from './router/call.js';
export type { EventDelivery, InvocationDelivery } from './router/deliveries.js';
export { ErrorUri, RouterError } from './router/errors.js';
export { randomId, SequentialIds, isWampId, MAX_ID } from './router/ids.js';
export type { RouterLogger } from './router/logger.js';
export { SILENT_LOGGER } from './router/logger.js';
export {
  INVOKE_POLICIES,
  isInvokePolicy,
  type InvokePolicy,
  type SubscribeOptions,
  type PublishOptions,
  type RegisterOptions,
  type CallOptions,
  type YieldOptions,
} from './router/options.js';
export {
  EMPTY_PAYLOAD,
  hasKwargs,
  plainPayload,
  type MessageProperties,
  type Payload,
  type PayloadPassthru,
  type TraceContext,
} from './router/payload.js';
export { withForwardedDetails, WAMP_TRACEPARENT, WAMP_TRACESTATE } from './router/forwarded-details.js';
export { levelsOfKey, mqttTopicOf, topicKey, topicKeyOfUri, wampUriOf, type TopicLevels } from './router/topic.js';
export { TopicIndex } from './router/topic-index.js';
export {
  parseWampPattern,
  comparePrecedence,
  isConcrete,
  isMatchPolicy,
  uriUseFor,
  type MatchPolicy,
  type TopicPattern,
  type PatternLevel,
} from './router/topic-pattern.js';
export { isValidUri, type UriCheck, type UriUse } from './router/uri.js';

export {
  LocalClient,
  WampResult,
  toPayload,
  toRouterError,
  type LocalEvent,
  type LocalInvocation,
  type CallResult,
  type EventHandler,
  type ProcedureHandler,
  type LocalCallOptions,
  type LocalPublishOptions,
  type LocalSubscription,
  type LocalRegistration,
} from './client/local-client.js';

export { MessageCode, messageName, type WampMessage } from './wamp/message-codes.js';
export { SerializationError, type WampSerializer, type SerializerName } from './wamp/serializer.js';
export * from './wamp/serializers/index.js';
export { ROUTER_ROLES, ROUTER_AGENT } from './wamp/features.js';
export { WampConnection, type WampConnectionOptions } from './wamp/wamp-connection.js';
export type { WampTransport } from './wamp/wamp-transport.js';

export { HttpUpgradeRouter, rejectUpgrade, type UpgradeHandler } from './transport/http-upgrade-router.js';
export { WriteCorker } from './transport/write-corker.js';
export {
  WampWebSocketListener,
  WAMP_WEBSOCKET_DEFAULTS,
  type WampWebSocketOptions,
} from './transport/websocket-wamp-listener.js';
export {
  WampRawSocketAcceptor,
  WAMP_RAWSOCKET_DEFAULTS,
  type WampRawSocketOptions,
} from './transport/rawsocket/rawsocket-acceptor.js';
export { WampRawSocketListener, type WampRawSocketListenOptions } from './transport/rawsocket/rawsocket-listener.js';
export { shareHttpPortWithRawSocket } from './transport/rawsocket/http-port-sniffer.js';

export {
  DEFAULT_HISTORY_RETENTION,
  type RealmStore,
  type StoreProvider,
  type RetainedEntry,
  type RetainedWrite,
  type WriteResult,
  type WriteCondition,
  type HistoryEvent,
  type HistoryRetention,
} from './retained/realm-store.js';
export { MemoryRealmStore, MemoryStoreProvider } from './retained/memory-realm-store.js';
export { EventRing } from './retained/event-ring.js';
export { SqliteStoreProvider } from './retained/sqlite-store-provider.js';
export { openStore } from './retained/open-store.js';
export {
  valueOf,
  isDeletion,
  parseWhen,
  conditionHolds,
  compileFilter,
  type WhenCondition,
  type ValueFilter,
} from './retained/retained-value.js';
export { TopicTree } from './retained/topic-tree.js';
export { patternMatches } from './router/topic-pattern.js';
export type { Publication } from './router/broker.js';
export type { SubscriptionFilter, SubscriptionSpec } from './router/subscription.js';

// Aggregate engine: materialized views over `type: object` tables declared in an information schema.
export { AggregateEngine, type RowChange } from './aggregate/aggregate-engine.js';
export {
  InformationSchema,
  parseInformationSchema,
  type InformationSchemaJson,
  type ObjectTableJson,
  type AggregateTableJson,
  type PropagateJson,
  type PropagateRuleJson,
} from './aggregate/information-schema.js';
export {
  ROW_COUNT,
  type TableDefinition,
  type ObjectTableDefinition,
  type AggregateTableDefinition,
  type AggregateFieldDefinition,
  type PropagateRule,
  type FieldMapping,
  type AggregateFieldMapping,
} from './aggregate/table-definitions.js';
export { AGGREGATE_FUNCTIONS, type AggregateFunctionName, type FieldState, type OrderedValue } from './aggregate/aggregate-functions.js';
export type { AggregateState } from './aggregate/aggregate-state.js';
export { RowValidator, type RowProblem } from './aggregate/row-validator.js';
export { keyLevelsOf, topicLevelProblem, type KeyLevels, type KeyValue, type Row } from './aggregate/row-key.js';
export type { RowStore, StoredRow } from './aggregate/row-store.js';
export { MemoryRowStore, type RowStoreEntry } from './aggregate/memory-row-store.js';

// Reducers and the aggregate engine on a realm's topics.
export { Reducers, REDUCER_ERROR_TOPIC, MAX_WAITING_EVENTS_PER_TOPIC } from './reduce/reducers.js';
export { RealmTables, SCHEMA_DEFINE_PROCEDURE, SCHEMA_GET_PROCEDURE, type RealmTablesSettings } from './reduce/realm-tables.js';
export { RetainedRowStore } from './reduce/retained-row-store.js';
export { HIDDEN_LEVEL } from './reduce/hidden-topics.js';

// MQTT gate and its listeners.
export { MqttGate, MQTT_DEFAULTS, type MqttOptions } from './mqtt/mqtt-gate.js';
export { MqttConnection } from './mqtt/mqtt-connection.js';
export { MqttSession } from './mqtt/mqtt-session.js';
export { MqttPayload, mqttBytesOf } from './mqtt/mqtt-payload.js';
export { encodePublish, type OutgoingPublish, type PublishProperties } from './mqtt/publish-encoder.js';
export { decodeHotPacket } from './mqtt/fast-decoder.js';
export { PacketFramer } from './mqtt/packet-framer.js';
export { recordUserPropertyOrder, userPropertiesOf, type UserProperty } from './mqtt/user-property-order.js';
export { parseTopicFilter, parseTopicName } from './mqtt/mqtt-topics.js';
export { TcpMqttTransport, WebSocketMqttTransport, type MqttTransport } from './mqtt/mqtt-transport.js';
export { Reason as MqttReason } from './mqtt/reason-codes.js';
export { MqttTcpListener, type MqttTcpListenOptions } from './transport/mqtt-tcp-listener.js';
export { MqttWebSocketListener } from './transport/mqtt-websocket-listener.js';

// The Redis store (`--store redis://host:port[/db]`): retained state, wills, history and event IDs shared by router processes.
export { connectStore, isRedisStore, type OpenStoreOptions } from './retained/open-store.js';
export { RedisStoreProvider, type RedisStoreOptions } from './retained/redis-store-provider.js';
export {
  StoreUnavailableError,
  parseRedisUrl,
  DEFAULT_KEY_PREFIX as REDIS_DEFAULT_KEY_PREFIX,
  type RedisLocation,
  type HealthListener,
} from './retained/redis-connection.js';

// Scale-out: several router processes on one Redis behave as one router (`--store redis://…` on the server).
export type {
  Backplane,
  RealmBackplane,
  RealmBackplaneListener,
  BackplaneWrite,
  BackplaneWriteOutcome,
  ClusterEvent,
  ClusterSessionInfo,
  DeliveryRules,
  NodeMessage,
  RemoteCallee,
} from './cluster/backplane.js';
export { RedisBackplane, type RedisBackplaneOptions } from './cluster/redis-backplane.js';
export { MemoryBackplane, MemoryCluster } from './cluster/memory-backplane.js';
export { RegistrationConflict } from './cluster/backplane.js';

// Observability: metrics hooks (off by default), their Prometheus implementation, and log context.
export {
  NO_METRICS,
  NO_REALM_METRICS,
  type RouterMetrics,
  type RealmMetrics,
  type MeteredProtocol,
  type OverflowAction,
} from './observability/router-metrics.js';
export { TrafficCounters, type Tally, type Direction as TrafficDirection } from './observability/traffic-counters.js';
export { PrometheusMetrics, type PrometheusMetricsOptions } from './observability/prometheus-metrics.js';
export { MeasuredRealmStore, type StoreOperationObserver } from './observability/measured-realm-store.js';
export { withLogContext, sessionLogFields } from './observability/log-context.js';
export { frameBytes, mqttPacketSize, mqttPacketType } from './observability/wire-size.js';
export {
  RouterSpan,
  routerTracer,
  parseTraceparent,
  traceContextOf,
  traceContextOfSpan,
  traceFromUserProperties,
  traceUserProperties,
  TRACEPARENT,
  TRACESTATE,
} from './observability/tracing.js';
export type { SendQueueDepth } from './router/session.js';
