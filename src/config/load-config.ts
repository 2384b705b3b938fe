import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { checkRealmRoles, checkStaticUsers, isValidUri, parseInformationSchema } from '@fox-wamp/core';
import { CONSOLE_REALM, ConfigError, DEFAULT_CONFIG, LOG_FORMATS, LOG_LEVELS, type ServerConfig } from './server-config.js';

type Key = keyof ServerConfig;
/**
 * `optionalPort`: a port that may be left unset (the listener is then off). `optionalBoolean`: unset means
 * "it depends" (see the setting). `users`, `roles`: the config file's users and role permissions, never from
 * env or flags. `console`: the admin console's user (`{ user }`; a flag or env var gives the authid alone).
 */
type Kind = 'string' | 'optionalString' | 'port' | 'optionalPort' | 'positive' | 'boolean' | 'optionalBoolean' | 'strings' | 'perRealm' | 'users' | 'roles' | 'schema' | 'console';

/** Each setting: its kind, its flag, and its env var (`FOX_<NAME>`). The config file uses the key itself. */
const SETTINGS: Record<Key, { kind: Kind; flag?: string; help: string; choices?: readonly string[] }> = {
  host: { kind: 'string', flag: '--host <host>', help: 'interface for every listener' },
  port: { kind: 'port', flag: '--port <port>', help: 'HTTP port: WAMP over WebSocket and RawSocket, /health (0 = any free port)' },
  rawsocketPort: { kind: 'optionalPort', flag: '--rawsocket-port <port>', help: 'a TCP port of its own for WAMP RawSocket (0 = any free port)' },
  wampPath: { kind: 'string', flag: '--wamp-path <path>', help: 'WebSocket path for WAMP' },
  mqtt: { kind: 'boolean', flag: '--no-mqtt', help: 'turn MQTT off (its TCP port and its WebSocket path)' },
  mqttPort: { kind: 'port', flag: '--mqtt-port <port>', help: 'MQTT over TCP (0 = any free port)' },
  mqttWsPath: { kind: 'string', flag: '--mqtt-ws-path <path>', help: 'WebSocket path for MQTT on the HTTP port' },
  mqttMaxKeepalive: { kind: 'positive', flag: '--mqtt-max-keepalive <seconds>', help: 'cap on the keep alive MQTT clients ask for (MQTT 5 Server Keep Alive)' },
  mqttSysInterval: { kind: 'positive', flag: '--mqtt-sys-interval <seconds>', help: 'seconds between updates of the MQTT $SYS/broker topics, 0 = none' },
  realm: { kind: 'string', flag: '--realm <name>', help: 'default realm' },
  realms: { kind: 'strings', help: 'further realms (config file)' },
  perRealm: { kind: 'perRealm', help: 'settings of particular realms (config file), e.g. {"iot": {"uriCheck": "strict"}}' },
  autoRealms: { kind: 'boolean', flag: '--auto-realms', help: 'create a realm when a client asks for an unknown one' },
  uriCheck: { kind: 'string', flag: '--uri-check <mode>', help: 'URI checks', choices: ['loose', 'strict'] },
  maxMessageSize: { kind: 'positive', flag: '--max-message-size <bytes>', help: 'largest accepted WAMP message' },
  pingInterval: { kind: 'positive', flag: '--ping-interval <ms>', help: 'WebSocket ping interval, 0 = off' },
  shutdownTimeout: { kind: 'positive', flag: '--shutdown-timeout <ms>', help: 'how long shutdown waits for GOODBYE replies' },
  store: { kind: 'string', flag: '--store <store>', help: 'retained state and history: memory, sqlite:<path> (durable), or redis://host:port[/db] (shared by router processes)' },
  nodeId: { kind: 'optionalString', flag: '--node-id <id>', help: 'this process\'s name in the cluster, with a redis store (default <hostname>-<pid>)' },
  leaseTime: { kind: 'positive', flag: '--lease-time <ms>', help: 'cluster lease: a dead node\'s sessions end (wills fire) within this plus half of it' },
  historySize: { kind: 'positive', flag: '--history-size <events>', help: 'events kept per realm for `after` replays, 0 = none' },
  historyAge: { kind: 'positive', flag: '--history-age <seconds>', help: 'how long an event stays in the history' },
  maxRetainedSize: { kind: 'positive', flag: '--max-retained-size <bytes>', help: 'largest retained value' },
  logLevel: { kind: 'string', flag: '--log-level <level>', help: 'log level', choices: LOG_LEVELS },
  logFormat: { kind: 'string', flag: '--log-format <format>', help: 'log lines: json, pretty, or auto (pretty on a terminal, json otherwise)', choices: LOG_FORMATS },
  metrics: { kind: 'boolean', flag: '--no-metrics', help: 'turn off the Prometheus metrics at /metrics (and the traffic counters of MQTT $SYS)' },
  users: { kind: 'users', help: 'users who may join, with a ticket, a wampcra secret, a cryptosign pubkey or wamp-scram keys (config file only)' },
  roles: { kind: 'roles', help: 'static permissions per realm and role (config file only), e.g. {"realm1": {"user": [{"uri": "com.app.", "match": "prefix", "allow": {"call": true}}]}}' },
  anonymous: { kind: 'optionalBoolean', help: 'whether clients may join anonymously (default: only when there are no users)' },
  schema: { kind: 'schema', help: 'information schema of the default realm: tables and aggregate views served on their topics (config file only)' },
  console: { kind: 'console', flag: '--console <authid>', help: 'serve the admin console at /console, for this configured user (with a ticket or a wampcra secret)' },
};

const KEYS = Object.keys(SETTINGS) as Key[];

/**
 * Reads the configuration: defaults, then `--config file.json|yaml`, then `FOX_*` environment variables,
 * then command-line flags (each later source wins). Throws `ConfigError` with a one-line message.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const flags = parseFlags(argv);
  const configPath = (flags.config as string | undefined) ?? env.FOX_CONFIG;
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };
  if (configPath !== undefined) Object.assign(merged, readConfigFile(configPath));
  for (const key of KEYS) {
    const raw = env[envName(key)];
    if (raw !== undefined && raw !== '') merged[key] = convert(key, raw, `environment variable ${envName(key)}`);
  }
  for (const key of KEYS) {
    if (flags[key] !== undefined) merged[key] = flags[key];
  }
  return validate(merged as unknown as ServerConfig);
}

export function envName(key: Key): string {
  return `FOX_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
}

function parseFlags(argv: readonly string[]): Record<string, unknown> {
  const program = new Command('fox-wamp')
    .description('fox-wamp router: WAMP v2 (WebSocket, RawSocket) and MQTT 3.1.1/5.0 (TCP, WebSocket), with a retained key-value state')
    .option('--config <file>', 'JSON or YAML configuration file')
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .allowExcessArguments(false);
  for (const key of KEYS) {
    const setting = SETTINGS[key];
    if (setting.flag === undefined) continue;
    const option = new Option(setting.flag, setting.help);
    if (setting.choices) option.choices(setting.choices as string[]);
    if (setting.kind !== 'boolean' && setting.kind !== 'string') {
      option.argParser((value: string) => {
        try {
          return convert(key, value, setting.flag!.split(' ')[0]!);
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      });
    }
    program.addOption(option);
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    const code = (error as { code?: string }).code;
    // Commander has written the help (or version) to stdout already; writing it again printed it twice.
    if (code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version') process.exit(0);
    throw new ConfigError((error as Error).message.replace(/^error: /, ''));
  }
  const options = program.opts();
  // A `--no-x` flag defaults to true in commander; only an explicit flag may override the file and env.
  for (const key of Object.keys(options)) if (program.getOptionValueSource(key) === 'default') delete options[key];
  return options;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let data: unknown;
  try {
    data = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must hold an object of settings`);
  }
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!(KEYS as string[]).includes(key)) {
      throw new ConfigError(`config file ${path}: unknown setting "${key}" (known: ${KEYS.join(', ')})`);
    }
    const kind = SETTINGS[key as Key].kind;
    result[key] = typeof value === 'string' && kind !== 'string' && kind !== 'users' && kind !== 'roles' && kind !== 'schema' ? convert(key as Key, value, `config ${key}`) : value;
  }
  return result;
}

function convert(key: Key, raw: string, where: string): unknown {
  switch (SETTINGS[key].kind) {
    case 'string':
    case 'optionalString':
      return raw;
    case 'users':
      // Secrets belong in a file with restricted permissions, not in the environment of every child process.
      throw new ConfigError(`${where}: users can only be set in the config file`);
    case 'roles':
      throw new ConfigError(`${where}: roles can only be set in the config file`);
    case 'schema':
      throw new ConfigError(`${where}: schema can only be set in the config file`);
    case 'console':
      return { user: raw };
    case 'boolean':
    case 'optionalBoolean':
      if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
      if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
      throw new ConfigError(`${where}: expected true or false, got "${raw}"`);
    case 'strings':
      return raw.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
    case 'perRealm':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new ConfigError(`${where}: expected a JSON object of realm settings`);
      }
    case 'port':
    case 'optionalPort':
    case 'positive': {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${where}: expected a whole number, got "${raw}"`);
      return value;
    }
  }
}

function validate(config: ServerConfig): ServerConfig {
  for (const key of KEYS) {
    const value = config[key];
    const setting = SETTINGS[key];
    const ok =
      setting.kind === 'string' ? typeof value === 'string' && value.length > 0
      : setting.kind === 'optionalString' ? value === undefined || (typeof value === 'string' && value.length > 0)
      : setting.kind === 'boolean' ? typeof value === 'boolean'
      : setting.kind === 'optionalBoolean' ? value === undefined || typeof value === 'boolean'
      : setting.kind === 'users' ? usersProblem(value) === undefined
      : setting.kind === 'roles' ? rolesProblem(value) === undefined
      : setting.kind === 'schema' ? schemaProblem(value) === undefined
      : setting.kind === 'console' ? value === undefined || isConsoleSetting(value)
      : setting.kind === 'strings' ? Array.isArray(value) && value.every((item) => typeof item === 'string')
      : setting.kind === 'perRealm' ? isPerRealm(value)
      : setting.kind === 'optionalPort' && value === undefined ? true
      : typeof value === 'number' && Number.isInteger(value) && value >= 0;
    // A user's secret must not end up in the message: say what is wrong with which user instead.
    if (!ok && setting.kind === 'users') throw new ConfigError(`setting users: ${usersProblem(value)}`);
    if (!ok && setting.kind === 'roles') throw new ConfigError(`setting roles: ${rolesProblem(value)}`);
    if (!ok && setting.kind === 'schema') throw new ConfigError(`setting schema: ${schemaProblem(value)}`);
    if (!ok) throw new ConfigError(`setting ${key} has an invalid value ${JSON.stringify(value)}`);
    if (setting.choices && !setting.choices.includes(value as string)) {
      throw new ConfigError(`setting ${key} must be one of ${setting.choices.join(', ')}; got "${String(value)}"`);
    }
  }
  if (config.port > 65535) throw new ConfigError(`port ${config.port} is out of range (0-65535)`);
  if (config.rawsocketPort !== undefined) {
    if (config.rawsocketPort > 65535) throw new ConfigError(`rawsocket port ${config.rawsocketPort} is out of range (0-65535)`);
    if (config.rawsocketPort === config.port && config.port !== 0) {
      throw new ConfigError(`rawsocket port ${config.rawsocketPort} is the HTTP port, which serves RawSocket already; choose another or leave it out`);
    }
  }
  if (!config.wampPath.startsWith('/')) throw new ConfigError(`wamp path must start with "/": "${config.wampPath}"`);
  if (config.mqttPort > 65535) throw new ConfigError(`mqtt port ${config.mqttPort} is out of range (0-65535)`);
  if (config.mqtt && config.mqttPort !== 0 && (config.mqttPort === config.port || config.mqttPort === config.rawsocketPort)) {
    throw new ConfigError(`mqtt port ${config.mqttPort} is already used by another listener; choose another`);
  }
  if (!config.mqttWsPath.startsWith('/')) throw new ConfigError(`mqtt ws path must start with "/": "${config.mqttWsPath}"`);
  if (config.mqttWsPath === config.wampPath) throw new ConfigError(`mqtt ws path and wamp path are both "${config.wampPath}"; choose different paths`);
  if (config.mqttMaxKeepalive < 1 || config.mqttMaxKeepalive > 65535) {
    throw new ConfigError(`mqtt max keepalive must be 1-65535 seconds; got ${config.mqttMaxKeepalive}`);
  }
  for (const realm of [config.realm, ...config.realms, ...Object.keys(config.perRealm)]) {
    if (!isValidUri(realm, 'concrete')) throw new ConfigError(`invalid realm name "${realm}"`);
  }
  if (config.maxMessageSize < 1024) throw new ConfigError(`max message size must be at least 1024 bytes`);
  if (config.store !== 'memory' && !/^sqlite:.+/.test(config.store) && !/^rediss?:\/\/.+/.test(config.store)) {
    throw new ConfigError(`store must be memory, sqlite:<path> or redis://host:port[/db]; got "${config.store}"`);
  }
  const realms = new Set([config.realm, ...config.realms, ...Object.keys(config.perRealm)]);
  const stranger = Object.keys(config.roles).find((realm) => !realms.has(realm));
  if (stranger !== undefined && !config.autoRealms) {
    throw new ConfigError(`roles name the realm "${stranger}", which is not one of this server's realms (${[...realms].join(', ')})`);
  }
  if (config.console !== undefined) checkConsole(config, realms);
  if (config.anonymous === false && config.users.length === 0) {
    throw new ConfigError('anonymous is false but no users are configured: nobody could join');
  }
  return config;
}

/** `{ user: "<authid>" }` and nothing else. */
function isConsoleSetting(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { user, ...rest } = value as Record<string, unknown>;
  return typeof user === 'string' && user.length > 0 && Object.keys(rest).length === 0;
}

/** The console's user must be one the page can log in as, and its realm must be its own. */
function checkConsole(config: ServerConfig, realms: ReadonlySet<string>): void {
  const { user: authid } = config.console!;
  const user = config.users.find((candidate) => candidate.authid === authid);
  if (user === undefined) throw new ConfigError(`console user "${authid}" is not one of the configured users`);
  if (user.ticket === undefined && user.secret === undefined) {
    throw new ConfigError(`console user "${authid}" needs a ticket or a wampcra secret (the console page logs in with one of them)`);
  }
  if (realms.has(CONSOLE_REALM)) throw new ConfigError(`realm ${CONSOLE_REALM} is the admin console's own; choose another name`);
  if (CONSOLE_REALM in config.roles) throw new ConfigError(`roles name the realm ${CONSOLE_REALM}, which is the admin console's own (only the console user joins it)`);
}

function usersProblem(value: unknown): string | undefined {
  try {
    checkStaticUsers(value);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Parsed here too, so that a mistake is one line at startup; `parseInformationSchema` names the place. */
function schemaProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseInformationSchema(value);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function rolesProblem(value: unknown): string | undefined {
  try {
    checkRealmRoles(value);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** `perRealm`: realm name → `{ uriCheck?: 'loose' | 'strict' }`; nothing else is per realm yet. */
function isPerRealm(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every(
    (settings) =>
      typeof settings === 'object' &&
      settings !== null &&
      Object.entries(settings).every(([key, item]) => key === 'uriCheck' && (item === 'loose' || item === 'strict')),
  );
}
