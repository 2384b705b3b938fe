import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { WampMessage } from '../../libs/core/src/wamp/message-codes.js';
import { SerializationError, type WampSerializer } from '../../libs/core/src/wamp/serializer.js';
import {
  ALL_SERIALIZERS,
  serializerFor,
  serializerForSubprotocol,
  SUBPROTOCOLS,
} from '../../libs/core/src/wamp/serializers/index.js';
import { seededRandom } from '../support/seeded-random.js';

// ---------------------------------------------------------------------------------------------------------------
// WAMP test vectors (wamp-proto/wamp-proto testsuite), kept beside the repository as ../shared/wamp-testsuite.
// Format: SCHEMA.json and README.md there. Each serialization sample lists byte variants per serializer and the
// attributes the decoded message must have; each validation sample holds a raw wire message (`wmsg`).
// ---------------------------------------------------------------------------------------------------------------

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const suiteDir = path.resolve(repoRoot, '../shared/wamp-testsuite');
const singleMessageDir = path.join(suiteDir, 'singlemessage');

interface ByteVariant {
  bytes?: string;
  bytes_hex?: string;
  bytes_base64?: string;
  note?: string;
}

interface SerializationSample {
  description: string;
  serializers: Record<string, ByteVariant[]>;
  expected_attributes: { message_type: number } & Record<string, unknown>;
}

interface ValidationSample {
  description: string;
  test_category?: string;
  wmsg: unknown[];
  expected_error?: { type?: string; contains?: string };
}

interface SingleMessageVector {
  description: string;
  wamp_message_type: string;
  wamp_message_code: number;
  samples: (SerializationSample | ValidationSample)[];
}

function vectorFiles(dir: string): string[] {
  if (!existsSync(dir)) {
    throw new Error(`WAMP test vectors not found at ${dir}; expected a copy of shared/ beside the repository`);
  }
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...vectorFiles(full));
    else if (entry.name.endsWith('.json')) files.push(full);
  }
  return files.sort();
}

const vectors = vectorFiles(singleMessageDir).map((file) => ({
  name: path.relative(singleMessageDir, file),
  vector: JSON.parse(readFileSync(file, 'utf8')) as SingleMessageVector,
}));

// ---------------------------------------------------------------------------------------------------------------
// Where each attribute named in `expected_attributes` sits in the message array (WAMP spec message layouts).
// A slot is an index, or [index, key] for a value inside a dictionary (HELLO/WELCOME carry `roles` in Details).
// Transparent payload (E2EE / payload passthru) replaces Arguments with one binary value, so `payload` is read
// from the `args` slot.
// ---------------------------------------------------------------------------------------------------------------

type Slot = number | readonly [number, string];

const LAYOUTS: Record<number, Record<string, Slot>> = {
  1: { realm: 1, details: 2, roles: [2, 'roles'] }, // HELLO
  2: { session_id: 1, details: 2, roles: [2, 'roles'] }, // WELCOME
  3: { details: 1, reason: 2 }, // ABORT
  4: { authmethod: 1, extra: 2 }, // CHALLENGE
  5: { signature: 1, extra: 2 }, // AUTHENTICATE
  6: { details: 1, reason: 2 }, // GOODBYE
  8: { request_type: 1, request_id: 2, details: 3, error: 4, args: 5, kwargs: 6 }, // ERROR
  16: { request_id: 1, options: 2, topic: 3, args: 4, kwargs: 5 }, // PUBLISH
  17: { request_id: 1, publication_id: 2 }, // PUBLISHED
  32: { request_id: 1, options: 2, topic: 3 }, // SUBSCRIBE
  33: { request_id: 1, subscription_id: 2 }, // SUBSCRIBED
  34: { request_id: 1, subscription_id: 2 }, // UNSUBSCRIBE
  35: { request_id: 1, details: 2 }, // UNSUBSCRIBED
  36: { subscription_id: 1, publication_id: 2, details: 3, args: 4, kwargs: 5 }, // EVENT
  48: { request_id: 1, options: 2, procedure: 3, args: 4, kwargs: 5 }, // CALL
  49: { request_id: 1, options: 2 }, // CANCEL
  50: { request_id: 1, details: 2, args: 3, kwargs: 4 }, // RESULT
  64: { request_id: 1, options: 2, procedure: 3 }, // REGISTER
  65: { request_id: 1, registration_id: 2 }, // REGISTERED
  66: { request_id: 1, registration_id: 2 }, // UNREGISTER
  67: { request_id: 1, details: 2 }, // UNREGISTERED
  68: { request_id: 1, registration_id: 2, details: 3, args: 4, kwargs: 5 }, // INVOCATION
  69: { request_id: 1, options: 2 }, // INTERRUPT
  70: { request_id: 1, options: 2, args: 3, kwargs: 4 }, // YIELD
  337: { publication_id: 1, details: 2 }, // EVENT_RECEIVED (provisional, acknowledged event delivery)
};

/** The vectors name some attributes after autobahn's fields (`subscription`) and some after the spec (`_id`). */
const ALIASES: Record<string, string> = {
  subscription: 'subscription_id',
  publication: 'publication_id',
  registration: 'registration_id',
  request: 'request_id',
  session: 'session_id',
  method: 'authmethod',
};

function slotValue(message: WampMessage, slot: Slot): unknown {
  if (typeof slot === 'number') return message[slot] ?? null;
  const dict = message[slot[0]];
  return (typeof dict === 'object' && dict !== null ? (dict as Record<string, unknown>)[slot[1]] : undefined) ?? null;
}

/** The decoded message seen through the vector's attribute names; absent trailing elements read as null. */
function attributesOf(message: WampMessage, names: string[]): Record<string, unknown> {
  const layout = LAYOUTS[message[0]];
  if (!layout) throw new Error(`test has no layout for message type ${message[0]}; add it to LAYOUTS`);
  const attributes: Record<string, unknown> = {};
  for (const name of names) {
    if (name === 'message_type') {
      attributes[name] = message[0];
      continue;
    }
    const key = name === 'payload' ? 'args' : (ALIASES[name] ?? name);
    const slot = layout[key];
    if (slot === undefined) throw new Error(`test has no slot for attribute "${name}" of message type ${message[0]}`);
    const value = slotValue(message, slot);
    const isPayload = value instanceof Uint8Array;
    if (name === 'payload') {
      if (isPayload) expect(Buffer.isBuffer(value), 'binary payload decodes to a Buffer').toBe(true);
      attributes[name] = isPayload ? Buffer.from(value).toString('hex') : null;
    } else {
      attributes[name] = name === 'args' && isPayload ? null : value;
    }
  }
  return attributes;
}

/** Frames to decode for one byte variant: its bytes, and for JSON also its text form as a string frame. */
function framesOf(variant: ByteVariant, serializer: WampSerializer): (Buffer | string)[] {
  const frames: (Buffer | string)[] = [];
  if (variant.bytes_hex !== undefined) frames.push(Buffer.from(variant.bytes_hex, 'hex'));
  else if (variant.bytes_base64 !== undefined) frames.push(Buffer.from(variant.bytes_base64, 'base64'));
  else if (variant.bytes !== undefined && !serializer.binary) frames.push(Buffer.from(variant.bytes, 'utf8'));
  if (variant.bytes !== undefined && !serializer.binary) frames.push(variant.bytes);
  return frames;
}

function asBytes(frame: Buffer | string): Buffer {
  return typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
}

function isMessageShape(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && Number.isInteger(value[0]) && (value[0] as number) >= 0;
}

/** Per serializer: samples tested, our encoding byte-identical to a listed variant, variants we could not decode. */
const stats = new Map(
  ALL_SERIALIZERS.map((s) => [s.name, { samples: 0, validation: 0, byteExact: 0, undecodedVariants: 0, differ: [] as string[] }]),
);

afterAll(() => {
  const lines = [...stats].map(
    ([name, s]) =>
      `${name}: ${s.samples} serialization samples (${s.byteExact} encoded byte-identical to a vector variant, ` +
      `${s.undecodedVariants} variants not decodable), ${s.validation} validation samples` +
      (s.differ.length ? `; encoding differs from every variant for: ${s.differ.join('; ')}` : ''),
  );
  console.info(`WAMP test vectors (${vectors.length} files):\n  ${lines.join('\n  ')}`);
});

describe('WAMP test vectors: singlemessage', () => {
  it('finds the vector files', () => {
    expect(vectors.length).toBeGreaterThan(0);
  });

  for (const { name: file, vector } of vectors) {
    describe(file, () => {
      vector.samples.forEach((sample, index) => {
        const title = `${file} #${index} "${sample.description}"`;
        for (const serializer of ALL_SERIALIZERS) {
          if ('wmsg' in sample) defineValidationTest(title, sample, serializer);
          else defineSerializationTest(title, vector, sample, serializer);
        }
      });
    });
  }
});

function defineSerializationTest(
  title: string,
  vector: SingleMessageVector,
  sample: SerializationSample,
  serializer: WampSerializer,
): void {
  const variants = sample.serializers[serializer.name];
  if (!variants) {
    // The vector carries no bytes for this serializer (none of today's do): nothing to check against.
    return;
  }
  it(`${title} [${serializer.name}]`, () => {
    const stat = stats.get(serializer.name)!;
    stat.samples++;

    // At least one variant decodes; one that does not must fail with SerializationError, nothing else.
    const decoded: WampMessage[] = [];
    for (const variant of variants) {
      for (const frame of framesOf(variant, serializer)) {
        try {
          decoded.push(serializer.decode(frame));
        } catch (error) {
          expect(error, `variant ${variant.note ?? ''}`).toBeInstanceOf(SerializationError);
          stat.undecodedVariants++;
        }
      }
    }
    expect(decoded.length, 'no byte variant decodes').toBeGreaterThan(0);
    const [message] = decoded as [WampMessage];
    for (const other of decoded) expect(other, 'all decodable variants give the same message').toEqual(message);

    expect(message[0]).toBe(vector.wamp_message_code);
    const expected = sample.expected_attributes;
    expect(attributesOf(message, Object.keys(expected))).toEqual(expected);

    // Round trip through our encoder.
    const encoded = serializer.encode(message);
    expect(typeof encoded === 'string').toBe(!serializer.binary);
    expect(serializer.decode(encoded)).toEqual(message);

    // Byte identity with a listed variant is welcome but not required (key order, spacing, integer widths).
    const ours = asBytes(encoded);
    if (variants.some((v) => framesOf(v, serializer).some((f) => asBytes(f).equals(ours)))) stat.byteExact++;
    else stat.differ.push(title);
  });
}

function defineValidationTest(title: string, sample: ValidationSample, serializer: WampSerializer): void {
  // The rules these samples exercise (types and values of Options/Details entries) are the session's and
  // router's job; at serializer level the wire message must survive encoding and decoding unchanged, and a
  // message that is not an array starting with a message code must be refused.
  const rule = sample.expected_error
    ? `router must reject (${sample.expected_error.type ?? 'error'}: ${sample.expected_error.contains ?? ''})`
    : 'valid';
  it(`${title} [${serializer.name}] validation sample, ${rule}`, () => {
    stats.get(serializer.name)!.validation++;
    const wmsg = sample.wmsg as WampMessage;
    const frames = [serializer.encode(wmsg)];
    if (!serializer.binary) frames.push(JSON.stringify(wmsg)); // the raw wire text as another peer would send it
    for (const frame of frames) {
      if (isMessageShape(wmsg)) {
        expect(serializer.decode(frame)).toEqual(wmsg);
      } else {
        expect(() => serializer.decode(frame)).toThrow(SerializationError);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Unit tests
// ---------------------------------------------------------------------------------------------------------------

describe('serializer registry', () => {
  it('lists json, msgpack and cbor with their subprotocols', () => {
    expect(ALL_SERIALIZERS.map((s) => s.name)).toEqual(['json', 'msgpack', 'cbor']);
    expect(SUBPROTOCOLS).toEqual(['wamp.2.json', 'wamp.2.msgpack', 'wamp.2.cbor']);
    expect(ALL_SERIALIZERS.map((s) => s.binary)).toEqual([false, true, true]);
  });

  it('finds serializers by name and subprotocol', () => {
    expect(serializerFor('msgpack').subprotocol).toBe('wamp.2.msgpack');
    expect(serializerForSubprotocol('wamp.2.cbor')?.name).toBe('cbor');
    expect(serializerForSubprotocol('wamp.2.ubjson')).toBeUndefined();
    expect(serializerForSubprotocol('wamp.2.JSON')).toBeUndefined();
    expect(() => serializerFor('xml' as never)).toThrow(/Unknown WAMP serializer/);
  });
});

describe.each(ALL_SERIALIZERS.map((s) => [s.name, s] as const))('%s serializer', (_name, serializer) => {
  it('round-trips binary values in args and nested in kwargs as Buffers, without touching the input', () => {
    const message: WampMessage = [
      16,
      1,
      {},
      'com.example.binary',
      [Buffer.from([0, 1, 2, 253, 254, 255]), 'text'],
      { nested: { bytes: new Uint8Array([9, 8, 7]), list: [Buffer.alloc(0), 1] } },
    ];
    const snapshot = JSON.stringify(message); // Buffer.toJSON keeps the bytes in the snapshot

    const decoded = serializer.decode(serializer.encode(message));

    const args = decoded[4] as unknown[];
    const kwargs = decoded[5] as { nested: { bytes: unknown; list: unknown[] } };
    expect(Buffer.isBuffer(args[0])).toBe(true);
    expect(args[0]).toEqual(Buffer.from([0, 1, 2, 253, 254, 255]));
    expect(args[1]).toBe('text');
    expect(Buffer.isBuffer(kwargs.nested.bytes)).toBe(true);
    expect(kwargs.nested.bytes).toEqual(Buffer.from([9, 8, 7]));
    expect(Buffer.isBuffer(kwargs.nested.list[0])).toBe(true);
    expect((kwargs.nested.list[0] as Buffer).length).toBe(0);
    expect(kwargs.nested.list[1]).toBe(1);
    // The message may be shared by many sessions: encoding must not have replaced anything in it.
    expect(JSON.stringify(message)).toBe(snapshot);
    expect(Buffer.isBuffer((message[4] as unknown[])[0])).toBe(true);
    expect((message[5] as typeof kwargs).nested.bytes).toBeInstanceOf(Uint8Array);
  });

  it.each([2 ** 53, 2 ** 53 - 1, 2 ** 32, 112233445566, 9129137332])(
    'keeps the large ID %d an integer and decodes it as a number',
    (id) => {
      const decoded = serializer.decode(serializer.encode([2, id, { roles: {} }]));
      expect(typeof decoded[1]).toBe('number');
      expect(decoded[1]).toBe(id);
    },
  );

  it('round-trips large negative integers, floats and small integers unchanged', () => {
    const values = [-(2 ** 40), -(2 ** 31), -(2 ** 31) - 1, -1, 0, 1.5, -0.25, 2 ** 32 - 1, 2 ** 60];
    const decoded = serializer.decode(serializer.encode([50, 7, {}, values]));
    expect(decoded[3]).toEqual(values);
  });

  it('treats undefined like JSON: dropped from objects, null in arrays', () => {
    const decoded = serializer.decode(serializer.encode([50, 7, { a: undefined, b: 1 }, [undefined, 2]]));
    expect(decoded).toEqual([50, 7, { b: 1 }, [null, 2]]);
    expect(Object.keys(decoded[2] as object)).toEqual(['b']);
  });

  it('throws SerializationError for every truncated frame', () => {
    const frame = asBytes(
      serializer.encode([36, 5512315355, 4429313566, { publisher: 1234 }, [1, 'two', Buffer.from([3])], { k: true }]),
    );
    for (let length = 0; length < frame.length; length++) {
      const truncated = frame.subarray(0, length);
      const input = serializer.binary ? truncated : truncated.toString('utf8');
      expect(() => serializer.decode(input), `length ${length}`).toThrow(SerializationError);
    }
  });

  it('throws SerializationError for trailing bytes after the message', () => {
    const frame = Buffer.concat([asBytes(serializer.encode([6, {}, 'wamp.close.normal'])), Buffer.from([0x01])]);
    expect(() => serializer.decode(serializer.binary ? frame : frame.toString('utf8'))).toThrow(SerializationError);
  });

  it('never throws anything but SerializationError on random bytes', () => {
    const random = seededRandom(0x5eed + serializer.name.length);
    // Some frames start with an array header so that the decoders get past the first byte more often.
    const arrayHeaders = [0x91, 0x93, 0x95, 0x81, 0x83, 0x85, 0x9f, 0x5b];
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.alloc(Math.floor(random() * 48));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      if (bytes.length > 0 && i % 2 === 0) bytes[0] = arrayHeaders[i % arrayHeaders.length]!;
      for (const frame of serializer.binary ? [bytes] : [bytes, bytes.toString('latin1')]) {
        try {
          expect(isMessageShape(serializer.decode(frame))).toBe(true);
        } catch (error) {
          expect(error, `frame ${bytes.toString('hex')}`).toBeInstanceOf(SerializationError);
        }
      }
    }
  });

  it('throws SerializationError when encoding a cyclic message', () => {
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    expect(() => serializer.encode([16, 1, {}, 'com.example.topic', cyclic])).toThrow(SerializationError);
  });
});

describe('json serializer', () => {
  const json = serializerFor('json');

  it('encodes binary values as "\\u0000" + base64, nested anywhere, without Buffer.toJSON leaking', () => {
    const text = json.encode([
      36,
      1,
      2,
      {},
      [Buffer.from('hello')],
      { deep: [{ raw: new Uint8Array([0xff, 0x00]) }], empty: Buffer.alloc(0) },
    ]);
    expect(text).toBe('[36,1,2,{},["\\u0000aGVsbG8="],{"deep":[{"raw":"\\u0000/wA="}],"empty":"\\u0000"}]');
    expect(text).not.toContain('"type":"Buffer"');
  });

  it('decodes "\\u0000" + base64 strings to Buffers from string and Buffer frames', () => {
    const text = '[36,1,2,{},["\\u0000aGVsbG8=","plain"],{"k":{"v":"\\u0000/wA="}}]';
    for (const frame of [text, Buffer.from(text)]) {
      const message = json.decode(frame);
      const args = message[4] as unknown[];
      expect(Buffer.isBuffer(args[0])).toBe(true);
      expect((args[0] as Buffer).toString()).toBe('hello');
      expect(args[1]).toBe('plain');
      expect((message[5] as { k: { v: Buffer } }).k.v).toEqual(Buffer.from([0xff, 0x00]));
    }
  });

  it('keeps strings with a NUL that is not the first character as strings', () => {
    expect(json.decode('[1,"a\\u0000b",{"\\u0000key":1}]')).toEqual([1, 'a\u0000b', { '\u0000key': 1 }]);
  });

  it('encodes large IDs as JSON integers', () => {
    expect(json.encode([2, 2 ** 53, {}])).toBe('[2,9007199254740992,{}]');
    expect(json.encode([2, 9007199254740991, {}])).toBe('[2,9007199254740991,{}]');
  });

  it('writes a BigInt as a JSON number rather than failing', () => {
    expect(json.encode([1, 'realm', { n: 10n }])).toBe('[1,"realm",{"n":10}]');
  });

  it.each(['{}', '[]', '["x"]', '[-1]', '[1.5]', '[null]', 'null', '"x"', '42', '', '  ', '[1', 'nul', '\u0000'])(
    'rejects %j with SerializationError',
    (text) => {
      expect(() => json.decode(text)).toThrow(SerializationError);
      expect(() => json.decode(Buffer.from(text))).toThrow(SerializationError);
    },
  );
});

describe('msgpack serializer', () => {
  const msgpack = serializerFor('msgpack');

  it.each([
    [2 ** 53, '0020000000000000'],
    [9007199254740991, '001fffffffffffff'],
    [2 ** 32, '0000000100000000'],
  ])('encodes %d as uint64 (0xcf), not float64', (id, hex) => {
    const frame = msgpack.encode([2, id, {}]) as Buffer;
    expect(frame.toString('hex')).toBe(`9302cf${hex}80`);
  });

  it('encodes large negative integers as int64 (0xd3) and 32-bit values natively', () => {
    expect((msgpack.encode([1, -(2 ** 40)]) as Buffer).toString('hex')).toBe('9201d3ffffff0000000000');
    expect((msgpack.encode([1, 2 ** 32 - 1]) as Buffer).toString('hex')).toBe('9201ceffffffff');
    expect((msgpack.encode([1, 1.5]) as Buffer).toString('hex')).toBe('9201cb3ff8000000000000');
  });

  it('encodes WELCOME byte-identically to the reference (autobahn-python) bytes', () => {
    const reference = '9302cf00000002202394b481a5726f6c657382a662726f6b657280a66465616c657280';
    const message = msgpack.decode(Buffer.from(reference, 'hex'));
    expect((msgpack.encode(message) as Buffer).toString('hex')).toBe(reference);
  });

  it('decodes uint64 and int64 as numbers, and bin as Buffer', () => {
    expect(msgpack.decode(Buffer.from('9202cf0020000000000000', 'hex'))).toEqual([2, 2 ** 53]);
    expect(msgpack.decode(Buffer.from('9202d3ffffff0000000000', 'hex'))).toEqual([2, -(2 ** 40)]);
    const [, bin] = msgpack.decode(Buffer.from('9201c403010203', 'hex'));
    expect(Buffer.isBuffer(bin)).toBe(true);
    expect(bin).toEqual(Buffer.from([1, 2, 3]));
  });

  it.each([
    ['{}', '80'],
    ['[]', '90'],
    ['["x"]', '91a178'],
    ['[-1]', '91ff'],
    ['[1.5]', '91cb3ff8000000000000'],
    ['nil', 'c0'],
    ['"x"', 'a178'],
    ['42', '2a'],
    ['empty frame', ''],
    ['map with an array key', '9181910101'],
  ])('rejects %s with SerializationError', (_label, hex) => {
    expect(() => msgpack.decode(Buffer.from(hex, 'hex'))).toThrow(SerializationError);
  });

  it('rejects a text frame', () => {
    expect(() => msgpack.decode('[1]')).toThrow(SerializationError);
  });
});

describe('cbor serializer', () => {
  const cbor = serializerFor('cbor');

  it.each([
    [2 ** 53, '0020000000000000'],
    [9007199254740991, '001fffffffffffff'],
    [2 ** 32, '0000000100000000'],
  ])('encodes %d as a major type 0 integer (0x1b), not float64', (id, hex) => {
    const frame = cbor.encode([2, id, {}]) as Buffer;
    expect(frame.toString('hex')).toBe(`83021b${hex}a0`);
  });

  it('encodes large negative integers as major type 1 and binary as an untagged byte string', () => {
    expect((cbor.encode([1, -(2 ** 40)]) as Buffer).toString('hex')).toBe('82013b000000ffffffffff');
    expect((cbor.encode([1, new Uint8Array([1, 2])]) as Buffer).toString('hex')).toBe('8201420102');
  });

  it('encodes WELCOME byte-identically to the reference (autobahn-python) bytes', () => {
    const reference = '83021b00000002202394b4a165726f6c6573a26662726f6b6572a0666465616c6572a0';
    const message = cbor.decode(Buffer.from(reference, 'hex'));
    expect((cbor.encode(message) as Buffer).toString('hex')).toBe(reference);
  });

  it('decodes byte strings, also tagged 64, as Buffers and 64-bit integers as numbers', () => {
    const [, plain, tagged, id] = cbor.decode(Buffer.from('8401420102d84043010203' + '1b0020000000000000', 'hex'));
    expect(Buffer.isBuffer(plain)).toBe(true);
    expect(Buffer.isBuffer(tagged)).toBe(true);
    expect(tagged).toEqual(Buffer.from([1, 2, 3]));
    expect(id).toBe(2 ** 53);
  });

  it.each([
    ['{}', 'a0'],
    ['[]', '80'],
    ['["x"]', '816178'],
    ['[-1]', '8120'],
    ['[1.5]', '81fb3ff8000000000000'],
    ['null', 'f6'],
    ['"x"', '6178'],
    ['42', '182a'],
    ['empty frame', ''],
    ['unterminated indefinite array', '9f01'],
  ])('rejects %s with SerializationError', (_label, hex) => {
    expect(() => cbor.decode(Buffer.from(hex, 'hex'))).toThrow(SerializationError);
  });

  it('rejects a text frame', () => {
    expect(() => cbor.decode('[1]')).toThrow(SerializationError);
  });
});
