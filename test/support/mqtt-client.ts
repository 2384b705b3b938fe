import { randomBytes } from 'node:crypto';
import { connect as connectTcp, type Socket } from 'node:net';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import mqttPacket, {
  type IConnackPacket,
  type IConnectPacket,
  type IPubackPacket,
  type IPublishPacket,
  type IPubrecPacket,
  type Packet,
} from 'mqtt-packet';

// MQTT.js helpers by role, for the conformance and differential suites. Everything a test opens is tracked by an
// `MqttTestClients` and closed in afterEach. Two kinds of client:
// - `connect()`: an MQTT.js 5 client (the library users will use), with an `Inbox` attached before the CONNECT is
//   sent so that nothing the broker delivers right after the CONNACK (queued or retained messages) is missed;
// - `raw()`: a bare TCP socket speaking mqtt-packet, for hand-made cases MQTT.js would not produce or hides
//   (a duplicate QoS 2 PUBLISH, withheld acknowledgements, silence past the keepalive, reading DUP flags).

export type MqttProtocolVersion = 4 | 5;

/** How long a helper waits for something that should happen before failing with a clear error. */
export const DEFAULT_WAIT_MS = 3000;

/** A topic prefix and client id stem unique to one test, so tests on one broker never see each other's traffic. */
export function uniqueName(stem: string): string {
  return `${stem}-${randomBytes(4).toString('hex')}`;
}

/** Resolves `promise`, or rejects after `ms` with an error that says what was awaited. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits a fixed time: only for tests whose subject IS time (keepalive, delays, expiry), never as synchronization. */
export function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An application message as a subscriber saw it. */
export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** The payload decoded as UTF-8. */
  readonly text: string;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly dup: boolean;
  /** MQTT 5 properties as received (a Topic Alias, if any, is already resolved into `topic`). */
  readonly properties: NonNullable<IPublishPacket['properties']>;
}

/** The message a PUBLISH packet carries, under `topic` (the packet's own, unless an alias stood for it). */
export function receivedFromPacket(packet: IPublishPacket, topic: string = packet.topic): ReceivedMessage {
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  return {
    topic,
    payload,
    text: payload.toString('utf8'),
    qos: packet.qos,
    retain: packet.retain,
    dup: packet.dup,
    properties: packet.properties ?? {},
  };
}

/**
 * The topic a PUBLISH is for, given the receiver's alias map for this connection (MQTT 5 Topic Alias: a PUBLISH with
 * a topic and an alias sets the alias, one with an empty topic uses it). Throws on an alias that was never set.
 */
export function resolveTopicAlias(packet: IPublishPacket, aliases: Map<number, string>): string {
  const alias = packet.properties?.topicAlias;
  if (alias === undefined) return packet.topic;
  if (packet.topic.length > 0) {
    aliases.set(alias, packet.topic);
    return packet.topic;
  }
  const topic = aliases.get(alias);
  if (topic === undefined) throw new Error(`PUBLISH uses topic alias ${alias}, which was never set on this connection`);
  return topic;
}

/** What the waits need of a log: to be told of arrivals, and to describe its content in an error. */
export interface WatchedLog {
  readonly listeners: Set<() => void>;
  describe(): string;
}

/**
 * Resolves once `done()` holds, re-checking whenever any of `logs` receives an item; rejects after `timeoutMs` with
 * what was awaited and what each log had received.
 */
export function waitUntilAcross(
  logs: ReadonlyArray<WatchedLog>,
  done: () => boolean,
  what: string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!done()) return;
      stop();
      resolve();
    };
    const timer = setTimeout(() => {
      stop();
      const seen = logs.map((log) => log.describe()).join(' | ');
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received so far: ${seen}`));
    }, timeoutMs);
    const stop = () => {
      clearTimeout(timer);
      for (const log of logs) log.listeners.delete(check);
    };
    for (const log of logs) log.listeners.add(check);
  });
}

/**
 * A log of things that arrive in order, with waits that fail with a clear message. `next()` consumes in arrival
 * order; `waitFor(pred)` looks at everything logged so far (consumed or not) and then at what arrives.
 */
export class ArrivalLog<T> implements WatchedLog {
  readonly items: T[] = [];
  /** Called after every arrival (used by the waits). */
  readonly listeners = new Set<() => void>();
  private cursor = 0;

  constructor(private readonly describeItem: (item: T) => string) {}

  push(item: T): void {
    this.items.push(item);
    for (const listener of [...this.listeners]) listener();
  }

  /** What has arrived so far, for error messages. */
  describe(): string {
    return this.items.map(this.describeItem).join(', ') || 'nothing';
  }

  /** The next item not yet returned by `next()`. */
  async next(what = 'the next item', timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
    await this.waitUntil(() => this.cursor < this.items.length, what, timeoutMs);
    return this.items[this.cursor++]!;
  }

  /** The first logged item that satisfies `predicate`, waiting for it if none has arrived yet. */
  async waitFor(predicate: (item: T) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
    let found: T | undefined;
    await this.waitUntil(
      () => {
        found = this.items.find(predicate);
        return found !== undefined;
      },
      what,
      timeoutMs,
    );
    return found!;
  }

  /** Waits until `count` items have been logged and returns them all. */
  async waitForCount(count: number, what = `${count} items`, timeoutMs = DEFAULT_WAIT_MS): Promise<T[]> {
    await this.waitUntil(() => this.items.length >= count, what, timeoutMs);
    return [...this.items];
  }

  /** Everything logged before the first item that satisfies `isMarker` (waiting for the marker). */
  async before(isMarker: (item: T) => boolean, what = 'the marker', timeoutMs = DEFAULT_WAIT_MS): Promise<T[]> {
    const marker = await this.waitFor(isMarker, what, timeoutMs);
    return this.items.slice(0, this.items.indexOf(marker));
  }

  /** Waits until `done()` holds (checked whenever an item arrives). */
  waitUntil(done: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return waitUntilAcross([this], done, what, timeoutMs);
  }
}

/** The application messages one MQTT.js client received, in order. */
export class Inbox extends ArrivalLog<ReceivedMessage> {
  constructor() {
    super((message) => `${message.topic}=${JSON.stringify(message.text.slice(0, 40))}(q${message.qos}${message.retain ? ',r' : ''})`);
  }

  get messages(): readonly ReceivedMessage[] {
    return this.items;
  }

  /** The messages on `topic` (in arrival order). */
  on(topic: string): ReceivedMessage[] {
    return this.items.filter((message) => message.topic === topic);
  }

  /** The first message with this topic (and text, when given), waiting for it. */
  waitForMessage(topic: string, text?: string, timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedMessage> {
    const what = text === undefined ? `a message on ${topic}` : `${JSON.stringify(text)} on ${topic}`;
    return this.waitFor((message) => message.topic === topic && (text === undefined || message.text === text), what, timeoutMs);
  }
}

/** An MQTT.js client that completed its CONNECT, its CONNACK, and the inbox that saw every message from the start. */
export interface ConnectedClient {
  readonly client: MqttClient;
  readonly connack: IConnackPacket;
  readonly inbox: Inbox;
  /** Every packet the client received (CONNACK, SUBACK, DISCONNECT, ... and PUBLISH with its raw fields). */
  readonly packets: ArrivalLog<Packet>;
  /** Resolves when the network connection has closed (whoever closed it). */
  readonly closed: Promise<void>;
}

/** Options for `connect()`: MQTT.js options, with reconnecting off and a short connect timeout by default. */
export type ConnectOptions = Omit<IClientOptions, 'protocolVersion'>;

/**
 * Opens MQTT.js clients and raw connections to one broker with one protocol version, and closes them all in
 * `closeAll()` (call it in afterEach).
 */
export class MqttTestClients {
  private readonly open = new Set<{ close(): Promise<void> }>();

  constructor(
    readonly url: string,
    readonly protocolVersion: MqttProtocolVersion,
  ) {}

  /** Connects an MQTT.js client and resolves once the CONNACK arrived; rejects if the broker refuses or closes. */
  async connect(options: ConnectOptions = {}): Promise<ConnectedClient> {
    const client = mqtt.connect(this.url, {
      protocolVersion: this.protocolVersion,
      reconnectPeriod: 0,
      connectTimeout: DEFAULT_WAIT_MS,
      clientId: options.clientId ?? uniqueName('c'),
      ...options,
    });
    const inbox = new Inbox();
    const packets = new ArrivalLog<Packet>((packet) => packet.cmd);
    // Recorded when the PUBLISH arrives (MQTT.js emits 'message' for QoS 2 only at the PUBREL, which would reorder
    // messages of different QoS), with topic aliases resolved as the client sees them.
    const aliases = new Map<number, string>();
    client.on('packetreceive', (packet) => {
      packets.push(packet);
      if (packet.cmd === 'publish') inbox.push(receivedFromPacket(packet, resolveTopicAlias(packet, aliases)));
    });
    // MQTT.js reports errors on its emitter; a test that expects a failure awaits `closed` or the CONNACK instead.
    client.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const handle = {
      close: async () => {
        this.open.delete(handle);
        // Forced: no DISCONNECT, so a test's will may fire, on a topic of its own that nobody watches any more.
        if (!client.disconnecting) await client.endAsync(true).catch(() => undefined);
      },
    };
    this.open.add(handle);
    const connack = await withTimeout(
      new Promise<IConnackPacket>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('error', reject);
        void closed.then(() => reject(new Error(`the broker closed the connection before a successful CONNACK`)));
      }),
      DEFAULT_WAIT_MS + 500,
      `the CONNACK of ${client.options.clientId}`,
    );
    return { client, connack, inbox, packets, closed };
  }

  /** Opens a raw MQTT connection (no CONNECT sent yet). */
  async raw(): Promise<RawMqttConnection> {
    const { hostname, port } = new URL(this.url);
    const connection = await RawMqttConnection.open(hostname, Number(port), this.protocolVersion);
    const handle = {
      close: async () => {
        this.open.delete(handle);
        await connection.destroy();
      },
    };
    this.open.add(handle);
    return connection;
  }

  /** A raw connection that has sent CONNECT (clean by default) and received a successful CONNACK. */
  async rawConnected(connect: Partial<IConnectPacket> = {}): Promise<{ raw: RawMqttConnection; connack: IConnackPacket }> {
    const raw = await this.raw();
    const connack = await raw.connect(connect);
    const code = connack.reasonCode ?? connack.returnCode ?? 0;
    if (code !== 0) throw new Error(`the broker refused the raw CONNECT with code ${code}`);
    return { raw, connack };
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((handle) => handle.close()));
  }
}

/**
 * Sends DISCONNECT (v5: with `reasonCode`) and resolves once the broker has closed its side of the connection, so
 * the broker has processed the DISCONNECT before anything the test does next (MQTT.js half-closes and waits).
 */
export async function disconnectCleanly(connected: ConnectedClient, reasonCode?: number): Promise<void> {
  await withTimeout(
    connected.client.endAsync(reasonCode === undefined ? {} : { reasonCode }),
    DEFAULT_WAIT_MS,
    `the broker to close the connection of ${connected.client.options.clientId} after its DISCONNECT`,
  );
}

/** Ends an MQTT.js client without a DISCONNECT packet, as if the network had failed (so the broker sends the will). */
export async function dropConnection(connected: ConnectedClient): Promise<void> {
  connected.client.stream.destroy();
  await connected.closed;
  await connected.client.endAsync(true).catch(() => undefined);
}

/**
 * Proves that something did NOT arrive: publishes a unique marker on `topic` (which `inbox`'s client must be
 * subscribed to) and resolves with the messages that arrived before the marker. Brokers keep the order of one
 * publisher's messages, so anything published earlier by the same client would have arrived first.
 */
export async function receivedBeforeMarker(
  publisher: MqttClient,
  inbox: Inbox,
  topic: string,
  options: IClientPublishOptions = {},
): Promise<ReceivedMessage[]> {
  const marker = uniqueName('marker');
  await publisher.publishAsync(topic, marker, options);
  return inbox.before((message) => message.topic === topic && message.text === marker, `the marker on ${topic}`);
}

/**
 * Which of `topics` each of `filters` matches: one subscriber per filter (so every delivery is attributable), the
 * topics published in order at QoS 1 by one publisher, then a marker that every subscriber also subscribed to.
 * Resolves with filter → the matched topics in publication order.
 */
export async function observeMatching(
  clients: MqttTestClients,
  filters: readonly string[],
  topics: readonly string[],
  markerTopic: string,
): Promise<Record<string, string[]>> {
  const subscribers = await Promise.all(
    filters.map(async (filter) => {
      const subscriber = await clients.connect();
      await subscriber.client.subscribeAsync({ [filter]: { qos: 1 }, [markerTopic]: { qos: 1 } });
      return subscriber;
    }),
  );
  const publisher = await clients.connect();
  for (const topic of topics) await publisher.client.publishAsync(topic, topic, { qos: 1 });
  const marker = uniqueName('marker');
  await publisher.client.publishAsync(markerTopic, marker, { qos: 1 });
  const matched: Record<string, string[]> = {};
  for (const [index, filter] of filters.entries()) {
    const isMarker = (message: ReceivedMessage) => message.topic === markerTopic && message.text === marker;
    const before = await subscribers[index]!.inbox.before(isMarker, `the marker for ${filter}`);
    matched[filter] = before.filter((message) => message.text === message.topic).map((message) => message.topic);
  }
  return matched;
}

/**
 * Publishes at QoS 1 or 2 and resolves with the broker's first acknowledgement (PUBACK, or PUBREC for QoS 2), whose
 * reason code MQTT.js does not hand back itself.
 */
export async function publishAcked(
  publisher: ConnectedClient,
  topic: string,
  payload: string | Buffer,
  options: IClientPublishOptions & { qos: 1 | 2 },
): Promise<IPubackPacket | IPubrecPacket> {
  const sent = (await publisher.client.publishAsync(topic, payload, options)) as IPublishPacket;
  const ackCmd = options.qos === 1 ? 'puback' : 'pubrec';
  return (await publisher.packets.waitFor(
    (packet) => packet.cmd === ackCmd && packet.messageId === sent.messageId,
    `the ${ackCmd.toUpperCase()} of ${topic}`,
  )) as IPubackPacket | IPubrecPacket;
}

/**
 * One MQTT network connection driven by hand: packets encoded with mqtt-packet and written to a TCP socket; every
 * packet the broker sends is logged in `packets`. Nothing is acknowledged automatically.
 */
export class RawMqttConnection {
  readonly packets: ArrivalLog<Packet>;
  /** Resolves when the socket has closed (with the time it closed). */
  readonly closed: Promise<number>;
  private readonly parser: ReturnType<typeof mqttPacket.parser>;

  private constructor(
    private readonly socket: Socket,
    readonly protocolVersion: MqttProtocolVersion,
  ) {
    this.packets = new ArrivalLog<Packet>((packet) => describePacket(packet));
    this.parser = mqttPacket.parser({ protocolVersion });
    this.parser.on('packet', (packet: Packet) => this.packets.push(packet));
    this.parser.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.parser.parse(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve(Date.now())));
  }

  static open(host: string, port: number, protocolVersion: MqttProtocolVersion): Promise<RawMqttConnection> {
    return new Promise((resolve, reject) => {
      const socket = connectTcp({ host, port, noDelay: true });
      socket.once('connect', () => resolve(new RawMqttConnection(socket, protocolVersion)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readyState === 'closed';
  }

  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }));
  }

  /** Writes bytes as they are, for packets mqtt-packet refuses to encode (an empty client id with CleanSession 0). */
  sendBytes(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends CONNECT (clean, keepalive 60, random client id unless given) and resolves with the CONNACK. */
  async connect(fields: Partial<IConnectPacket> = {}): Promise<IConnackPacket> {
    this.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: this.protocolVersion,
      clean: true,
      keepalive: 60,
      clientId: uniqueName('raw'),
      ...fields,
    } as IConnectPacket);
    return (await this.packets.waitFor((packet) => packet.cmd === 'connack', 'the CONNACK')) as IConnackPacket;
  }

  /** The first packet of this kind (optionally also matching `predicate`), waiting for it. */
  async waitForPacket<C extends Packet['cmd']>(
    cmd: C,
    predicate: (packet: Extract<Packet, { cmd: C }>) => boolean = () => true,
    what = `a ${cmd.toUpperCase()}`,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<Extract<Packet, { cmd: C }>> {
    return (await this.packets.waitFor(
      (packet) => packet.cmd === cmd && predicate(packet as Extract<Packet, { cmd: C }>),
      what,
      timeoutMs,
    )) as Extract<Packet, { cmd: C }>;
  }

  /** Sends a PUBLISH; QoS 0, DUP 0 and RETAIN 0 unless given (QoS 1 and 2 need a `messageId`). */
  publish(fields: {
    topic: string;
    payload: string | Buffer;
    qos?: 0 | 1 | 2;
    messageId?: number;
    dup?: boolean;
    retain?: boolean;
    properties?: IPublishPacket['properties'];
  }): void {
    const { payload, qos = 0, dup = false, retain = false, ...rest } = fields;
    this.send({ cmd: 'publish', payload: Buffer.from(payload), qos, dup, retain, ...rest });
  }

  /** How many packets of this kind have arrived. */
  count(cmd: Packet['cmd']): number {
    return this.packets.items.filter((packet) => packet.cmd === cmd).length;
  }

  /** Waits until `count` packets of this kind have arrived. */
  async waitForCount(cmd: Packet['cmd'], count: number, what = `${count} × ${cmd.toUpperCase()}`): Promise<void> {
    await this.packets.waitUntil(() => this.count(cmd) >= count, what);
  }

  /**
   * The broker's answer to a SUBSCRIBE it may refuse: the SUBACK's codes, or that it closed the connection (with the
   * reason code of the DISCONNECT it sent first, if any).
   */
  async subackOrClose(): Promise<{ granted: number[] } | { closed: true; disconnectReason: number | null }> {
    const outcome = await withTimeout(
      Promise.race([
        this.packets.waitUntil(() => this.count('suback') > 0, 'a SUBACK', DEFAULT_WAIT_MS + 1000).then(() => 'suback' as const),
        this.closed.then(() => 'closed' as const),
      ]),
      DEFAULT_WAIT_MS,
      'a SUBACK or the broker closing the connection',
    );
    if (outcome === 'suback') return { granted: (await this.waitForPacket('suback')).granted as number[] };
    const disconnect = this.packets.items.find((packet) => packet.cmd === 'disconnect') as { reasonCode?: number } | undefined;
    return { closed: true, disconnectReason: disconnect?.reasonCode ?? null };
  }

  /** Every PUBLISH received so far. */
  publishes(): IPublishPacket[] {
    return this.packets.items.filter((packet): packet is IPublishPacket => packet.cmd === 'publish');
  }

  /** Subscribes and resolves with the SUBACK's granted QoS / reason codes. */
  async subscribe(
    subscriptions: Array<{ topic: string; qos: 0 | 1 | 2; nl?: boolean; rap?: boolean; rh?: number }>,
    messageId = 1,
  ): Promise<number[]> {
    this.send({ cmd: 'subscribe', messageId, subscriptions });
    const suback = await this.waitForPacket('suback', (packet) => packet.messageId === messageId, `the SUBACK ${messageId}`);
    // mqtt-packet's parser yields the granted QoS / reason codes as numbers.
    return suback.granted as number[];
  }

  /**
   * A PINGREQ/PINGRESP round trip: once the PINGRESP is here, the broker has processed everything sent before it,
   * and (brokers write to one connection in order) everything it sent before the PINGRESP has arrived.
   */
  async ping(): Promise<void> {
    const before = this.count('pingresp');
    this.send({ cmd: 'pingreq' });
    await this.waitForCount('pingresp', before + 1, 'the PINGRESP');
  }

  /** Sends DISCONNECT (v5: with `reasonCode`), half-closes, and resolves once the broker has closed its side too. */
  async disconnect(reasonCode?: number): Promise<void> {
    this.send({ cmd: 'disconnect', ...(reasonCode === undefined ? {} : { reasonCode }) });
    this.socket.end();
    await withTimeout(this.closed, DEFAULT_WAIT_MS, 'the broker to close the connection after DISCONNECT');
  }

  /** Closes the socket without DISCONNECT, as if the network had failed. */
  async destroy(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }
}

/** A short description of a packet, e.g. `PUBLISH(a/b,q1,dup)` or `DISCONNECT(0x8e)`, for errors and observations. */
export function describePacket(packet: Packet): string {
  if (packet.cmd === 'publish') return `PUBLISH(${packet.topic},q${packet.qos}${packet.dup ? ',dup' : ''}${packet.retain ? ',r' : ''})`;
  const code = (packet as { reasonCode?: number }).reasonCode;
  return `${packet.cmd.toUpperCase()}${code === undefined ? '' : `(0x${code.toString(16)})`}`;
}
