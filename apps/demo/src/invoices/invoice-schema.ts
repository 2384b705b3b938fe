import type { InformationSchemaJson } from '@fox-wamp/core';

/**
 * The seed README's aggregate-engine example, made to work: invoices are rows clients publish (validated by
 * their JSON Schema, keyed by number so that an update may change the customer), and `detail` keeps each
 * customer's total of sales, and how many there are, as invoices come, change and go.
 *
 *   publish `invoice` with the row as kwargs      → upsert (invalid rows: wamp.error.invalid_argument)
 *   publish `invoice.<number>` with nothing       → delete
 *   subscribe `detail.#` with `get_retained: true` → every customer's row, then every change
 */
export const INVOICE_SCHEMA: InformationSchemaJson = {
  invoice: {
    type: 'object',
    properties: {
      number: { type: 'integer', minimum: 1 },
      date: { type: 'string' },
      customer: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_-]+$' },
      amount: { type: 'number' },
      type: { enum: ['sale', 'refund'] },
    },
    required: ['number', 'customer', 'amount', 'type'],
    additionalProperties: false,
    primary_key: ['number'],
    propagate: {
      detail: [{ key: ['customer'], fields: { total: 'amount', invoices: { count: '*' } }, filter: { type: 'sale' } }],
    },
  },
  detail: {
    type: 'aggregate',
    properties: { customer: { type: 'string' }, total: { type: 'number' }, invoices: { type: 'integer' } },
    primary_key: ['customer'],
    sum: ['total'],
  },
};
