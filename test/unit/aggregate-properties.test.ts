import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AggregateEngine, MemoryRowStore, parseInformationSchema, type Row, type RowChange } from '@fox-wamp/core';

/*
 * The incremental views must always equal a from-scratch recomputation. The schema exercises every
 * function, filters, two rules from one table into one aggregate, two source tables into one aggregate, and
 * a second level of aggregates (one with a filter on the first level's rows). Amounts are integers, so
 * sums, and averages of sums, are exact and can be compared with `toEqual`.
 */
const SCHEMA = {
  invoice: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      customer: { type: 'string' },
      region: { type: 'string' },
      type: { enum: ['sale', 'refund'] },
      amount: { type: ['integer', 'null'] },
    },
    required: ['id', 'customer', 'region', 'type'],
    additionalProperties: false,
    primary_key: ['id'],
    propagate: {
      customer_totals: [
        {
          key: ['region', 'customer'],
          filter: { type: 'sale' },
          fields: {
            sales: { sum: 'amount' },
            invoices: { count: '*' },
            priced: { count: 'amount' },
            smallest: { min: 'amount' },
            largest: { max: 'amount' },
            average: { avg: 'amount' },
          },
        },
        { key: ['region', 'customer'], filter: { type: 'refund' }, fields: { refunds: { sum: 'amount' } } },
      ],
    },
  },
  payment: {
    type: 'object',
    properties: { id: { type: 'integer' }, customer: { type: 'string' }, region: { type: 'string' }, paid: { type: 'integer' } },
    required: ['id', 'customer', 'region', 'paid'],
    primary_key: ['id'],
    propagate: { customer_totals: [{ key: { region: 'region', customer: 'customer' }, fields: { paid: { sum: 'paid' } } }] },
  },
  customer_totals: {
    type: 'aggregate',
    primary_key: ['region', 'customer'],
    propagate: {
      region_totals: [
        {
          key: ['region'],
          fields: {
            sales: { sum: 'sales' },
            customers: { count: '*' },
            smallest: { min: 'smallest' },
            largest: { max: 'largest' },
            average_sales: { avg: 'sales' },
            paid: { sum: 'paid' },
          },
        },
      ],
      big_customers: [{ key: ['region'], filter: { sales: { $gte: 40 } }, fields: { customers: { count: '*' } } }],
    },
  },
  region_totals: { type: 'aggregate', primary_key: ['region'] },
  big_customers: { type: 'aggregate', primary_key: ['region'] },
};

const SOURCE_TABLES = ['invoice', 'payment'] as const;
const AGGREGATE_TABLES = ['customer_totals', 'region_totals', 'big_customers'] as const;
const ALL_TABLES = [...SOURCE_TABLES, ...AGGREGATE_TABLES];
type SourceTable = (typeof SOURCE_TABLES)[number];

interface Invoice {
  readonly id: number;
  readonly customer: string;
  readonly region: string;
  readonly type: 'sale' | 'refund';
  readonly amount?: number | null;
}

interface Payment {
  readonly id: number;
  readonly customer: string;
  readonly region: string;
  readonly paid: number;
}

type Operation =
  | { readonly kind: 'upsert'; readonly table: SourceTable; readonly row: Invoice | Payment }
  | { readonly kind: 'delete'; readonly table: SourceTable; readonly id: number }
  /** A new engine over the same store: the bookkeeping must come from the store, not from memory. */
  | { readonly kind: 'restart' };

// A small key space, so that updates and deletes often hit existing rows and groups.
const id = fc.integer({ min: 0, max: 4 });
const customer = fc.constantFrom('ann', 'bob', 'cy');
const region = fc.constantFrom('north', 'south');
const invoice: fc.Arbitrary<Invoice> = fc.record(
  { id, customer, region, type: fc.constantFrom('sale' as const, 'refund' as const), amount: fc.oneof(fc.integer({ min: -30, max: 60 }), fc.constant(null)) },
  { requiredKeys: ['id', 'customer', 'region', 'type'] },
);
const payment: fc.Arbitrary<Payment> = fc.record({ id, customer, region, paid: fc.integer({ min: 0, max: 50 }) });
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 5, arbitrary: invoice.map((row) => ({ kind: 'upsert', table: 'invoice', row }) as const) },
  { weight: 2, arbitrary: id.map((id) => ({ kind: 'delete', table: 'invoice', id }) as const) },
  { weight: 2, arbitrary: payment.map((row) => ({ kind: 'upsert', table: 'payment', row }) as const) },
  { weight: 1, arbitrary: id.map((id) => ({ kind: 'delete', table: 'payment', id }) as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' } as const) },
);

/** The source rows an operation sequence leaves, per table and id: the model the views are recomputed from. */
class SourceModel {
  readonly invoice = new Map<number, Invoice>();
  readonly payment = new Map<number, Payment>();

  apply(op: Operation): void {
    if (op.kind === 'upsert') (this[op.table] as Map<number, Invoice | Payment>).set(op.row.id, op.row);
    else if (op.kind === 'delete') this[op.table].delete(op.id);
  }
}

/** Tables as `key → row` maps, the key being the row's topic levels joined by `.`. */
type Tables = Record<string, Map<string, Row>>;

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
const present = <T>(values: readonly (T | null | undefined)[]): T[] => values.filter((value): value is T => value !== null && value !== undefined);

function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}

/**
 * Every table computed from scratch, written from the schema's meaning (as SQL GROUP BY would), not from
 * the engine's code: a group exists while any row counts in it; functions skip missing and null values.
 */
function recompute(model: SourceModel): Tables {
  const tables: Tables = {
    invoice: new Map([...model.invoice.values()].map((row) => [String(row.id), row as unknown as Row])),
    payment: new Map([...model.payment.values()].map((row) => [String(row.id), row as unknown as Row])),
  };

  const invoices = groupBy(model.invoice.values(), (row) => `${row.region}.${row.customer}`);
  const payments = groupBy(model.payment.values(), (row) => `${row.region}.${row.customer}`);
  const customerTotals = new Map<string, Row>();
  for (const key of new Set([...invoices.keys(), ...payments.keys()])) {
    const [regionName, customerName] = key.split('.');
    const rows = invoices.get(key) ?? [];
    const sales = rows.filter((row) => row.type === 'sale');
    const amounts = present(sales.map((row) => row.amount));
    customerTotals.set(key, {
      region: regionName,
      customer: customerName,
      sales: sum(amounts),
      invoices: sales.length,
      priced: amounts.length,
      smallest: amounts.length === 0 ? null : Math.min(...amounts),
      largest: amounts.length === 0 ? null : Math.max(...amounts),
      average: amounts.length === 0 ? null : sum(amounts) / amounts.length,
      refunds: sum(present(rows.filter((row) => row.type === 'refund').map((row) => row.amount))),
      paid: sum((payments.get(key) ?? []).map((row) => row.paid)),
    });
  }
  tables.customer_totals = customerTotals;

  const byRegion = groupBy(customerTotals.values(), (row) => row.region as string);
  const regionTotals = new Map<string, Row>();
  const bigCustomers = new Map<string, Row>();
  for (const [regionName, customers] of byRegion) {
    const sales = customers.map((row) => row.sales as number);
    const smallest = present(customers.map((row) => row.smallest as number | null));
    const largest = present(customers.map((row) => row.largest as number | null));
    regionTotals.set(regionName, {
      region: regionName,
      sales: sum(sales),
      customers: customers.length,
      smallest: smallest.length === 0 ? null : Math.min(...smallest),
      largest: largest.length === 0 ? null : Math.max(...largest),
      average_sales: sum(sales) / sales.length,
      paid: sum(customers.map((row) => row.paid as number)),
    });
    const big = customers.filter((row) => (row.sales as number) >= 40).length;
    if (big > 0) bigCustomers.set(regionName, { region: regionName, customers: big });
  }
  tables.region_totals = regionTotals;
  tables.big_customers = bigCustomers;
  return tables;
}

function storedTables(store: MemoryRowStore): Tables {
  return Object.fromEntries(ALL_TABLES.map((table) => [table, new Map(store.entries(table).map((entry) => [entry.key.join('.'), entry.row]))]));
}

/** Comparable form: each table's rows sorted by key. */
function sorted(tables: Tables): Record<string, [string, Row][]> {
  return Object.fromEntries(ALL_TABLES.map((table) => [table, [...(tables[table] ?? new Map()).entries()].sort(([a], [b]) => (a < b ? -1 : 1))]));
}

/**
 * What a subscriber to every table sees: the rows built from nothing but the change events. Each change
 * must name a row once per operation, and an aggregate change must really change the row.
 */
class SubscriberView {
  readonly tables: Tables = Object.fromEntries(ALL_TABLES.map((table) => [table, new Map<string, Row>()]));

  apply(changes: readonly RowChange[]): void {
    const seen = new Set<string>();
    for (const [index, change] of changes.entries()) {
      const id = change.key.join('.');
      expect(seen.has(`${change.table}:${id}`), `${change.table}.${id} reported twice in one operation`).toBe(false);
      seen.add(`${change.table}:${id}`);
      const rows = this.tables[change.table]!;
      if (index > 0) expect(change.row, `${change.table}.${id} reported without a change`).not.toEqual(rows.get(id) ?? null);
      if (change.row === null) rows.delete(id);
      else rows.set(id, change.row);
    }
  }
}

function engineOver(store: MemoryRowStore): AggregateEngine {
  return new AggregateEngine(parseInformationSchema(SCHEMA), store);
}

function run(engine: AggregateEngine, op: Exclude<Operation, { kind: 'restart' }>): Promise<RowChange[]> {
  return op.kind === 'upsert' ? engine.upsert(op.table, op.row) : engine.delete(op.table, [op.id]);
}

describe('aggregate views against a from-scratch recomputation', () => {
  it('equal the recomputation after every operation of a random sequence, and the change events rebuild them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (operations) => {
        const store = new MemoryRowStore();
        let engine = engineOver(store);
        const model = new SourceModel();
        const view = new SubscriberView();
        for (const op of operations) {
          if (op.kind === 'restart') {
            engine = engineOver(store);
            continue;
          }
          const changes = await run(engine, op);
          model.apply(op);
          // The operation's own row comes first, as written or as deleted.
          const own = op.kind === 'upsert' ? { table: op.table, key: [String(op.row.id)], row: op.row } : { table: op.table, key: [String(op.id)], row: null };
          expect(changes[0]).toEqual(own);
          view.apply(changes);

          const expected = sorted(recompute(model));
          expect(sorted(storedTables(store))).toEqual(expected);
          expect(sorted(view.tables)).toEqual(expected);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('end in the same state when the operations are called concurrently', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 30 }), async (operations) => {
        const store = new MemoryRowStore();
        const engine = engineOver(store);
        const model = new SourceModel();
        const view = new SubscriberView();
        const writes = operations.filter((op): op is Exclude<Operation, { kind: 'restart' }> => op.kind !== 'restart');
        // All calls start before any finishes; the engine's queue must run them one at a time, in call order.
        const results = await Promise.all(writes.map((op) => run(engine, op)));
        for (const op of writes) model.apply(op);
        for (const changes of results) view.apply(changes);

        const expected = sorted(recompute(model));
        expect(sorted(storedTables(store))).toEqual(expected);
        expect(sorted(view.tables)).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});
