import { describe, expect, it } from 'vitest';
import {
  AggregateEngine,
  ErrorUri,
  MemoryRowStore,
  parseInformationSchema,
  RouterError,
  type InformationSchemaJson,
  type Row,
  type RowChange,
} from '@fox-wamp/core';
import { routerErrorOf } from '../support/router-error-of.js';

// The seed README's example as written, amount typed as a string included.
const SEED_README_SCHEMA = {
  invoice: {
    type: 'object',
    properties: {
      date: { type: 'string' },
      customer: { type: 'string' },
      amount: { type: 'string' },
    },
    primary_key: ['date', 'customer'],
    propagate: {
      detail: [{ key: ['customer'], fields: { total: 'amount' }, filter: { type: 'sale' } }],
    },
  },
  detail: {
    type: 'aggregate',
    properties: { customer: { type: 'string' }, total: { type: 'string' } },
    primary_key: ['customer'],
    sum: ['total'],
  },
} as const;

/**
 * The seed's example with the two changes a working version needs: amounts are numbers (a sum of strings
 * is refused), and invoices are keyed by their number so an update can change the customer.
 */
const INVOICES: InformationSchemaJson = {
  invoice: {
    type: 'object',
    properties: {
      number: { type: 'integer' },
      date: { type: 'string' },
      customer: { type: 'string' },
      amount: { type: 'number' },
      type: { enum: ['sale', 'refund'] },
    },
    required: ['number', 'customer', 'type'],
    additionalProperties: false,
    primary_key: ['number'],
    propagate: {
      detail: [{ key: ['customer'], fields: { total: 'amount' }, filter: { type: 'sale' } }],
    },
  },
  detail: { type: 'aggregate', primary_key: ['customer'], sum: ['total'] },
};

/** Per-customer totals feeding per-region totals: a two-level chain. */
const REGIONS: InformationSchemaJson = {
  invoice: {
    type: 'object',
    properties: {
      number: { type: 'integer' },
      region: { type: 'string' },
      customer: { type: 'string' },
      amount: { type: 'integer' },
    },
    required: ['number', 'region', 'customer', 'amount'],
    primary_key: ['number'],
    propagate: {
      customer_totals: [{ key: ['region', 'customer'], fields: { total: { sum: 'amount' }, invoices: { count: '*' } } }],
    },
  },
  customer_totals: {
    type: 'aggregate',
    primary_key: ['region', 'customer'],
    propagate: {
      region_totals: [{ key: ['region'], fields: { total: { sum: 'total' }, customers: { count: '*' }, best: { max: 'total' } } }],
    },
  },
  region_totals: { type: 'aggregate', primary_key: ['region'] },
};

/** An engine over a fresh in-memory store, and the store, to look at what it keeps. */
function engineFor(schema: unknown): { engine: AggregateEngine; store: MemoryRowStore } {
  const store = new MemoryRowStore();
  return { engine: new AggregateEngine(parseInformationSchema(schema), store), store };
}

/** A table's rows as the store keeps them, in key order. */
function rowsOf(store: MemoryRowStore, table: string): Row[] {
  return store.entries(table).map((entry) => entry.row);
}

/** A change list in a form that reads well in an expectation: `table.key` → row or null. */
function changed(changes: readonly RowChange[]): [string, Row | null][] {
  return changes.map((change) => [[change.table, ...change.key].join('.'), change.row]);
}

function schemaErrorOf(json: unknown): RouterError {
  try {
    parseInformationSchema(json);
  } catch (error) {
    expect(error).toBeInstanceOf(RouterError);
    expect((error as RouterError).uri).toBe(ErrorUri.invalidArgument);
    return error as RouterError;
  }
  throw new Error('expected the schema to be refused');
}

describe('the seed README example (invoice → per-customer totals)', () => {
  it('parses as written, keys invoices by date and customer, and refuses a string amount for the sum', async () => {
    const { engine, store } = engineFor(SEED_README_SCHEMA);
    const changes = await engine.upsert('invoice', { date: '2024-01-02', customer: 'alice', type: 'refund', amount: '10' });
    // A refund is not a sale: only the invoice itself changes.
    expect(changed(changes)).toEqual([['invoice.2024-01-02.alice', { date: '2024-01-02', customer: 'alice', type: 'refund', amount: '10' }]]);

    const error = await routerErrorOf(engine.upsert('invoice', { date: '2024-01-03', customer: 'alice', type: 'sale', amount: '10' }));
    expect(error.uri).toBe(ErrorUri.invalidArgument);
    expect(error.message).toContain('invoice.amount must be a finite number to be the sum detail.total');
    expect(rowsOf(store, 'invoice')).toHaveLength(1);
    expect(rowsOf(store, 'detail')).toEqual([]);
  });

  it('sums the sales of each customer and leaves out the rows the filter rejects', async () => {
    const { engine, store } = engineFor(INVOICES);
    await engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'sale' });
    await engine.upsert('invoice', { number: 2, customer: 'bob', amount: 7, type: 'sale' });
    const refund = await engine.upsert('invoice', { number: 3, customer: 'alice', amount: 100, type: 'refund' });
    await engine.upsert('invoice', { number: 4, customer: 'alice', amount: 5, type: 'sale' });

    expect(changed(refund)).toEqual([['invoice.3', { number: 3, customer: 'alice', amount: 100, type: 'refund' }]]);
    expect(rowsOf(store, 'detail')).toEqual([
      { customer: 'alice', total: 15 },
      { customer: 'bob', total: 7 },
    ]);
  });

  it('reports the invoice and then the aggregate rows it changed', async () => {
    const { engine } = engineFor(INVOICES);
    expect(changed(await engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'sale' }))).toEqual([
      ['invoice.1', { number: 1, customer: 'alice', amount: 10, type: 'sale' }],
      ['detail.alice', { customer: 'alice', total: 10 }],
    ]);
  });

  it('replaces the old contribution when an update changes the amount', async () => {
    const { engine, store } = engineFor(INVOICES);
    await engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'sale' });
    await engine.upsert('invoice', { number: 2, customer: 'alice', amount: 4, type: 'sale' });
    const changes = await engine.upsert('invoice', { number: 1, customer: 'alice', amount: 25, type: 'sale' });

    expect(changed(changes)).toEqual([
      ['invoice.1', { number: 1, customer: 'alice', amount: 25, type: 'sale' }],
      ['detail.alice', { customer: 'alice', total: 29 }],
    ]);
    expect(rowsOf(store, 'invoice')).toHaveLength(2);
  });

  it('moves the contribution when an update changes the customer, deleting the emptied row', async () => {
    const { engine, store } = engineFor(INVOICES);
    await engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'sale' });
    await engine.upsert('invoice', { number: 2, customer: 'bob', amount: 3, type: 'sale' });
    const changes = await engine.upsert('invoice', { number: 1, customer: 'bob', amount: 10, type: 'sale' });

    // The old group first (subtraction), then the new one (addition).
    expect(changed(changes)).toEqual([
      ['invoice.1', { number: 1, customer: 'bob', amount: 10, type: 'sale' }],
      ['detail.alice', null],
      ['detail.bob', { customer: 'bob', total: 13 }],
    ]);
    expect(rowsOf(store, 'detail')).toEqual([{ customer: 'bob', total: 13 }]);
  });

  it('subtracts a row that stops passing the filter and adds one that starts to', async () => {
    const { engine, store } = engineFor(INVOICES);
    await engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'sale' });
    await engine.upsert('invoice', { number: 2, customer: 'alice', amount: 6, type: 'sale' });

    await engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'refund' });
    expect(rowsOf(store, 'detail')).toEqual([{ customer: 'alice', total: 6 }]);

    await engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'sale' });
    expect(rowsOf(store, 'detail')).toEqual([{ customer: 'alice', total: 16 }]);
  });

  it('subtracts deleted rows and deletes the aggregate row with its last contribution', async () => {
    const { engine, store } = engineFor(INVOICES);
    await engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'sale' });
    await engine.upsert('invoice', { number: 2, customer: 'alice', amount: 6, type: 'sale' });

    expect(changed(await engine.delete('invoice', [1]))).toEqual([
      ['invoice.1', null],
      ['detail.alice', { customer: 'alice', total: 6 }],
    ]);
    // A key read from a topic is a string: '2' is the invoice numbered 2.
    expect(changed(await engine.delete('invoice', ['2']))).toEqual([
      ['invoice.2', null],
      ['detail.alice', null],
    ]);
    expect(store.entries('detail')).toEqual([]);
    expect(store.entries('invoice')).toEqual([]);
  });

  it('reports an upsert that changes nothing and a delete of an absent row as the operation only', async () => {
    const { engine } = engineFor(INVOICES);
    const invoice = { number: 1, customer: 'alice', amount: 10, type: 'sale' };
    await engine.upsert('invoice', invoice);
    expect(changed(await engine.upsert('invoice', invoice))).toEqual([['invoice.1', invoice]]);
    expect(changed(await engine.delete('invoice', [9]))).toEqual([['invoice.9', null]]);
  });

  it('keeps a customer whose sales have no amount, with a total of 0', async () => {
    const { engine, store } = engineFor(INVOICES);
    await engine.upsert('invoice', { number: 1, customer: 'alice', type: 'sale' });
    expect(rowsOf(store, 'detail')).toEqual([{ customer: 'alice', total: 0 }]);
  });

  it('accepts the explicit function form and a key mapped by name, with the same result', async () => {
    const explicit = structuredClone(INVOICES) as Record<string, Record<string, unknown>>;
    explicit.invoice!.propagate = { detail: [{ key: { customer: 'customer' }, fields: { total: { sum: 'amount' } }, filter: { type: 'sale' } }] };
    explicit.detail = { type: 'aggregate', primary_key: ['customer'] };
    const { engine, store } = engineFor(explicit);
    await engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'sale' });
    await engine.upsert('invoice', { number: 2, customer: 'alice', amount: 5, type: 'sale' });
    expect(rowsOf(store, 'detail')).toEqual([{ customer: 'alice', total: 15 }]);
  });
});

describe('aggregate functions', () => {
  const STATS: InformationSchemaJson = {
    reading: {
      type: 'object',
      properties: { id: { type: 'integer' }, sensor: { type: 'string' }, value: { type: ['integer', 'null'] }, label: { type: 'string' } },
      primary_key: ['id'],
      propagate: {
        stats: [
          {
            key: ['sensor'],
            fields: {
              readings: { count: '*' },
              measured: { count: 'value' },
              total: { sum: 'value' },
              low: { min: 'value' },
              high: { max: 'value' },
              mean: { avg: 'value' },
              first_label: { min: 'label' },
            },
          },
        ],
      },
    },
    stats: { type: 'aggregate', primary_key: ['sensor'] },
  };

  it('computes count, sum, min, max and avg, ignoring missing and null values', async () => {
    const { engine, store } = engineFor(STATS);
    await engine.upsert('reading', { id: 1, sensor: 's', value: 4, label: 'beta' });
    await engine.upsert('reading', { id: 2, sensor: 's', value: null, label: 'alpha' });
    await engine.upsert('reading', { id: 3, sensor: 's', value: 9 });
    await engine.upsert('reading', { id: 4, sensor: 's', value: 2 });
    expect(rowsOf(store, 'stats')).toEqual([
      { sensor: 's', readings: 4, measured: 3, total: 15, low: 2, high: 9, mean: 5, first_label: 'alpha' },
    ]);
  });

  it('finds the next extreme when the current minimum and maximum are removed, and keeps duplicates', async () => {
    const { engine, store } = engineFor(STATS);
    for (const [id, value] of [[1, 5], [2, 1], [3, 1], [4, 9], [5, 7]] as const) await engine.upsert('reading', { id, sensor: 's', value });
    await engine.delete('reading', [2]);
    expect(rowsOf(store, 'stats')[0]).toMatchObject({ low: 1, high: 9 });
    await engine.delete('reading', [3]);
    await engine.upsert('reading', { id: 4, sensor: 's', value: 6 });
    expect(rowsOf(store, 'stats')[0]).toMatchObject({ low: 5, high: 7, total: 18, measured: 3, mean: 6 });
  });

  it('shows null for min, max and avg once no value is left, while the row still has contributions', async () => {
    const { engine, store } = engineFor(STATS);
    await engine.upsert('reading', { id: 1, sensor: 's', value: 3 });
    await engine.upsert('reading', { id: 2, sensor: 's', value: null });
    await engine.delete('reading', [1]);
    expect(rowsOf(store, 'stats')).toEqual([
      { sensor: 's', readings: 1, measured: 0, total: 0, low: null, high: null, mean: null, first_label: null },
    ]);
  });
});

describe('a two-level chain (per-customer totals → per-region totals)', () => {
  it('propagates through both levels and reports the rows level by level', async () => {
    const { engine } = engineFor(REGIONS);
    await engine.upsert('invoice', { number: 1, region: 'north', customer: 'alice', amount: 10 });
    await engine.upsert('invoice', { number: 2, region: 'north', customer: 'bob', amount: 30 });
    const changes = await engine.upsert('invoice', { number: 3, region: 'north', customer: 'alice', amount: 5 });

    expect(changed(changes)).toEqual([
      ['invoice.3', { number: 3, region: 'north', customer: 'alice', amount: 5 }],
      ['customer_totals.north.alice', { region: 'north', customer: 'alice', total: 15, invoices: 2 }],
      ['region_totals.north', { region: 'north', total: 45, customers: 2, best: 30 }],
    ]);
  });

  it('moves a customer total between regions when an invoice changes region, and cleans up on delete', async () => {
    const { engine, store } = engineFor(REGIONS);
    await engine.upsert('invoice', { number: 1, region: 'north', customer: 'alice', amount: 10 });
    await engine.upsert('invoice', { number: 2, region: 'north', customer: 'bob', amount: 30 });

    const moved = await engine.upsert('invoice', { number: 2, region: 'south', customer: 'bob', amount: 30 });
    expect(changed(moved)).toEqual([
      ['invoice.2', { number: 2, region: 'south', customer: 'bob', amount: 30 }],
      ['customer_totals.north.bob', null],
      ['customer_totals.south.bob', { region: 'south', customer: 'bob', total: 30, invoices: 1 }],
      ['region_totals.north', { region: 'north', total: 10, customers: 1, best: 10 }],
      ['region_totals.south', { region: 'south', total: 30, customers: 1, best: 30 }],
    ]);

    await engine.delete('invoice', [1]);
    await engine.delete('invoice', [2]);
    expect(store.entries('customer_totals')).toEqual([]);
    expect(store.entries('region_totals')).toEqual([]);
  });

  it('does not report a second-level row whose content did not change, yet keeps its bookkeeping current', async () => {
    const { engine, store } = engineFor(REGIONS);
    await engine.upsert('invoice', { number: 1, region: 'north', customer: 'alice', amount: 10 });
    await engine.upsert('invoice', { number: 2, region: 'north', customer: 'bob', amount: 30 });
    await engine.upsert('invoice', { number: 3, region: 'north', customer: 'bob', amount: 5 });
    await engine.upsert('invoice', { number: 4, region: 'north', customer: 'carol', amount: 50 });
    // 5 moves from bob (35 → 30) to alice (10 → 15): the region's total, count and best stay 95, 3 and 50.
    const changes = await engine.upsert('invoice', { number: 3, region: 'north', customer: 'alice', amount: 5 });
    expect(changed(changes)).toEqual([
      ['invoice.3', { number: 3, region: 'north', customer: 'alice', amount: 5 }],
      ['customer_totals.north.bob', { region: 'north', customer: 'bob', total: 30, invoices: 1 }],
      ['customer_totals.north.alice', { region: 'north', customer: 'alice', total: 15, invoices: 2 }],
    ]);
    expect(rowsOf(store, 'region_totals')).toEqual([{ region: 'north', total: 95, customers: 3, best: 50 }]);
    // The max's multiset was updated all the same: without carol, the best is bob at 30 (not 35).
    await engine.delete('invoice', [4]);
    expect(rowsOf(store, 'region_totals')).toEqual([{ region: 'north', total: 45, customers: 2, best: 30 }]);
  });
});

describe('validation', () => {
  it('refuses a row that breaks the JSON Schema with every ajv message, and writes nothing', async () => {
    const { engine, store } = engineFor(INVOICES);
    const error = await routerErrorOf(engine.upsert('invoice', { number: 1, amount: 'ten', type: 'gift', extra: true }));
    expect(error.uri).toBe(ErrorUri.invalidArgument);
    expect(error.message).toMatch(/^invalid invoice row: /);
    expect(error.message).toContain("must have required property 'customer'");
    expect(error.message).toContain('/amount must be number');
    expect(error.message).toContain('/type must be equal to one of the allowed values');
    expect(error.message).toContain('must NOT have additional properties ("extra")');
    expect(error.args).toEqual([error.message]);
    expect(error.kwargs).toMatchObject({ table: 'invoice', errors: expect.arrayContaining([{ path: '/amount', message: 'must be number' }]) });
    expect(store.entries('invoice')).toEqual([]);
  });

  it('refuses a row that is not an object', async () => {
    const { engine } = engineFor(INVOICES);
    const error = await routerErrorOf(engine.upsert('invoice', [1, 'alice']));
    expect(error.message).toBe('invoice row must be an object; got [1,"alice"]');
  });

  it('refuses a key value that cannot be a topic level, in the row or in a propagated key', async () => {
    const { engine, store } = engineFor(INVOICES);
    const badGroup = await routerErrorOf(engine.upsert('invoice', { number: 1, customer: 'a.b', amount: 1, type: 'sale' }));
    expect(badGroup.uri).toBe(ErrorUri.invalidArgument);
    expect(badGroup.message).toContain('invoice.customer (the key detail.customer of invoice.propagate.detail[0]) contains whitespace or one of . # + / *');
    expect(store.entries('invoice')).toEqual([]);

    const fractional = await routerErrorOf(engine.delete('invoice', [1.5]));
    expect(fractional.message).toContain('invoice.number is not a key value: 1.5');
  });

  it('refuses writes to aggregate tables and unknown tables, and deletes with a key of the wrong length', async () => {
    const { engine } = engineFor(INVOICES);
    expect((await routerErrorOf(engine.upsert('detail', { customer: 'alice', total: 1 }))).message).toContain('detail is an aggregate table');
    expect((await routerErrorOf(engine.delete('detail', ['alice']))).uri).toBe(ErrorUri.invalidArgument);
    expect((await routerErrorOf(engine.upsert('orders', {}))).message).toBe('no table "orders" in the information schema');
    expect((await routerErrorOf(engine.delete('invoice', [1, 2]))).message).toContain('invoice key has 1 value(s) (number); got [1,2]');
  });
});

describe('information schema errors', () => {
  const aggregate = { type: 'aggregate', primary_key: ['customer'], sum: ['total'] };
  const invoice = (propagate: unknown, extra: Record<string, unknown> = {}) => ({
    type: 'object',
    properties: { id: { type: 'integer' }, customer: { type: 'string' }, amount: { type: 'number' } },
    primary_key: ['id'],
    propagate,
    ...extra,
  });
  const rule = (overrides: Record<string, unknown> = {}) => ({ detail: [{ key: ['customer'], fields: { total: 'amount' }, ...overrides }] });

  const cases: [string, unknown, string][] = [
    ['a schema that is not an object', [], 'information schema: (root): must be an object of tables'],
    ['a table name that is not a topic level', { 'a.b': aggregate }, 'information schema: "a.b": a table name is a topic level'],
    ['an unknown table type', { t: { type: 'view', primary_key: ['x'] } }, 'information schema: t.type: must be "object"'],
    ['a missing primary key', { t: { type: 'object', properties: {} } }, 'information schema: t.primary_key: must be a non-empty list'],
    ['a primary key field that is not a property', { t: { type: 'object', properties: { a: {} }, primary_key: ['b'] } }, 't.primary_key: "b" is not one of t\'s properties'],
    ['a typo in a JSON Schema keyword', { invoice: invoice(rule(), { requried: ['id'] }), detail: aggregate }, 'information schema: invoice: not a valid JSON Schema for its rows: strict mode: unknown keyword: "requried"'],
    ['an unknown keyword of an aggregate table', { invoice: invoice(rule()), detail: { ...aggregate, summ: ['x'] } }, 'information schema: detail.summ: is not a keyword of an aggregate table'],
    ['a field under two functions', { invoice: invoice(rule()), detail: { ...aggregate, max: ['total'] } }, 'detail.max: "total" is already a sum field'],
    ['a propagate target that does not exist', { invoice: invoice({ totals: [] }), detail: aggregate }, 'information schema: invoice.propagate.totals: there is no table "totals"'],
    ['a propagate target that is an object table', { invoice: invoice({ other: [{ key: ['id'] }] }), other: invoice(undefined), detail: aggregate }, 'invoice.propagate.other: other is a type: object table'],
    ['a key of the wrong length', { invoice: invoice(rule({ key: ['customer', 'id'] })), detail: aggregate }, 'invoice.propagate.detail[0].key: must list 1 source field(s)'],
    ['a key from an unknown source field', { invoice: invoice(rule({ key: ['buyer'] })), detail: aggregate }, 'invoice.propagate.detail[0].key: "buyer" is not one of invoice\'s properties'],
    ['a key mapping that misses a key field', { invoice: invoice(rule({ key: {} })), detail: aggregate }, 'does not map the key field "customer" of detail'],
    ['a field from an unknown source field', { invoice: invoice(rule({ fields: { total: 'amout' } })), detail: aggregate }, 'invoice.propagate.detail[0].fields.total: "amout" is not a field of invoice'],
    ['a field the target does not declare', { invoice: invoice(rule({ fields: { total: 'amount', other: 'amount' } })), detail: aggregate }, 'fields.other: detail has no aggregate field "other"'],
    ['an explicit function that contradicts the table', { invoice: invoice(rule({ fields: { total: { max: 'amount' } } })), detail: aggregate }, 'fields.total: detail.total is a sum field, not max'],
    ['a malformed explicit function', { invoice: invoice(rule({ fields: { total: { median: 'amount' } } })), detail: aggregate }, 'fields.total: must be a source field name, or one function'],
    ['"*" for a function other than count', { invoice: invoice(rule({ fields: { total: '*' } })), detail: aggregate }, '"*" (every row) is a source for count only'],
    ['an aggregate field no rule feeds', { invoice: invoice(rule()), detail: { ...aggregate, count: ['n'] } }, 'information schema: detail.n: no propagate rule gives the count field n a source field'],
    ['an aggregate table nothing feeds', { invoice: invoice(undefined), detail: aggregate }, 'information schema: detail: no table propagates to the aggregate table detail'],
    ['an invalid filter', { invoice: invoice(rule({ filter: { amount: { $near: 1 } } })), detail: aggregate }, 'information schema: invoice.propagate.detail[0].filter: invalid filter'],
    ['an unknown rule keyword', { invoice: invoice(rule({ where: {} })), detail: aggregate }, 'invoice.propagate.detail[0].where: is not a keyword of a propagate rule'],
    [
      'a cycle of aggregate tables',
      {
        invoice: invoice({ a: [{ key: ['customer'] }] }),
        a: { type: 'aggregate', primary_key: ['customer'], propagate: { b: [{ key: ['customer'] }] } },
        b: { type: 'aggregate', primary_key: ['customer'], propagate: { a: [{ key: ['customer'] }] } },
      },
      'information schema: a, b: these aggregate tables propagate in a cycle',
    ],
  ];

  it.each(cases)('refuses %s with a message naming the place', (_title, json, message) => {
    expect(schemaErrorOf(json).message).toContain(message);
  });

  it('lists the aggregate tables in propagation order, whatever the declaration order', () => {
    const reordered = { region_totals: REGIONS.region_totals, customer_totals: REGIONS.customer_totals, invoice: REGIONS.invoice };
    expect(parseInformationSchema(reordered).propagationOrder.map((table) => table.name)).toEqual(['customer_totals', 'region_totals']);
  });
});

describe('serialized operations and durable bookkeeping', () => {
  it('runs concurrent calls one at a time, in call order', async () => {
    const { engine, store } = engineFor(INVOICES);
    const calls = [
      engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'sale' }),
      engine.upsert('invoice', { number: 2, customer: 'alice', amount: 20, type: 'sale' }),
      engine.upsert('invoice', { number: 1, customer: 'bob', amount: 10, type: 'sale' }),
      engine.delete('invoice', [2]),
      engine.upsert('invoice', { number: 3, customer: 'bob', amount: 1, type: 'sale' }),
    ];
    const results = await Promise.all(calls);
    // Each call saw the state its predecessors left: the third moved 10 from alice (then at 30) to bob.
    expect(changed(results[2]!)).toEqual([
      ['invoice.1', { number: 1, customer: 'bob', amount: 10, type: 'sale' }],
      ['detail.alice', { customer: 'alice', total: 20 }],
      ['detail.bob', { customer: 'bob', total: 10 }],
    ]);
    expect(changed(results[3]!)).toEqual([
      ['invoice.2', null],
      ['detail.alice', null],
    ]);
    expect(rowsOf(store, 'detail')).toEqual([{ customer: 'bob', total: 11 }]);
  });

  it('keeps going after a rejected operation in the queue', async () => {
    const { engine, store } = engineFor(INVOICES);
    const first = engine.upsert('invoice', { number: 1, customer: 'alice', amount: 10, type: 'sale' });
    const rejected = engine.upsert('invoice', { number: 2, customer: 'alice', amount: 'x', type: 'sale' });
    const third = engine.upsert('invoice', { number: 3, customer: 'alice', amount: 1, type: 'sale' });
    await first;
    expect((await routerErrorOf(rejected)).uri).toBe(ErrorUri.invalidArgument);
    await third;
    expect(rowsOf(store, 'detail')).toEqual([{ customer: 'alice', total: 11 }]);
  });

  it('keeps the bookkeeping in the store, so a new engine over the same store subtracts exactly', async () => {
    const schema = {
      reading: {
        type: 'object',
        properties: { id: { type: 'integer' }, sensor: { type: 'string' }, value: { type: 'integer' } },
        primary_key: ['id'],
        propagate: { extremes: [{ key: ['sensor'], fields: { low: { min: 'value' }, high: { max: 'value' }, n: { count: '*' } } }] },
      },
      extremes: { type: 'aggregate', primary_key: ['sensor'] },
    };
    const store = new MemoryRowStore();
    const before = new AggregateEngine(parseInformationSchema(schema), store);
    for (const [id, value] of [[1, 3], [2, 8], [3, 5]] as const) await before.upsert('reading', { id, sensor: 's', value });

    const [stored] = store.entries('extremes');
    expect(stored!.state).toEqual({
      contributions: 3,
      fields: {
        low: { count: 3, values: [[3, 1], [5, 1], [8, 1]] },
        high: { count: 3, values: [[3, 1], [5, 1], [8, 1]] },
        n: { count: 3 },
      },
    });

    const after = new AggregateEngine(parseInformationSchema(schema), store);
    await after.delete('reading', [1]);
    await after.delete('reading', [2]);
    expect(rowsOf(store, 'extremes')).toEqual([{ sensor: 's', low: 5, high: 5, n: 1 }]);
  });
});
