/**
 * MessagePack for Redis's Lua `cmsgpack`, which predates the `bin` types: every byte string, text or binary,
 * is written as a `str` (Lua strings hold any bytes). msgpackr would write Buffers as `bin`, which `cmsgpack`
 * refuses, so the backplane's write specs are encoded here. Only what the specs hold: maps with string keys,
 * strings, Buffers, booleans, arrays of those.
 */
export type LuaPackable = string | Buffer | boolean | readonly LuaPackable[] | { readonly [key: string]: LuaPackable | undefined };

export function luaPack(value: LuaPackable): Buffer {
  const parts: Buffer[] = [];
  write(value, parts);
  return Buffer.concat(parts);
}

function write(value: LuaPackable, parts: Buffer[]): void {
  if (typeof value === 'string') return writeBytes(Buffer.from(value, 'utf8'), parts);
  if (Buffer.isBuffer(value)) return writeBytes(value, parts);
  if (typeof value === 'boolean') {
    parts.push(Buffer.from([value ? 0xc3 : 0xc2]));
    return;
  }
  if (Array.isArray(value)) {
    parts.push(header(value.length, 0x90, 0xdc, 0xdd));
    for (const item of value as readonly LuaPackable[]) write(item, parts);
    return;
  }
  const entries = Object.entries(value as Record<string, LuaPackable | undefined>).filter((entry): entry is [string, LuaPackable] => entry[1] !== undefined);
  parts.push(header(entries.length, 0x80, 0xde, 0xdf));
  for (const [key, item] of entries) {
    write(key, parts);
    write(item, parts);
  }
}

function writeBytes(bytes: Buffer, parts: Buffer[]): void {
  const length = bytes.length;
  if (length < 32) parts.push(Buffer.from([0xa0 | length]));
  else if (length < 0x100) parts.push(Buffer.from([0xd9, length]));
  else if (length < 0x10000) parts.push(Buffer.from([0xda, length >> 8, length & 0xff]));
  else {
    const head = Buffer.alloc(5);
    head[0] = 0xdb;
    head.writeUInt32BE(length, 1);
    parts.push(head);
  }
  parts.push(bytes);
}

/** The header of an array or map of `count` items: fix form below 16, then 16- and 32-bit forms. */
function header(count: number, fix: number, sixteen: number, thirtyTwo: number): Buffer {
  if (count < 16) return Buffer.from([fix | count]);
  if (count < 0x10000) return Buffer.from([sixteen, count >> 8, count & 0xff]);
  const head = Buffer.alloc(5);
  head[0] = thirtyTwo;
  head.writeUInt32BE(count, 1);
  return head;
}
