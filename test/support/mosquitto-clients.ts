import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { ArrivalLog, withTimeout } from './mqtt-client.js';

// Debian's mosquitto command-line clients (mosquitto-clients 2.0.11) as test clients: `mosquitto_pub` runs to
// completion, `mosquitto_sub` runs in the background and reports what it receives. Both take `-p PORT -V VERSION`.

export const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
export const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';
/** mosquitto_sub's stdout is block-buffered into a pipe; `stdbuf -oL` makes it line-buffered (it then execs). */
const STDBUF = '/usr/bin/stdbuf';

export type MosquittoCliVersion = 'mqttv311' | 'mqttv5';

export interface CliBroker {
  readonly host: string;
  readonly port: number;
}

/** One application message as mosquitto_sub printed it. */
export interface CliMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** The payload decoded as UTF-8. */
  readonly text: string;
  readonly qos: number;
  readonly retain: boolean;
  /** MQTT 5 properties as mosquitto_sub's JSON output names them (e.g. `user-properties`). */
  readonly properties: Record<string, unknown>;
}

/** A `-D command property value...` triple for MQTT 5 properties, e.g. `['publish', 'user-property', 'k', 'v']`. */
export type CliProperty = readonly [command: string, property: string, ...values: string[]];

export interface PubOptions {
  readonly version: MosquittoCliVersion;
  readonly topic: string;
  /** What to send: `-m text`, `-f file` or `-n` (an empty payload). */
  readonly payload: { readonly message: string } | { readonly file: string } | 'empty';
  readonly qos?: 0 | 1 | 2;
  readonly retain?: boolean;
  readonly properties?: readonly CliProperty[];
}

/**
 * Runs mosquitto_pub once and resolves when it has exited 0 — for QoS 1 and 2 that is after the broker's
 * PUBACK / PUBCOMP, so the broker has taken the message by then. Rejects with its output otherwise.
 */
export async function mosquittoPub(broker: CliBroker, options: PubOptions, timeoutMs = 10_000): Promise<void> {
  const args = ['-h', broker.host, '-p', String(broker.port), '-V', options.version, '-t', options.topic, '-q', String(options.qos ?? 0)];
  if (options.payload === 'empty') args.push('-n');
  else if ('message' in options.payload) args.push('-m', options.payload.message);
  else args.push('-f', options.payload.file);
  if (options.retain === true) args.push('-r');
  for (const property of options.properties ?? []) args.push('-D', ...property);
  const child = spawn(MOSQUITTO_PUB, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) throw new Error(`mosquitto_pub ${args.join(' ')} exited with ${code ?? signal}: ${output || '(no output)'}`);
  } finally {
    clearTimeout(timer);
  }
}

export interface SubOptions {
  readonly version: MosquittoCliVersion;
  readonly topics: readonly string[];
  readonly qos?: 0 | 1 | 2;
  /** `-C n`: exit after n messages (then `finished()` resolves). Without it the subscriber runs until stopped. */
  readonly count?: number;
  /** `-W secs`: give up after this long (mosquitto_sub then exits with 27). */
  readonly timeoutSecs?: number;
}

// `-d` prints the SUBACK ("Subscribed (mid: 1): 2, 2") so we know when the subscription is in place; each message
// is printed as "MSG <payload hex> <JSON>" (the JSON has topic, qos, retain and the v5 properties; the hex keeps
// binary payloads exact, which the JSON's "payload" string does not). `@` must not appear: it starts a date format.
const MESSAGE_FORMAT = 'MSG %x %j';
// The JSON's "payload" holds the raw bytes up to the first NUL, so it may contain U+2028 and the like: hence /s.
const MESSAGE_LINE = /^MSG ([0-9a-f]*) (\{.*\})$/s;
const SUBSCRIBED_LINE = /^Subscribed \(mid: \d+\): (.*)$/;

/** A running mosquitto_sub. Start it with `MosquittoClients.subscribe()` so that it is stopped after the test. */
export class MosquittoSub {
  readonly messages = new ArrivalLog<CliMessage>((message) => `${message.topic}=${JSON.stringify(message.text.slice(0, 40))}(q${message.qos}${message.retain ? ',r' : ''})`);
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private output = '';
  private readonly subscribed: Promise<number[]>;
  private resolveSubscribed: (granted: number[]) => void = () => undefined;
  private readonly count: number | undefined;

  constructor(broker: CliBroker, options: SubOptions) {
    this.count = options.count;
    const args = ['-h', broker.host, '-p', String(broker.port), '-V', options.version, '-q', String(options.qos ?? 0), '-d', '-F', MESSAGE_FORMAT];
    for (const topic of options.topics) args.push('-t', topic);
    if (options.count !== undefined) args.push('-C', String(options.count));
    if (options.timeoutSecs !== undefined) args.push('-W', String(options.timeoutSecs));
    this.child = spawn(STDBUF, ['-oL', MOSQUITTO_SUB, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // 'close', not 'exit': the process may exit before its last (long) output line has been read.
    this.exited = once(this.child, 'close').then(([code]) => code as number | null);
    this.subscribed = new Promise<number[]>((resolve, reject) => {
      this.resolveSubscribed = resolve;
      void this.exited.then((code) => reject(new Error(`mosquitto_sub exited (${code}) before its SUBACK: ${this.output || '(no output)'}`)));
    });
    // Not every test awaits `ready()` (a `-C` run may just await `finished()`); that rejection is reported there.
    this.subscribed.catch(() => undefined);
    // Split into lines before decoding, so that a chunk boundary never cuts a UTF-8 sequence.
    let pending = Buffer.alloc(0);
    this.child.stdout!.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      let newline: number;
      while ((newline = pending.indexOf(0x0a)) >= 0) {
        const line = pending.subarray(0, newline).toString('utf8');
        pending = pending.subarray(newline + 1);
        this.output += `${line}\n`;
        this.onLine(line);
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
  }

  /** Resolves with the SUBACK's granted QoS once the subscription is in place. */
  ready(timeoutMs = 5_000): Promise<number[]> {
    return withTimeout(this.subscribed, timeoutMs, `mosquitto_sub's SUBACK`);
  }

  /** With `count`: resolves with every message once mosquitto_sub has exited 0 after the last one. */
  async finished(timeoutMs = 10_000): Promise<CliMessage[]> {
    const code = await withTimeout(this.exited, timeoutMs, `mosquitto_sub to exit (received: ${this.messages.items.length} messages)`);
    if (code !== 0) throw new Error(`mosquitto_sub exited with ${code}: ${this.output}`);
    if (this.messages.items.length < (this.count ?? 0)) {
      throw new Error(`mosquitto_sub printed ${this.count} messages, of which ${this.messages.items.length} could be read: ${this.output}`);
    }
    return [...this.messages.items];
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  private onLine(line: string): void {
    const subscribed = SUBSCRIBED_LINE.exec(line);
    if (subscribed !== null) {
      this.resolveSubscribed(subscribed[1]!.split(',').map((code) => Number(code.trim())));
      return;
    }
    const message = MESSAGE_LINE.exec(line);
    if (message === null) return; // a debug line (-d)
    let json: { topic: string; qos: number; retain: number; properties?: Record<string, unknown> };
    try {
      json = JSON.parse(message[2]!) as typeof json;
    } catch {
      return; // reported by finished() as a message it could not read
    }
    const payload = Buffer.from(message[1]!, 'hex');
    this.messages.push({ topic: json.topic, payload, text: payload.toString('utf8'), qos: json.qos, retain: json.retain === 1, properties: json.properties ?? {} });
  }
}

/** The mosquitto_sub processes a test started; `stopAll()` in afterEach. */
export class MosquittoClients {
  private readonly running = new Set<MosquittoSub>();

  constructor(private readonly broker: () => CliBroker) {}

  subscribe(options: SubOptions): MosquittoSub {
    const sub = new MosquittoSub(this.broker(), options);
    this.running.add(sub);
    return sub;
  }

  publish(options: PubOptions): Promise<void> {
    return mosquittoPub(this.broker(), options);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((sub) => sub.stop()));
    this.running.clear();
  }
}
