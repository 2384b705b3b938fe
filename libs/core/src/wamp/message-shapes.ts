import { isWampId } from '../router/ids.js';
import { MessageCode, messageName, type WampMessage } from './message-codes.js';

/** The type of one field of a message, as the spec's message definitions give it. */
type Field = 'id' | 'dict' | 'string' | 'list' | 'int';

interface Shape {
  readonly required: readonly Field[];
  /** Optional trailing fields (Arguments|list, ArgumentsKw|dict). */
  readonly optional: readonly Field[];
}

/** A shape with its fields in one list, joined once rather than for every message checked. */
interface CheckedShape extends Shape {
  readonly fields: readonly Field[];
}

const PAYLOAD: readonly Field[] = ['list', 'dict'];

/** Messages a router accepts from a client, with the fields after the message code. */
const CLIENT_SHAPES: ReadonlyMap<number, Shape> = new Map<number, Shape>([
  [MessageCode.HELLO, { required: ['string', 'dict'], optional: [] }],
  [MessageCode.AUTHENTICATE, { required: ['string', 'dict'], optional: [] }],
  [MessageCode.ABORT, { required: ['dict', 'string'], optional: PAYLOAD }],
  [MessageCode.GOODBYE, { required: ['dict', 'string'], optional: [] }],
  [MessageCode.ERROR, { required: ['int', 'id', 'dict', 'string'], optional: PAYLOAD }],
  [MessageCode.PUBLISH, { required: ['id', 'dict', 'string'], optional: PAYLOAD }],
  [MessageCode.SUBSCRIBE, { required: ['id', 'dict', 'string'], optional: [] }],
  [MessageCode.UNSUBSCRIBE, { required: ['id', 'id'], optional: [] }],
  [MessageCode.CALL, { required: ['id', 'dict', 'string'], optional: PAYLOAD }],
  [MessageCode.CANCEL, { required: ['id', 'dict'], optional: [] }],
  [MessageCode.REGISTER, { required: ['id', 'dict', 'string'], optional: [] }],
  [MessageCode.UNREGISTER, { required: ['id', 'id'], optional: [] }],
  [MessageCode.YIELD, { required: ['id', 'dict'], optional: PAYLOAD }],
]);

const CLIENT_MESSAGES: ReadonlyMap<number, CheckedShape> = new Map(
  [...CLIENT_SHAPES].map(([code, shape]) => [code, { ...shape, fields: [...shape.required, ...shape.optional] }]),
);

/**
 * Checks a decoded message against the spec's definition of its type. Returns a description of what is
 * wrong (for the ABORT message), or `undefined` when the message is well formed. URIs are checked later,
 * by the realm, because a bad URI is an ERROR for one request, not a protocol violation.
 */
export function findShapeViolation(message: WampMessage): string | undefined {
  const code = message[0];
  const shape = CLIENT_MESSAGES.get(code);
  if (shape === undefined) {
    const name = messageName(code);
    return name === undefined ? `unknown message type ${code}` : `a router does not accept ${name} from a client`;
  }
  const fields = message.length - 1;
  const min = shape.required.length;
  const max = shape.fields.length;
  if (fields < min || fields > max) {
    return `${messageName(code)} takes ${min === max ? min : `${min} to ${max}`} fields after the type, got ${fields}`;
  }
  const all = shape.fields;
  for (let i = 0; i < fields; i++) {
    if (!hasType(message[i + 1], all[i]!)) return `${messageName(code)} field ${i + 1} must be ${describe(all[i]!)}`;
  }
  return undefined;
}

function hasType(value: unknown, field: Field): boolean {
  switch (field) {
    case 'id':
      return isWampId(value);
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0;
    case 'string':
      return typeof value === 'string';
    case 'list':
      return Array.isArray(value);
    case 'dict':
      return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
  }
}

function describe(field: Field): string {
  return { id: 'an ID in [1, 2^53]', int: 'an integer', string: 'a string', list: 'a list', dict: 'a dictionary' }[field];
}
