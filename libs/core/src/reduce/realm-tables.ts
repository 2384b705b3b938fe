import { isDeepStrictEqual } from 'node:util';
import { AggregateEngine, type RowChange } from '../aggregate/aggregate-engine.js';
import { parseInformationSchema, type InformationSchema } from '../aggregate/information-schema.js';
import { keyLevelsOf } from '../aggregate/row-key.js';
import type { ObjectTableDefinition, TableDefinition } from '../aggregate/table-definitions.js';
import type { MetaService } from '../meta/meta-service.js';
import { payloadSize } from '../retained/payload-size.js';
import { isDeletion, valueOf } from '../retained/retained-value.js';
import { ErrorUri, RouterError } from '../router/errors.js';
import type { RouterLogger } from '../router/logger.js';
import type { PublishOptions } from '../router/options.js';
import { EMPTY_PAYLOAD, type Payload } from '../router/payload.js';
import type { PublicationPipeline } from '../router/publication-pipeline.js';
import { Sequencer } from '../router/sequencer.js';
import type { Session } from '../router/session.js';
import { topicKey, wampUriOf, type TopicLevels } from '../router/topic.js';
import { hiddenKey } from './hidden-topics.js';
import { RetainedRowStore } from './retained-row-store.js';

/** Where a schema defined at runtime is kept, so that a durable store still has it after a restart. */
const SCHEMA_KEY = hiddenKey('schema');

export const SCHEMA_DEFINE_PROCEDURE = 'fox.schema.define';
export const SCHEMA_GET_PROCEDURE = 'fox.schema.get';

export interface RealmTablesSettings {
  /** The realm's information schema from its options (config file, module options); fixed for its lifetime. */
  readonly schema?: unknown;
  /** Largest retained payload in bytes: a row over it is refused before anything is written. */
  readonly maxRetainedSize: number;
}

/**
 * The aggregate engine of one realm, on the realm's topics: the tables of its information schema are topics,
 * their rows retained entries.
 *
 * Writing (publishing to a `type: object` table `invoice` keyed by `number`):
 * - `invoice` with the row as the publication's value (kwargs, or one arg: an MQTT JSON payload), or
 *   `invoice.<number>` with the row, whose key must then be the topic's: validates the row against the
 *   table's JSON Schema and upserts it;
 * - `invoice.<number>` with an empty payload deletes the row.
 * A row that fails validation is refused with `wamp.error.invalid_argument`, args `[message]` and kwargs
 * `{ table, errors: [{ path, message }] }`; nothing is written. So is a publish on an aggregate table, on a
 * topic below a table that is not `<table>.<key…>`, or with `when`, `watch` or `will`. `retain` changes
 * nothing: rows are always retained.
 *
 * Reading: every row an operation changes is published as a retained write on `<table>.<key…>`, the row as
 * the event's one positional argument (MQTT: its JSON), a deleted row as an empty event: the operation's
 * own row first (as the publisher's publication, with its options such as `exclude_me`), then the aggregate
 * rows that changed, level by level (as the router's). A subscriber with `retained: true` to `detail.#` (MQTT
 * `detail/#`) gets the current view, then every change. The publisher's PUBLISHED comes once all of them are
 * stored and delivered, with the publication ID of its own row.
 *
 * Operations run one at a time, in arrival order, across the realm's tables. The schema comes from the
 * realm's options, or once at runtime from `fox.schema.define` (kept in the store, reloaded at startup);
 * either way it cannot change while the realm runs (the views follow the schema they were built with).
 */
export class RealmTables {
  private engine: AggregateEngine | undefined;
  private schemaJson: unknown;
  private readonly fixed: boolean;
  private readonly queue = new Sequencer();

  constructor(
    private readonly realmName: string,
    private readonly pipeline: PublicationPipeline,
    router: MetaService,
    private readonly settings: RealmTablesSettings,
    private readonly logger: RouterLogger,
  ) {
    this.fixed = settings.schema !== undefined;
    if (settings.schema !== undefined) this.install(parseInformationSchema(settings.schema), settings.schema);
    router.register(SCHEMA_DEFINE_PROCEDURE, (args, kwargs) => this.define(args[0] ?? (Object.keys(kwargs).length > 0 ? kwargs : undefined)));
    router.register(SCHEMA_GET_PROCEDURE, () => ({ args: [this.schemaJson ?? null] }));
  }

  /** Whether the realm has tables: until then no publication is theirs. */
  get active(): boolean {
    return this.engine !== undefined;
  }

  get schema(): InformationSchema | undefined {
    return this.engine?.schema;
  }

  /** At realm start: takes up a schema defined at runtime before a restart (unless the options fix one). */
  async restore(): Promise<void> {
    if (this.fixed) return;
    const entry = await this.pipeline.get(SCHEMA_KEY);
    if (entry === undefined) return;
    const json = valueOf(entry.payload);
    try {
      this.install(parseInformationSchema(json), json);
    } catch (error) {
      this.logger.error('the stored information schema is not valid any more; the realm has no tables', { realm: this.realmName, error: String(error) });
    }
  }

  /**
   * Takes a publication on a table's topic (`levels[0]` names a table); resolves to the publication ID of the
   * row it wrote. Undefined: not a table's topic.
   */
  route(publisher: Session | undefined, levels: TopicLevels, payload: Payload, options: PublishOptions): Promise<number> | undefined {
    const engine = this.engine;
    const table = engine?.schema.table(levels[0]!);
    if (engine === undefined || table === undefined) return undefined;
    return this.write(engine, table, publisher, levels, payload, options);
  }

  /** Resolves once every operation queued so far has been applied (its publications queued in the pipeline). */
  settled(): Promise<void> {
    return this.queue.run(() => undefined);
  }

  private async write(
    engine: AggregateEngine,
    table: TableDefinition,
    publisher: Session | undefined,
    levels: TopicLevels,
    payload: Payload,
    options: PublishOptions,
  ): Promise<number> {
    const topic = wampUriOf(levels);
    if (table.kind === 'aggregate') throw invalid(`${topic}: ${table.name} is an aggregate table; the engine computes its rows, nobody writes them`);
    if (options.when !== undefined || options.watch || options.will !== undefined) {
      throw invalid(`${topic}: rows of ${table.name} take no when, watch or will`);
    }
    const key = levels.slice(1);
    if (key.length !== 0 && key.length !== table.primaryKey.length) throw invalid(`${topic} is not a row topic: ${rowTopics(table)}`);
    let operation: () => Promise<RowChange[]>;
    if (isDeletion(payload)) {
      if (key.length === 0) throw invalid(`an empty publication deletes a row; publish it on ${table.name}.${keyPlaceholder(table)}`);
      operation = () => engine.delete(table.name, key);
    } else {
      const row = this.checkedRow(table, key, valueOf(payload));
      operation = () => engine.upsert(table.name, row);
    }
    // The queue operation ends once the changes are queued in the pipeline (in order, ahead of the next
    // operation's reads); the publisher waits for them to be applied.
    const { published } = await this.queue.run(async () => ({ published: this.publish(publisher, options, await operation()) }));
    return published;
  }

  /** What can be checked before the engine runs: a row too big to store, a row whose key is not its topic's. */
  private checkedRow(table: ObjectTableDefinition, key: TopicLevels, row: unknown): unknown {
    const limit = this.settings.maxRetainedSize;
    if (payloadSize({ args: [row] }, limit) > limit) throw invalid(`the ${table.name} row is over the retained size limit of ${limit} bytes`);
    if (key.length === 0) return row;
    const valid = table.validator.validate(row);
    const own = keyLevelsOf(table.name, table.primaryKey, valid);
    if (!isDeepStrictEqual(own, key)) {
      throw invalid(`the row's key ${own.join('.')} is not the topic's ${key.join('.')}: publish it on ${table.name}.${own.join('.')} or on ${table.name}`);
    }
    return valid;
  }

  /** Publishes an operation's changes, all queued before this returns; resolves with the first's publication ID. */
  private publish(publisher: Session | undefined, options: PublishOptions, changes: readonly RowChange[]): Promise<number> {
    const publications = changes.map((change, index) => {
      const levels = [change.table, ...change.key];
      const payload = change.row === null ? EMPTY_PAYLOAD : { args: [change.row] };
      // The operation's own row is the publisher's publication; the aggregate rows are the router's.
      const [by, with_] = index === 0 ? [publisher, { ...options, retain: true }] : [undefined, { retain: true }];
      try {
        return this.pipeline.publish(by, topicKey(levels), levels, payload, with_);
      } catch (error) {
        return Promise.reject(error);
      }
    });
    return Promise.all(publications).then((ids) => ids[0]!);
  }

  private async define(json: unknown): Promise<Payload> {
    if (json === undefined) throw invalid(`${SCHEMA_DEFINE_PROCEDURE} takes the information schema as its argument (or as its kwargs)`);
    const schema = parseInformationSchema(json);
    return this.queue.run(async () => {
      if (this.engine !== undefined) {
        if (isDeepStrictEqual(json, this.schemaJson)) return this.described();
        throw invalid(
          `realm ${this.realmName} has an information schema already (tables ${this.engine.schema.tableNames.join(', ')}); it cannot be replaced while the router runs`,
        );
      }
      await this.pipeline.storeInternal(SCHEMA_KEY, { args: [json] });
      this.install(schema, json);
      this.logger.info('information schema defined', { realm: this.realmName, tables: schema.tableNames });
      return this.described();
    });
  }

  private install(schema: InformationSchema, json: unknown): void {
    this.engine = new AggregateEngine(schema, new RetainedRowStore(this.pipeline, schema));
    this.schemaJson = json;
  }

  private described(): Payload {
    return { kwargs: { tables: this.engine!.schema.tableNames } };
  }
}

function invalid(message: string): RouterError {
  return new RouterError(ErrorUri.invalidArgument, message);
}

function keyPlaceholder(table: TableDefinition): string {
  return table.primaryKey.map((field) => `<${field}>`).join('.');
}

function rowTopics(table: TableDefinition): string {
  return `publish rows on ${table.name} or ${table.name}.${keyPlaceholder(table)}`;
}
