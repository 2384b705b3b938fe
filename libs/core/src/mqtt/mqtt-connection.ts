import mqttPacket from 'mqtt-packet';
import type {
  IConnectPacket,
  IDisconnectPacket,
  IPublishPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  Packet,
} from 'mqtt-packet';
import { AuthorizationGate } from '../auth/authorization-gate.js';
import type { AuthorizeRequest } from '../auth/authorize-hook.js';
import { MAX_WAITING_AUTHORIZATIONS } from '../auth/router-auth.js';
import { sessionLogFields, withLogContext } from '../observability/log-context.js';
import type { RouterMetrics } from '../observability/router-metrics.js';
import { traceFromUserProperties, traceUserProperties, TRACEPARENT } from '../observability/tracing.js';
import { mqttPacketSize, mqttPacketType } from '../observability/wire-size.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { RouterLogger } from '../router/logger.js';
import type { PublishOptions } from '../router/options.js';
import type { MessageProperties } from '../router/payload.js';
import { wampUriOf, type TopicLevels } from '../router/topic.js';
import { authenticateMqttClient, type MqttAdmission, type MqttCredentials } from './mqtt-authentication.js';
import type { MqttGate } from './mqtt-gate.js';
import { MqttPayload, mqttBytesOf } from './mqtt-payload.js';
import { encodePublish, type PublishProperties } from './publish-encoder.js';
import { decodeHotPacket } from './fast-decoder.js';
import { PacketFramer } from './packet-framer.js';
import { answerRequestWithCall } from './mqtt-request-call.js';
import type { MigratedSession, MqttSession, OutgoingMessage, QoS, SessionLink } from './mqtt-session.js';
import { topicNameOf } from './mqtt-session.js';
import { isWellFormedString, parseTopicFilter, parseTopicName, type ParsedFilter } from './mqtt-topics.js';
import type { MqttTransport } from './mqtt-transport.js';
import { connectReturnCodeFor, MqttProtocolError, Reason } from './reason-codes.js';
import { recordUserPropertyOrder, userPropertiesOf } from './user-property-order.js';

type ProtocolVersion = 3 | 4 | 5;

/** A will message as CONNECT gave it, ready to publish (MQTT 3.1.2.5). */
export interface WillMessage {
  readonly levels: TopicLevels;
  readonly payload: MqttPayload;
  readonly retain: boolean;
  /** Seconds to wait after the connection is lost (MQTT 5 Will Delay Interval). */
  readonly delaySeconds: number;
}

/** A request of the client that the authorization gate orders and decides. */
type GatedRequest =
  | { readonly kind: 'publish'; readonly packet: IPublishPacket; readonly levels: TopicLevels }
  | { readonly kind: 'subscribe'; readonly round: SubscribeRound; readonly index: number };

/** One SUBSCRIBE whose filters are being decided; the SUBACK goes out when the last one is. */
interface SubscribeRound {
  readonly packet: ISubscribePacket;
  readonly parsed: (ParsedFilter | undefined)[];
  /** Per filter: the SUBACK code, once decided. */
  readonly codes: number[];
  remaining: number;
}

type State =
  | { readonly phase: 'awaiting-connect' }
  | { readonly phase: 'authenticating'; readonly backlog: Packet[] }
  | { readonly phase: 'connected'; readonly session: MqttSession; readonly gate: AuthorizationGate<GatedRequest> | undefined }
  | { readonly phase: 'closed' };

/**
 * One network connection of an MQTT client: CONNECT and authentication, the packets of the protocol, keep
 * alive, topic aliases (both ways), and the will. The session state that outlives the connection lives in
 * `MqttSession`; this object encodes what the session sends, in the protocol version the client connected with.
 */
export class MqttConnection implements SessionLink {
  private state: State = { phase: 'awaiting-connect' };
  private readonly parser = mqttPacket.parser({});
  private readonly framer: PacketFramer;
  private version: ProtocolVersion = 4;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private keepAliveMs = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  /** Client → server aliases (MQTT 5 3.3.2.3.4). */
  private readonly inboundAliases = new Map<number, string>();
  /** Server → client aliases: topic name → alias, up to the client's Topic Alias Maximum. */
  private readonly outboundAliases = new Map<string, number>();
  private clientTopicAliasMaximum = 0;
  private clientMaximumPacketSize = Number.POSITIVE_INFINITY;
  receiveMaximum = 65535;
  /** QoS 1/2 PUBLISHes of the client not yet acknowledged by us (our Receive Maximum bounds them). */
  private inboundInFlight = 0;
  /** The socket is not read while too many of the client's QoS 1/2 PUBLISHes wait for their acknowledgement. */
  private readingPaused = false;
  private will: WillMessage | undefined;
  /** Whether the client ended with a DISCONNECT that discards the will. */
  private discardWill = false;
  /** Logs with this connection's session (or, before it, its peer) in every line. */
  private readonly logger: RouterLogger;
  private readonly metrics: RouterMetrics;

  constructor(
    private readonly gate: MqttGate,
    readonly transport: MqttTransport,
  ) {
    this.logger = withLogContext(gate.logger, () => this.logContext());
    this.metrics = gate.router.metrics;
    this.framer = new PacketFramer(gate.settings.maxPacketSize);
    recordUserPropertyOrder(this.parser);
    this.parser.on('packet', (packet: Packet) => this.onPacket(packet));
    this.parser.on('error', (error: Error) => this.onParseError(error));
    transport.onData((bytes) => this.onData(bytes));
    transport.onClose(() => this.connectionLost());
    this.connectTimer = setTimeout(() => this.destroy('no CONNECT in time'), gate.settings.connectTimeoutMs);
    this.connectTimer.unref();
  }

  get protocolVersion(): ProtocolVersion {
    return this.version;
  }

  get isConnected(): boolean {
    return this.state.phase === 'connected';
  }

  // --- input ---

  private onData(bytes: Buffer): void {
    if (this.state.phase === 'closed') return;
    // The first packet must be CONNECT (MQTT-3.1.0-1): anything else is not MQTT, so don't even parse it.
    if (this.state.phase === 'awaiting-connect' && this.framer.atPacketStart && bytes.length > 0 && bytes[0]! >> 4 !== 1) {
      this.destroy('the first packet is not CONNECT');
      return;
    }
    try {
      this.framer.push(bytes, (packet) => {
        // The packets of an established session's hot path are decoded here; the rest by the codec.
        const hot = this.state.phase === 'connected' ? decodeHotPacket(packet, this.version) : undefined;
        if (hot !== undefined) this.onPacket(hot);
        else this.parser.parse(packet);
        return !this.isClosed();
      });
    } catch (error) {
      // A packet announcing more than we accept is refused from its header, before its body is buffered.
      this.fail(error);
    }
  }

  private isClosed(): boolean {
    return this.state.phase === 'closed';
  }

  private onParseError(error: Error): void {
    if (this.state.phase === 'closed') return;
    if (this.state.phase === 'awaiting-connect' && /protocol version/i.test(error.message)) {
      // MQTT-3.1.2-2: answer an unsupported level with CONNACK 0x01 (3.1.1 framing: we cannot know the client's).
      this.writePacket({ cmd: 'connack', returnCode: 1, sessionPresent: false }, 4);
      this.closeTransport();
      return;
    }
    this.fail(new MqttProtocolError(Reason.malformedPacket, error.message));
  }

  private onPacket(packet: Packet): void {
    const state = this.state;
    if (state.phase === 'closed') return;
    if (this.metrics.enabled) this.metrics.received('mqtt', packet.cmd, mqttPacketSize(packet.length ?? 0));
    this.touchKeepAlive();
    try {
      if (state.phase === 'awaiting-connect') {
        if (packet.cmd !== 'connect') throw new MqttProtocolError(Reason.protocolError, 'the first packet must be CONNECT');
        this.onConnect(packet);
        return;
      }
      if (packet.cmd === 'connect') throw new MqttProtocolError(Reason.protocolError, 'a second CONNECT (MQTT-3.1.0-2)');
      if (state.phase === 'authenticating') {
        state.backlog.push(packet);
        return;
      }
      this.dispatch(state.session, state.gate, packet);
    } catch (error) {
      this.fail(error);
    }
  }

  private dispatch(session: MqttSession, gate: AuthorizationGate<GatedRequest> | undefined, packet: Packet): void {
    switch (packet.cmd) {
      case 'publish':
        return this.onPublish(session, gate, packet);
      case 'puback':
      case 'pubcomp':
        session.acknowledged(packet.messageId ?? 0);
        return;
      case 'pubrec':
        if (!session.received(packet.messageId ?? 0, (packet.reasonCode ?? 0) >= 0x80) && this.version === 5) {
          this.writePacket({ cmd: 'pubrel', messageId: packet.messageId ?? 0, reasonCode: Reason.packetIdentifierNotFound });
        }
        return;
      case 'pubrel': {
        const id = packet.messageId ?? 0;
        const known = session.receivedQos2.delete(id);
        if (known) this.inboundDone();
        this.writePacket({ cmd: 'pubcomp', messageId: id, ...(known || this.version !== 5 ? {} : { reasonCode: Reason.packetIdentifierNotFound }) });
        return;
      }
      case 'subscribe':
        return this.onSubscribe(session, gate, packet);
      case 'unsubscribe':
        return this.onUnsubscribe(session, packet);
      case 'pingreq':
        this.writePacket({ cmd: 'pingresp' });
        return;
      case 'disconnect':
        return this.onDisconnect(session, packet);
      case 'auth':
        throw new MqttProtocolError(Reason.protocolError, 'AUTH without an authentication method');
      default:
        throw new MqttProtocolError(Reason.protocolError, `a client does not send ${packet.cmd}`);
    }
  }

  // --- CONNECT ---

  private onConnect(packet: IConnectPacket): void {
    clearTimeout(this.connectTimer);
    this.version = (packet.protocolVersion ?? 4) as ProtocolVersion;
    const properties = packet.properties ?? {};
    const settings = this.gate.settings;
    const clean = packet.clean !== false;
    let clientId = packet.clientId ?? '';
    if (!isWellFormedString(clientId)) throw new MqttProtocolError(Reason.malformedPacket, 'the client identifier is not well-formed UTF-8');
    let assigned = false;
    if (clientId.length === 0) {
      // 3.1.1 allows an empty ID only with a clean session (MQTT-3.1.3-7/8); 3.1 not at all.
      if (this.version === 3 || (this.version === 4 && !clean)) return this.refuseConnect(Reason.clientIdentifierNotValid, 'an empty client identifier needs a clean session');
      clientId = this.gate.assignClientId();
      assigned = true;
    }
    if (properties.authenticationMethod !== undefined) {
      return this.refuseConnect(Reason.badAuthenticationMethod, `authentication method ${properties.authenticationMethod} is not supported`);
    }
    let keepAlive = packet.keepalive ?? 0;
    let serverKeepAlive: number | undefined;
    if (keepAlive > settings.maxKeepAlive || (keepAlive === 0 && settings.maxKeepAlive < 65535)) {
      // MQTT 5 lets the server set the keep alive (Server Keep Alive); 3.1.1 has no way, so refuse, as Mosquitto does.
      if (this.version !== 5) return this.refuseConnect(Reason.clientIdentifierNotValid, `keep alive ${keepAlive} s is over the limit of ${settings.maxKeepAlive} s`);
      keepAlive = settings.maxKeepAlive;
      serverKeepAlive = keepAlive;
    }
    if (packet.will !== undefined) this.will = this.willOf(packet);
    if (this.version === 5) {
      this.receiveMaximum = properties.receiveMaximum ?? 65535;
      if (this.receiveMaximum === 0) throw new MqttProtocolError(Reason.protocolError, 'Receive Maximum 0');
      this.clientMaximumPacketSize = properties.maximumPacketSize ?? Number.POSITIVE_INFINITY;
      this.clientTopicAliasMaximum = properties.topicAliasMaximum ?? 0;
    } else {
      this.receiveMaximum = settings.inflightWindow;
    }
    const expirySeconds = this.version === 5 ? (properties.sessionExpiryInterval ?? 0) : clean ? 0 : 0xffffffff;
    this.keepAliveMs = keepAlive * 1000;
    const credentials: MqttCredentials = {
      username: packet.username,
      password: packet.password === undefined ? undefined : packet.password.toString('utf8'),
      transport: this.transport.kind,
      remoteAddress: this.transport.remoteAddress,
    };
    const state: State = { phase: 'authenticating', backlog: [] };
    this.state = state;
    // Once admitted (and, in a cluster, once a session held by another router process was handed over).
    const proceed = (admitted: Exclude<MqttAdmission, { refusal: unknown }>, migrated: MigratedSession | undefined): void => {
      const { session, present } = this.gate.attach(this, admitted.realm, clientId, clean, expirySeconds, admitted.identity, migrated);
      const gate = this.authorizationGateFor(session);
      this.state = { phase: 'connected', session, gate };
      this.writePacket({
        cmd: 'connack',
        sessionPresent: present,
        ...(this.version === 5
          ? {
              reasonCode: Reason.success,
              properties: {
                receiveMaximum: settings.receiveMaximum,
                topicAliasMaximum: settings.topicAliasMaximum,
                maximumPacketSize: settings.maxPacketSize,
                retainAvailable: true,
                wildcardSubscriptionAvailable: true,
                subscriptionIdentifiersAvailable: true,
                sharedSubscriptionAvailable: true,
                ...(assigned ? { assignedClientIdentifier: clientId } : {}),
                ...(serverKeepAlive !== undefined ? { serverKeepAlive } : {}),
              },
            }
          : { returnCode: 0 }),
      });
      this.touchKeepAlive();
      session.resume(this);
      for (const backlogged of state.backlog) {
        if (this.state.phase !== 'connected') break;
        try {
          this.dispatch(session, gate, backlogged);
        } catch (error) {
          this.fail(error);
        }
      }
    };
    authenticateMqttClient(this.gate.router, this.gate.settings.defaultRealm, credentials).then(
      (admitted) => {
        if (this.state !== state) return;
        if ('refusal' in admitted) return this.refuseConnect(admitted.refusal, admitted.message);
        // A cluster node cut off from its engine takes no sessions (they would see only this process).
        if (this.gate.router.cluster?.healthy === false) return this.refuseConnect(Reason.serverUnavailable, 'the cluster engine is unavailable');
        const migrating = clean ? undefined : this.gate.claimElsewhere(admitted.realm, clientId, admitted.identity.authid);
        if (migrating === undefined) return proceed(admitted, undefined);
        migrating.then(
          (migrated) => {
            if (this.state === state) proceed(admitted, migrated);
          },
          () => {
            if (this.state === state) proceed(admitted, undefined);
          },
        );
      },
      (error: unknown) => {
        if (this.state !== state) return;
        this.logger.error('MQTT authentication failed', { error: String(error) });
        this.refuseConnect(Reason.unspecifiedError, 'authentication failed');
      },
    );
  }

  private willOf(packet: IConnectPacket): WillMessage {
    const will = packet.will!;
    const levels = parseTopicName(will.topic);
    const payload = Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload ?? '', 'utf8');
    const properties = messagePropertiesOf(will.qos ?? 0, will.properties);
    return {
      levels,
      payload: new MqttPayload(payload, properties),
      retain: will.retain === true,
      delaySeconds: will.properties?.willDelayInterval ?? 0,
    };
  }

  private refuseConnect(reasonCode: number, message: string): void {
    this.logger.debug('MQTT connection refused', { reason: message, remoteAddress: this.transport.remoteAddress });
    this.writePacket(
      this.version === 5
        ? { cmd: 'connack', sessionPresent: false, reasonCode, properties: { reasonString: message } }
        : { cmd: 'connack', sessionPresent: false, returnCode: connectReturnCodeFor(reasonCode) },
    );
    this.will = undefined;
    this.closeTransport();
  }

  private authorizationGateFor(session: MqttSession): AuthorizationGate<GatedRequest> | undefined {
    const authorize = this.gate.router.auth.authorize;
    if (authorize === undefined) return undefined;
    return new AuthorizationGate<GatedRequest>(
      authorize,
      {
        perform: (item) => this.perform(session, item, true),
        refuse: (item) => this.perform(session, item, false),
        overflow: () => this.fail(new MqttProtocolError(Reason.quotaExceeded, 'too many requests wait for authorization')),
      },
      { timeoutMs: this.gate.router.auth.timeoutMs, maxWaiting: MAX_WAITING_AUTHORIZATIONS, logger: this.logger },
    );
  }

  // --- PUBLISH from the client ---

  private onPublish(session: MqttSession, gate: AuthorizationGate<GatedRequest> | undefined, packet: IPublishPacket): void {
    if (packet.qos > 0 && !packet.messageId) throw new MqttProtocolError(Reason.protocolError, 'a QoS 1/2 PUBLISH needs a packet identifier');
    const topic = this.resolveTopicAlias(packet);
    const levels = parseTopicName(topic);
    // $SYS is the broker's own (MQTT-4.7.2-1: clients should not use it to talk to each other).
    const reserved = levels[0] === '$SYS';
    if (packet.qos === 2 && session.receivedQos2.has(packet.messageId!)) {
      // A resent QoS 2 PUBLISH that we already took (MQTT 4.3.3): acknowledge again, deliver nothing.
      this.writePacket({ cmd: 'pubrec', messageId: packet.messageId! });
      return;
    }
    if (packet.qos > 0) {
      const limit = this.gate.settings.receiveMaximum;
      // MQTT 5 clients know our Receive Maximum (MQTT-3.3.4-8); a 3.1.1 client has no such limit, so it is
      // slowed down instead: its socket is not read until acknowledgements catch up.
      if (this.inboundInFlight >= limit && this.version === 5) {
        throw new MqttProtocolError(Reason.receiveMaximumExceeded, 'more unacknowledged QoS 1/2 PUBLISHes than our Receive Maximum');
      }
      this.inboundInFlight++;
      if (this.inboundInFlight >= limit && !this.readingPaused) {
        this.readingPaused = true;
        this.transport.pause();
      }
      if (packet.qos === 2) session.receivedQos2.add(packet.messageId!);
    }
    const item: GatedRequest = { kind: 'publish', packet, levels };
    if (gate === undefined || reserved) return this.perform(session, item, !reserved);
    gate.submit(item, { action: 'publish', session: session.realmSession, realm: session.realmName, uri: wampUriOf(levels), options: { retain: packet.retain } } satisfies AuthorizeRequest);
  }

  private perform(session: MqttSession, item: GatedRequest, allowed: boolean): void {
    if (this.state.phase !== 'connected') return;
    if (item.kind === 'subscribe') return this.decideFilter(session, item.round, item.index, allowed);
    const { packet, levels } = item;
    const done = (reasonCode: number) => this.acknowledgePublish(packet, reasonCode);
    if (!allowed) {
      done(Reason.notAuthorized);
      return;
    }
    const payloadBytes = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload, 'utf8');
    const properties = messagePropertiesOf(packet.qos, packet.properties);
    if (properties?.payloadFormat === 1 && !isUtf8(payloadBytes)) {
      done(Reason.payloadFormatInvalid);
      return;
    }
    const payload = new MqttPayload(payloadBytes, properties);
    const realm = session.realmSession.realm;
    if (properties?.responseTopic !== undefined && answerRequestWithCall(realm, session.realmSession, levels, payload, this.logger)) {
      done(Reason.success);
      return;
    }
    const refused = (error: unknown) => {
      this.logger.debug('MQTT publish refused', { topic: packet.topic, error: String(error) });
      done(publishRefusalReason(error));
    };
    let outcome: number | Promise<number>;
    try {
      outcome = realm.publishToNow(session.realmSession, levels, payload, packet.retain ? RETAINED_MQTT_PUBLISH : PLAIN_MQTT_PUBLISH);
    } catch (error) {
      return refused(error);
    }
    // A plain publication was delivered within the call: acknowledged at once, with no promise.
    if (typeof outcome === 'number') done(Reason.success);
    else outcome.then(() => done(Reason.success), refused);
  }

  private acknowledgePublish(packet: IPublishPacket, reasonCode: number): void {
    if (packet.qos === 0 || this.state.phase !== 'connected') return;
    this.inboundDone();
    const withReason = this.version === 5 && reasonCode !== Reason.success ? { reasonCode } : {};
    if (packet.qos === 1) {
      this.writePacket({ cmd: 'puback', messageId: packet.messageId!, ...withReason });
      return;
    }
    // QoS 2: the packet ID stays taken until PUBREL (counted again there), unless it failed.
    if (reasonCode >= 0x80) this.state.session.receivedQos2.delete(packet.messageId!);
    else this.inboundInFlight++;
    this.writePacket({ cmd: 'pubrec', messageId: packet.messageId!, ...withReason });
  }

  /** One inbound QoS 1/2 PUBLISH is acknowledged: reading resumes once half the window is free again. */
  private inboundDone(): void {
    this.inboundInFlight--;
    if (this.readingPaused && this.inboundInFlight <= this.gate.settings.receiveMaximum / 2) {
      this.readingPaused = false;
      this.transport.resume();
    }
  }

  private resolveTopicAlias(packet: IPublishPacket): string {
    const alias = packet.properties?.topicAlias;
    if (alias === undefined) return packet.topic;
    if (alias === 0 || alias > this.gate.settings.topicAliasMaximum) {
      throw new MqttProtocolError(Reason.topicAliasInvalid, `topic alias ${alias} is out of range`);
    }
    if (packet.topic.length > 0) {
      this.inboundAliases.set(alias, packet.topic);
      return packet.topic;
    }
    const topic = this.inboundAliases.get(alias);
    if (topic === undefined) throw new MqttProtocolError(Reason.protocolError, `topic alias ${alias} was never set`);
    return topic;
  }

  // --- SUBSCRIBE / UNSUBSCRIBE ---

  private onSubscribe(session: MqttSession, gate: AuthorizationGate<GatedRequest> | undefined, packet: ISubscribePacket): void {
    if (!packet.messageId) throw new MqttProtocolError(Reason.protocolError, 'SUBSCRIBE without a packet identifier');
    const subscriptionId = packet.properties?.subscriptionIdentifier;
    if (subscriptionId !== undefined && (subscriptionId < 1 || subscriptionId > 268435455)) {
      throw new MqttProtocolError(Reason.protocolError, 'subscription identifier out of range');
    }
    const parsed = packet.subscriptions.map((subscription) => parseTopicFilter(subscription.topic));
    packet.subscriptions.forEach((subscription, i) => {
      if (parsed[i]?.shareGroup !== undefined && subscription.nl === true) {
        throw new MqttProtocolError(Reason.protocolError, 'No Local on a shared subscription (MQTT-3.8.3-4)');
      }
    });
    const round: SubscribeRound = { packet, parsed, codes: [], remaining: parsed.length };
    parsed.forEach((filter, index) => {
      const item: GatedRequest = { kind: 'subscribe', round, index };
      if (filter === undefined || gate === undefined) return this.perform(session, item, true);
      gate.submit(item, {
        action: 'subscribe',
        session: session.realmSession,
        realm: session.realmName,
        uri: filter.uri,
        options: { match: filter.match },
      });
    });
  }

  private decideFilter(session: MqttSession, round: SubscribeRound, index: number, allowed: boolean): void {
    const parsed = round.parsed[index];
    const request = round.packet.subscriptions[index]!;
    if (parsed === undefined) round.codes[index] = this.version === 5 ? Reason.topicFilterInvalid : 0x80;
    else if (!allowed) round.codes[index] = this.version === 5 ? Reason.notAuthorized : 0x80;
    else round.codes[index] = Math.min(request.qos, 2);
    if (--round.remaining > 0) return;
    // Every filter decided: subscribe the allowed ones and answer. Retained messages follow the SUBACK: the
    // realm queues their replay, so it runs after this synchronous step.
    round.packet.subscriptions.forEach((wanted, i) => {
      const filter = round.parsed[i];
      if (filter === undefined || round.codes[i]! >= 0x80) return;
      try {
        this.subscribe(session, wanted.topic, filter, wanted, round.packet.properties?.subscriptionIdentifier);
      } catch (error) {
        // The realm refuses some filters itself (the router's hidden $fox topics): that filter fails, the rest stand.
        this.gate.logger.debug('MQTT subscription refused', { filter: wanted.topic, error: String(error) });
        round.codes[i] = this.version === 5 ? Reason.notAuthorized : 0x80;
      }
    });
    this.writePacket({ cmd: 'suback', messageId: round.packet.messageId!, granted: round.codes });
  }

  /** Subscribes one filter, or replaces the options of this session's subscription to it (MQTT-3.8.4-3). */
  private subscribe(
    session: MqttSession,
    text: string,
    filter: ParsedFilter,
    wanted: ISubscribePacket['subscriptions'][number],
    subscriptionId: number | undefined,
  ): void {
    const existing = session.subscriptions.get(text);
    const retainHandling = (this.version === 5 ? (wanted.rh ?? 0) : 0) as 0 | 1 | 2;
    // Retained messages: Retain Handling 0 always, 1 only for a new subscription, 2 never; shared ones never.
    const replay = filter.shareGroup === undefined && (retainHandling === 0 || (retainHandling === 1 && existing === undefined));
    let subscription = existing?.subscription;
    if (subscription === undefined || replay) {
      subscription = session.realmSession.realm.subscribeTo(
        session.realmSession,
        {
          uri: filter.uri,
          match: filter.match,
          pattern: filter.pattern,
          source: `mqtt\u0000${filter.filter}`,
          ...(filter.shareGroup === undefined ? {} : { shareGroup: filter.shareGroup }),
        },
        { retained: replay },
      );
    }
    // Registered before any replayed event can arrive: the realm's replay never runs synchronously.
    session.addSubscription(text, {
      parsed: filter,
      qos: Math.min(wanted.qos, 2) as QoS,
      noLocal: this.version === 5 && wanted.nl === true,
      retainAsPublished: this.version === 5 && wanted.rap === true,
      retainHandling,
      subscriptionId,
      subscription,
    });
  }

  private onUnsubscribe(session: MqttSession, packet: IUnsubscribePacket): void {
    if (!packet.messageId) throw new MqttProtocolError(Reason.protocolError, 'UNSUBSCRIBE without a packet identifier');
    const realm = session.realmSession.realm;
    const codes = packet.unsubscriptions.map((text) => {
      const entry = session.removeSubscription(text);
      if (entry === undefined) return Reason.noSubscriptionExisted;
      realm.unsubscribe(session.realmSession, entry.subscription.id);
      return Reason.success;
    });
    this.writePacket(this.version === 5 ? { cmd: 'unsuback', messageId: packet.messageId, granted: codes } : { cmd: 'unsuback', messageId: packet.messageId, granted: [] });
  }

  // --- DISCONNECT and the end of the connection ---

  private onDisconnect(session: MqttSession, packet: IDisconnectPacket): void {
    const reasonCode = packet.reasonCode ?? 0;
    const newExpiry = packet.properties?.sessionExpiryInterval;
    if (newExpiry !== undefined) {
      // MQTT-3.14.2-2: a session that expired at once may not be made to live on.
      if (session.expirySeconds === 0 && newExpiry !== 0) throw new MqttProtocolError(Reason.protocolError, 'session expiry set on DISCONNECT after 0 at CONNECT');
      session.expirySeconds = newExpiry;
    }
    // A normal DISCONNECT discards the will (MQTT-3.1.2-10); v5 0x04 asks for it.
    this.discardWill = reasonCode !== Reason.disconnectWithWill;
    this.closeTransport();
  }

  /** A protocol error: tell a v5 client why (DISCONNECT with the reason code), then close. */
  private fail(error: unknown): void {
    if (this.state.phase === 'closed') return;
    const reasonCode = error instanceof MqttProtocolError ? error.reasonCode : Reason.unspecifiedError;
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof MqttProtocolError)) this.logger.error('MQTT connection failed', { error: String(error) });
    else this.logger.debug('MQTT protocol error', { reason: message, remoteAddress: this.transport.remoteAddress });
    if (this.state.phase === 'connected' && this.version === 5) {
      this.writePacket({ cmd: 'disconnect', reasonCode, properties: { reasonString: message } });
    } else if (this.state.phase !== 'connected' && this.version === 5 && reasonCode !== Reason.malformedPacket && this.state.phase === 'awaiting-connect') {
      this.writePacket({ cmd: 'connack', sessionPresent: false, reasonCode, properties: { reasonString: message } });
    }
    this.closeTransport();
  }

  /** The router ends this connection (takeover, shutdown, kick): v5 clients hear why. */
  disconnect(reasonCode: number, reason: string): void {
    if (this.state.phase === 'closed') return;
    if (this.state.phase === 'connected' && this.version === 5) {
      this.writePacket({ cmd: 'disconnect', reasonCode, properties: { reasonString: reason } });
    }
    this.closeTransport();
  }

  /** Closes without a word (no CONNECT in time, not MQTT at all). */
  private destroy(reason: string): void {
    if (this.state.phase === 'closed') return;
    this.logger.debug('MQTT connection dropped', { reason, remoteAddress: this.transport.remoteAddress });
    this.closeTransport();
  }

  private closeTransport(): void {
    const wasConnected = this.state.phase === 'connected' ? this.state : undefined;
    this.state = { phase: 'closed' };
    this.transport.end();
    this.ended(wasConnected);
  }

  private connectionLost(): void {
    if (this.state.phase === 'closed') return;
    const wasConnected = this.state.phase === 'connected' ? this.state : undefined;
    this.state = { phase: 'closed' };
    this.ended(wasConnected);
  }

  private ended(connected: { session: MqttSession; gate: AuthorizationGate<GatedRequest> | undefined } | undefined): void {
    clearTimeout(this.keepAliveTimer);
    clearTimeout(this.connectTimer);
    this.gate.connectionClosed(this);
    if (connected === undefined) return;
    connected.gate?.close();
    const will = this.discardWill ? undefined : this.will;
    this.gate.detach(this, connected.session, will);
  }

  // --- keep alive ---

  private touchKeepAlive(): void {
    if (this.keepAliveMs === 0) return;
    // MQTT-3.1.2-24: one and a half keep-alive periods without a packet end the connection.
    if (this.keepAliveTimer === undefined) {
      this.keepAliveTimer = setTimeout(() => this.keepAliveExpired(), this.keepAliveMs * 1.5);
      this.keepAliveTimer.unref();
    } else {
      this.keepAliveTimer.refresh();
    }
  }

  private keepAliveExpired(): void {
    if (this.state.phase === 'closed') return;
    if (this.state.phase === 'connected' && this.version === 5) {
      this.writePacket({ cmd: 'disconnect', reasonCode: Reason.keepAliveTimeout });
    }
    this.closeTransport();
  }

  // --- output (SessionLink) ---

  sendPublish(message: OutgoingMessage, packetId: number, dup: boolean): boolean {
    if (this.state.phase === 'closed') return false;
    const topic = topicNameOf(message);
    const properties = this.version === 5 ? this.publishProperties(message) : undefined;
    let sentTopic = topic;
    if (properties !== undefined && this.clientTopicAliasMaximum > 0) {
      const alias = this.outboundAliases.get(topic);
      if (alias !== undefined) {
        sentTopic = '';
        properties.topicAlias = alias;
      } else if (this.outboundAliases.size < this.clientTopicAliasMaximum) {
        const fresh = this.outboundAliases.size + 1;
        this.outboundAliases.set(topic, fresh);
        properties.topicAlias = fresh;
      }
    }
    const bytes = encodePublish(
      { topic: sentTopic, payload: mqttBytesOf(message.payload), qos: message.qos, dup, retain: message.retain, packetId, ...(properties === undefined ? {} : { properties }) },
      this.version,
    );
    if (bytes.length > this.clientMaximumPacketSize) {
      // MQTT-3.1.2-25: discard what the client cannot take. An alias this packet would have set is not set.
      if (properties?.topicAlias !== undefined && sentTopic !== '') this.outboundAliases.delete(topic);
      return false;
    }
    this.write(bytes);
    return true;
  }

  sendPubrel(packetId: number): void {
    this.writePacket({ cmd: 'pubrel', messageId: packetId });
  }

  bufferedBytes(): number {
    return this.transport.bufferedBytes();
  }

  /** The fields of every log line: the session once connected, the peer before. */
  private logContext(): Record<string, unknown> {
    if (this.state.phase === 'connected') return { ...sessionLogFields(this.state.session.realmSession), clientId: this.state.session.clientId };
    const remoteAddress = this.transport.remoteAddress;
    return { protocol: 'mqtt', transport: this.transport.kind, ...(remoteAddress === undefined ? {} : { remoteAddress }) };
  }

  private publishProperties(message: OutgoingMessage): PublishProperties {
    const source = message.payload.properties;
    const properties: PublishProperties = {};
    if (message.subscriptionIds.length > 0) properties.subscriptionIdentifiers = message.subscriptionIds;
    if (source === undefined) return properties;
    if (source.payloadFormat !== undefined) properties.payloadFormatIndicator = source.payloadFormat === 1;
    if (source.contentType !== undefined) properties.contentType = source.contentType;
    if (source.responseTopic !== undefined) properties.responseTopic = source.responseTopic;
    if (source.correlationData !== undefined) properties.correlationData = source.correlationData;
    if (source.userProperties !== undefined) properties.userProperties = source.userProperties;
    // The trace context of a message from WAMP (or in a router span) as W3C's MQTT user properties. A message
    // that came with a traceparent user property keeps its user properties unaltered (MQTT-3.3.2-17).
    if (source.trace !== undefined && !source.userProperties?.some(([name]) => name === TRACEPARENT)) {
      properties.userProperties = [...(source.userProperties ?? []), ...traceUserProperties(source.trace)];
    }
    if (source.expiresAt !== undefined) {
      // MQTT-3.3.2-6: the interval forwarded is what is left of it.
      properties.messageExpiryInterval = Math.max(1, Math.ceil((source.expiresAt - Date.now()) / 1000));
    }
    return properties;
  }

  private writePacket(packet: Packet, version: ProtocolVersion = this.version): void {
    const bytes = this.encode(packet, version);
    if (bytes !== undefined) this.write(bytes);
  }

  private encode(packet: Packet, version: ProtocolVersion = this.version): Buffer | undefined {
    if (isAcknowledgement(packet) && !packet.properties && (packet.reasonCode === undefined || packet.reasonCode === Reason.success)) {
      // The common case, four bytes (MQTT 5 3.4.2.1 allows leaving out a success reason code): no codec call.
      return shortAcknowledgement(packet.cmd, packet.messageId ?? 0);
    }
    if (version === 5 && isAcknowledgement(packet) && packet.reasonCode === undefined) {
      // The short form (MQTT 5 3.4.2.1: no reason code means success): the codec writes a reason code unless
      // told it is 0, and some clients (paho 1.6) cannot read the long form of a PUBREL.
      packet = { ...packet, reasonCode: Reason.success };
    }
    try {
      return mqttPacket.generate(packet, { protocolVersion: version });
    } catch (error) {
      this.logger.error('MQTT packet could not be encoded', { cmd: packet.cmd, error: String(error) });
      return undefined;
    }
  }

  private write(bytes: Buffer): void {
    this.transport.send(bytes);
    if (this.metrics.enabled) this.metrics.sent('mqtt', mqttPacketType(bytes), bytes.length);
    // Overflow policy: a client that does not read what it is sent is disconnected before memory grows without bound.
    if (this.transport.bufferedBytes() > this.gate.settings.maxBufferedBytes) {
      this.logger.warn('MQTT client does not keep up; disconnecting', { remoteAddress: this.transport.remoteAddress });
      this.metrics.overflow('mqtt', 'disconnected');
      this.transport.destroy();
      this.connectionLost();
    }
  }
}

/** The message properties of a PUBLISH (or will) as the router keeps them; undefined when there are none. */
function messagePropertiesOf(
  qos: QoS,
  properties: IPublishPacket['properties'] | NonNullable<IConnectPacket['will']>['properties'] | undefined,
): MessageProperties | undefined {
  const result: { -readonly [K in keyof MessageProperties]: MessageProperties[K] } = {};
  if (qos !== 0) result.qos = qos;
  if (properties !== undefined) {
    if (properties.payloadFormatIndicator !== undefined) result.payloadFormat = properties.payloadFormatIndicator ? 1 : 0;
    if (properties.contentType !== undefined) result.contentType = properties.contentType;
    if (properties.responseTopic !== undefined) result.responseTopic = properties.responseTopic;
    if (properties.correlationData !== undefined) result.correlationData = properties.correlationData;
    if (properties.userProperties !== undefined) {
      result.userProperties = userPropertiesOf(properties) ?? pairsOf(properties.userProperties);
      const trace = traceFromUserProperties(result.userProperties);
      if (trace !== undefined) result.trace = trace;
    }
    if (properties.messageExpiryInterval !== undefined) result.expiresAt = Date.now() + properties.messageExpiryInterval * 1000;
  }
  for (const _ in result) return result;
  return undefined;
}

const ACK_FIRST_BYTE = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const;

/** PUBACK, PUBREC, PUBREL or PUBCOMP with a packet identifier and nothing else. */
function shortAcknowledgement(cmd: keyof typeof ACK_FIRST_BYTE, packetId: number): Buffer {
  const bytes = Buffer.allocUnsafe(4);
  bytes[0] = ACK_FIRST_BYTE[cmd];
  bytes[1] = 2;
  bytes.writeUInt16BE(packetId, 2);
  return bytes;
}

function isAcknowledgement(packet: Packet): packet is Extract<Packet, { cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp' }> {
  return packet.cmd === 'puback' || packet.cmd === 'pubrec' || packet.cmd === 'pubrel' || packet.cmd === 'pubcomp';
}

/** User properties from the codec's object form (used only if the arrival order was not recorded). */
function pairsOf(properties: Record<string, string | string[]>): [string, string][] {
  return Object.entries(properties).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((item): [string, string] => [name, item]));
}

/** The PUBACK/PUBREC reason for a publication the realm refused. */
function publishRefusalReason(error: unknown): number {
  if (!(error instanceof RouterError)) return Reason.implementationSpecificError;
  switch (error.uri) {
    case ErrorUri.notAuthorized:
    case ErrorUri.invalidUri:
      // The only topics the realm refuses by name are the router's own (wamp/...): a matter of permission.
      return Reason.notAuthorized;
    case ErrorUri.invalidArgument:
      // A retained message over the size limit.
      return Reason.quotaExceeded;
    default:
      return Reason.implementationSpecificError;
  }
}

function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

/** The publish options of an MQTT PUBLISH (shared, read-only): MQTT delivers to the publisher's own subscriptions. */
const PLAIN_MQTT_PUBLISH: PublishOptions = Object.freeze({ retain: false, excludeMe: false });
const RETAINED_MQTT_PUBLISH: PublishOptions = Object.freeze({ retain: true, excludeMe: false });
