import { ErrorUri, RouterError } from '../router/errors.js';
import { compileFilter, isPlainObject, type ValueFilter } from '../retained/retained-value.js';
import { AGGREGATE_FUNCTIONS, isAggregateFunctionName, type AggregateFunctionName } from './aggregate-functions.js';
import { topicLevelProblem } from './row-key.js';
import { RowValidatorCompiler, type RowValidator } from './row-validator.js';
import {
  ROW_COUNT,
  type AggregateFieldDefinition,
  type AggregateFieldMapping,
  type AggregateTableDefinition,
  type FieldMapping,
  type ObjectTableDefinition,
  type PropagateRule,
  type TableDefinition,
} from './table-definitions.js';

/*
 * The information schema as JSON, in the seed README's shape: an object of tables.
 *
 *   "invoice": {                                   a table clients write: its rows are JSON Schema-validated
 *     "type": "object",
 *     "properties": { "date": {…}, "customer": {…}, "amount": { "type": "number" }, "type": {…} },
 *     "primary_key": [ "date", "customer" ],
 *     "propagate": {
 *       "detail": [{                               the aggregate table this rule feeds (a list of rules)
 *         "key": [ "customer" ],                   source fields giving detail's primary_key, in its order
 *         "fields": { "total": "amount" },         detail.total ← invoice.amount
 *         "filter": { "type": "sale" }             only rows matching this MongoDB-style query count
 *       }]
 *     }
 *   },
 *   "detail": {                                    a table the engine computes: one row per key
 *     "type": "aggregate",
 *     "primary_key": [ "customer" ],
 *     "sum": [ "total" ]                           aggregate fields by function: sum, count, min, max, avg
 *   }
 *
 * A field mapping may also name the function itself: `"fields": { "total": { "sum": "amount" } }`; then the
 * aggregate table need not list the field, and where both name it they must agree. `{ "n": { "count": "*" } }`
 * counts rows (a count of a field counts the rows where it is present and not null). `key` may also map each
 * target key field by name: `"key": { "customer": "buyer" }`. An aggregate table may itself `propagate` to
 * another aggregate table (its rows are then the source rows); its key fields come from its primary key.
 * Aggregate tables may carry `properties`, `title` and `description` as documentation.
 */
export interface InformationSchemaJson {
  readonly [table: string]: ObjectTableJson | AggregateTableJson;
}

export interface ObjectTableJson {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, unknown>>;
  readonly primary_key: readonly string[];
  readonly propagate?: PropagateJson;
  /** Any other JSON Schema keyword (`required`, `additionalProperties`, …) applies to the rows. */
  readonly [keyword: string]: unknown;
}

export type AggregateTableJson = {
  readonly type: 'aggregate';
  readonly primary_key: readonly string[];
  readonly propagate?: PropagateJson;
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly title?: string;
  readonly description?: string;
} & { readonly [fn in AggregateFunctionName]?: readonly string[] };

export interface PropagateJson {
  readonly [target: string]: PropagateRuleJson | readonly PropagateRuleJson[];
}

export interface PropagateRuleJson {
  readonly key: readonly string[] | Readonly<Record<string, string>>;
  readonly fields?: Readonly<Record<string, string | { readonly [fn in AggregateFunctionName]?: string }>>;
  readonly filter?: Readonly<Record<string, unknown>>;
}

/** A parsed, checked information schema. Build it with `parseInformationSchema`. */
export class InformationSchema {
  constructor(
    private readonly tables: ReadonlyMap<string, TableDefinition>,
    /** The aggregate tables, each after every aggregate table that propagates into it. */
    readonly propagationOrder: readonly AggregateTableDefinition[],
  ) {}

  get tableNames(): string[] {
    return [...this.tables.keys()];
  }

  table(name: string): TableDefinition | undefined {
    return this.tables.get(name);
  }
}

const AGGREGATE_TABLE_KEYWORDS: readonly string[] = ['type', 'primary_key', 'propagate', 'properties', 'title', 'description', ...AGGREGATE_FUNCTIONS];
const RULE_KEYWORDS: readonly string[] = ['key', 'fields', 'filter'];

function schemaError(path: string, problem: string): RouterError {
  return new RouterError(ErrorUri.invalidArgument, `information schema: ${path}: ${problem}`);
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

interface TableDraft {
  readonly name: string;
  readonly kind: 'object' | 'aggregate';
  readonly json: Record<string, unknown>;
  readonly primaryKey: readonly string[];
  /** Object tables: the declared properties; aggregate tables: empty. */
  readonly properties: ReadonlySet<string>;
  readonly validator?: RowValidator;
  /** Aggregate tables: field → function, from the table's lists and then from the rules' explicit forms. */
  readonly functions: Map<string, AggregateFunctionName>;
}

interface FieldDraft {
  readonly target: string;
  readonly source: string;
  readonly path: string;
}

interface RuleDraft {
  readonly source: TableDraft;
  readonly target: TableDraft;
  readonly path: string;
  readonly key: readonly FieldMapping[];
  readonly fields: readonly FieldDraft[];
  readonly filter?: ValueFilter;
}

/**
 * Parses and checks an information schema. Every problem is an invalid argument (`wamp.error.invalid_argument`)
 * whose message names the place: `information schema: invoice.propagate.detail[0].fields.total: …`.
 */
export function parseInformationSchema(json: unknown): InformationSchema {
  if (!isPlainObject(json)) {
    throw schemaError('(root)', `must be an object of tables, { "<table>": { "type": "object" | "aggregate", … } }; got ${show(json)}`);
  }
  const compiler = new RowValidatorCompiler();
  const drafts = new Map<string, TableDraft>();
  for (const [name, table] of Object.entries(json)) drafts.set(name, tableDraft(name, table, compiler));

  const rules: RuleDraft[] = [];
  for (const source of drafts.values()) rules.push(...ruleDrafts(source, drafts));
  for (const draft of drafts.values()) {
    if (draft.kind === 'aggregate') checkFed(draft, rules);
  }
  const resolved = rules.map(resolveRule);

  const tables = new Map<string, TableDefinition>();
  for (const draft of drafts.values()) {
    const propagate = resolved.filter((rule) => rule.source === draft.name);
    tables.set(draft.name, definitionOf(draft, propagate));
  }
  return new InformationSchema(tables, propagationOrder(tables, resolved));
}

function tableDraft(name: string, table: unknown, compiler: RowValidatorCompiler): TableDraft {
  const nameProblem = topicLevelProblem(name) ?? (name.startsWith('$') ? 'starts with $ (reserved for system topics)' : undefined);
  if (nameProblem !== undefined) throw schemaError(show(name), `a table name is a topic level; this one ${nameProblem}`);
  if (!isPlainObject(table)) throw schemaError(name, `a table definition must be an object; got ${show(table)}`);
  const primaryKey = primaryKeyOf(table.primary_key, `${name}.primary_key`);
  if (table.type === 'object') return objectTableDraft(name, table, primaryKey, compiler);
  if (table.type === 'aggregate') return aggregateTableDraft(name, table, primaryKey);
  throw schemaError(`${name}.type`, `must be "object" (rows clients write) or "aggregate" (rows the engine computes); got ${show(table.type)}`);
}

function primaryKeyOf(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((field) => typeof field === 'string' && field !== '')) {
    throw schemaError(path, `must be a non-empty list of field names; got ${show(value)}`);
  }
  const fields = value as string[];
  const repeated = fields.find((field, index) => fields.indexOf(field) !== index);
  if (repeated !== undefined) throw schemaError(path, `lists ${show(repeated)} twice`);
  return fields;
}

function objectTableDraft(name: string, table: Record<string, unknown>, primaryKey: string[], compiler: RowValidatorCompiler): TableDraft {
  const properties = table.properties;
  if (!isPlainObject(properties)) {
    throw schemaError(`${name}.properties`, `must be an object of field schemas (JSON Schema); got ${show(properties)}`);
  }
  for (const field of primaryKey) {
    if (!Object.hasOwn(properties, field)) throw schemaError(`${name}.primary_key`, `${show(field)} is not one of ${name}'s properties`);
  }
  // What is left once the engine's own keywords are taken out is the JSON Schema of a row.
  const { primary_key: _primaryKey, propagate: _propagate, ...rowSchema } = table;
  let validator: RowValidator;
  try {
    validator = compiler.compile(name, rowSchema);
  } catch (error) {
    throw schemaError(name, `not a valid JSON Schema for its rows: ${(error as Error).message}`);
  }
  return { name, kind: 'object', json: table, primaryKey, properties: new Set(Object.keys(properties)), validator, functions: new Map() };
}

function aggregateTableDraft(name: string, table: Record<string, unknown>, primaryKey: string[]): TableDraft {
  for (const keyword of Object.keys(table)) {
    if (!AGGREGATE_TABLE_KEYWORDS.includes(keyword)) {
      throw schemaError(`${name}.${keyword}`, `is not a keyword of an aggregate table (${AGGREGATE_TABLE_KEYWORDS.join(', ')})`);
    }
  }
  if (table.properties !== undefined && !isPlainObject(table.properties)) {
    throw schemaError(`${name}.properties`, `must be an object; got ${show(table.properties)}`);
  }
  const functions = new Map<string, AggregateFunctionName>();
  for (const fn of AGGREGATE_FUNCTIONS) {
    const fields = table[fn];
    if (fields === undefined) continue;
    const path = `${name}.${fn}`;
    if (!Array.isArray(fields)) throw schemaError(path, `must be a list of aggregate field names; got ${show(fields)}`);
    for (const field of fields) {
      if (typeof field !== 'string' || field === '') throw schemaError(path, `a field name must be a non-empty string; got ${show(field)}`);
      if (primaryKey.includes(field)) throw schemaError(path, `${show(field)} is a primary-key field of ${name}, not an aggregate field`);
      const earlier = functions.get(field);
      if (earlier !== undefined) throw schemaError(path, `${show(field)} is already a ${earlier} field`);
      functions.set(field, fn);
    }
  }
  return { name, kind: 'aggregate', json: table, primaryKey, properties: new Set(), functions };
}

function ruleDrafts(source: TableDraft, drafts: ReadonlyMap<string, TableDraft>): RuleDraft[] {
  const propagate = source.json.propagate;
  if (propagate === undefined) return [];
  const path = `${source.name}.propagate`;
  if (!isPlainObject(propagate)) throw schemaError(path, `must be an object, { "<aggregate table>": [rules] }; got ${show(propagate)}`);
  const rules: RuleDraft[] = [];
  for (const [targetName, listed] of Object.entries(propagate)) {
    const targetPath = `${path}.${targetName}`;
    const target = drafts.get(targetName);
    if (target === undefined) throw schemaError(targetPath, `there is no table ${show(targetName)}`);
    if (target.kind !== 'aggregate') throw schemaError(targetPath, `${targetName} is a type: object table; rules propagate to aggregate tables only`);
    const list: unknown[] = Array.isArray(listed) ? listed : [listed];
    if (list.length === 0) throw schemaError(targetPath, 'the list of rules is empty');
    list.forEach((rule, index) => rules.push(ruleDraft(source, target, rule, `${targetPath}[${index}]`)));
  }
  return rules;
}

function ruleDraft(source: TableDraft, target: TableDraft, rule: unknown, path: string): RuleDraft {
  if (!isPlainObject(rule)) throw schemaError(path, `a propagate rule must be an object { key, fields, filter }; got ${show(rule)}`);
  for (const keyword of Object.keys(rule)) {
    if (!RULE_KEYWORDS.includes(keyword)) throw schemaError(`${path}.${keyword}`, `is not a keyword of a propagate rule (${RULE_KEYWORDS.join(', ')})`);
  }
  const key = keyMappingOf(source, target, rule.key, `${path}.key`);
  const fields = fieldDraftsOf(target, rule.fields, `${path}.fields`);
  let filter: ValueFilter | undefined;
  if (rule.filter !== undefined) {
    try {
      filter = compileFilter(rule.filter);
    } catch (error) {
      throw schemaError(`${path}.filter`, (error as Error).message);
    }
  }
  return { source, target, path, key, fields, ...(filter === undefined ? {} : { filter }) };
}

function keyMappingOf(source: TableDraft, target: TableDraft, key: unknown, path: string): FieldMapping[] {
  let mapping: FieldMapping[];
  if (Array.isArray(key)) {
    // The seed's form: source fields in the order of the target's primary key.
    if (key.length !== target.primaryKey.length) {
      throw schemaError(path, `must list ${target.primaryKey.length} source field(s), one per key field of ${target.name} (${target.primaryKey.join(', ')}); got ${show(key)}`);
    }
    mapping = target.primaryKey.map((field, index) => ({ target: field, source: key[index] as string }));
  } else if (isPlainObject(key)) {
    const named = Object.keys(key);
    const stray = named.find((field) => !target.primaryKey.includes(field));
    if (stray !== undefined) throw schemaError(path, `${show(stray)} is not a key field of ${target.name} (${target.primaryKey.join(', ')})`);
    const missing = target.primaryKey.find((field) => !named.includes(field));
    if (missing !== undefined) throw schemaError(path, `does not map the key field ${show(missing)} of ${target.name}`);
    mapping = target.primaryKey.map((field) => ({ target: field, source: key[field] as string }));
  } else {
    throw schemaError(path, `must list the source fields giving ${target.name}'s primary key (${target.primaryKey.join(', ')}), or map each key field to a source field; got ${show(key)}`);
  }
  for (const { source: field } of mapping) {
    if (typeof field !== 'string') throw schemaError(path, `a source field name must be a string; got ${show(field)}`);
    // An aggregate source groups by its own key only: its aggregate values change with every contribution.
    const known = source.kind === 'object' ? source.properties.has(field) : source.primaryKey.includes(field);
    if (!known) {
      const where = source.kind === 'object' ? `one of ${source.name}'s properties` : `a primary-key field of ${source.name}`;
      throw schemaError(path, `${show(field)} is not ${where}`);
    }
  }
  return mapping;
}

/** The field mappings of a rule; an explicit function (`{ total: { sum: 'amount' } }`) is recorded on the target. */
function fieldDraftsOf(target: TableDraft, fields: unknown, path: string): FieldDraft[] {
  if (fields === undefined) return [];
  if (!isPlainObject(fields)) throw schemaError(path, `must map aggregate fields of ${target.name} to source fields; got ${show(fields)}`);
  return Object.entries(fields).map(([field, mapped]) => {
    const fieldPath = `${path}.${field}`;
    if (typeof mapped === 'string') return { target: field, source: mapped, path: fieldPath };
    const entries = isPlainObject(mapped) ? Object.entries(mapped) : [];
    const [fn, source] = entries[0] ?? [];
    if (entries.length !== 1 || !isAggregateFunctionName(fn) || typeof source !== 'string') {
      throw schemaError(
        fieldPath,
        `must be a source field name, or one function and its source field such as { "sum": "amount" } (functions: ${AGGREGATE_FUNCTIONS.join(', ')}); got ${show(mapped)}`,
      );
    }
    if (target.primaryKey.includes(field)) throw schemaError(fieldPath, `${field} is a primary-key field of ${target.name}, not an aggregate field`);
    const declared = target.functions.get(field);
    if (declared !== undefined && declared !== fn) throw schemaError(fieldPath, `${target.name}.${field} is a ${declared} field, not ${fn}`);
    target.functions.set(field, fn);
    return { target: field, source, path: fieldPath };
  });
}

function resolveRule(rule: RuleDraft): PropagateRule {
  const { source, target } = rule;
  const fields = rule.fields.map(({ target: field, source: from, path }): AggregateFieldMapping => {
    const fn = target.functions.get(field);
    if (fn === undefined) {
      throw schemaError(path, `${target.name} has no aggregate field ${show(field)}: list it under ${AGGREGATE_FUNCTIONS.join('/')} in ${target.name}, or name its function here, as in { "${field}": { "sum": ${show(from)} } }`);
    }
    if (from === ROW_COUNT) {
      if (fn !== 'count') throw schemaError(path, `"${ROW_COUNT}" (every row) is a source for count only; ${target.name}.${field} is a ${fn} field`);
    } else if (!(source.kind === 'object' ? source.properties.has(from) : source.primaryKey.includes(from) || source.functions.has(from))) {
      throw schemaError(path, `${show(from)} is not a field of ${source.name}`);
    }
    return { target: field, source: from, fn };
  });
  return {
    source: source.name,
    target: target.name,
    path: rule.path,
    key: rule.key,
    fields,
    ...(rule.filter === undefined ? {} : { filter: rule.filter }),
  };
}

/** Every aggregate table needs a rule feeding it, and every aggregate field a rule giving it values. */
function checkFed(table: TableDraft, rules: readonly RuleDraft[]): void {
  const incoming = rules.filter((rule) => rule.target === table);
  if (incoming.length === 0) throw schemaError(table.name, `no table propagates to the aggregate table ${table.name}`);
  for (const [field, fn] of table.functions) {
    if (!incoming.some((rule) => rule.fields.some((mapping) => mapping.target === field))) {
      throw schemaError(`${table.name}.${field}`, `no propagate rule gives the ${fn} field ${field} a source field`);
    }
  }
}

function definitionOf(draft: TableDraft, propagate: readonly PropagateRule[]): TableDefinition {
  if (draft.kind === 'object') {
    const table: ObjectTableDefinition = { kind: 'object', name: draft.name, primaryKey: draft.primaryKey, validator: draft.validator!, propagate };
    return table;
  }
  const fields: AggregateFieldDefinition[] = [...draft.functions].map(([name, fn]) => ({ name, fn }));
  const table: AggregateTableDefinition = { kind: 'aggregate', name: draft.name, primaryKey: draft.primaryKey, fields, propagate };
  return table;
}

/**
 * The aggregate tables in an order where each comes after every aggregate table that propagates into it
 * (declaration order among the rest), so one pass settles every row before it propagates further.
 */
function propagationOrder(tables: ReadonlyMap<string, TableDefinition>, rules: readonly PropagateRule[]): AggregateTableDefinition[] {
  const remaining = [...tables.values()].filter((table): table is AggregateTableDefinition => table.kind === 'aggregate');
  const feeders = new Map(remaining.map((table) => [table.name, new Set(rules.filter((rule) => rule.target === table.name).map((rule) => rule.source))]));
  const order: AggregateTableDefinition[] = [];
  const placed = new Set(
    [...tables.values()].filter((table) => table.kind === 'object').map((table) => table.name),
  );
  while (remaining.length > 0) {
    const next = remaining.findIndex((table) => [...feeders.get(table.name)!].every((feeder) => placed.has(feeder)));
    if (next < 0) {
      throw schemaError(remaining.map((table) => table.name).join(', '), 'these aggregate tables propagate in a cycle (or from a table in one)');
    }
    const [table] = remaining.splice(next, 1);
    order.push(table!);
    placed.add(table!.name);
  }
  return order;
}
