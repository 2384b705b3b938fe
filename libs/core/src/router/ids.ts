import { randomBytes } from 'node:crypto';

/** Largest WAMP ID: 2^53, the biggest integer every JSON peer reads exactly. */
export const MAX_ID = 2 ** 53;

const POOL_SIZE = 7 * 1024;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * A random ID in [1, 2^53] for the spec's global scope (session and publication IDs). Draws from a pool of
 * crypto-random bytes so a busy publisher does not pay for one `randomBytes` call per message.
 */
export function randomId(): number {
  if (offset + 7 > pool.length) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  // 7 bytes = 56 bits; keep 53 of them. high: 21 bits, low: 32 bits.
  const high = pool.readUIntBE(offset, 3) & 0x1fffff;
  const low = pool.readUInt32BE(offset + 3);
  offset += 7;
  return high * 2 ** 32 + low + 1;
}

/** Session-scope IDs: 1, 2, 3, ... wrapping after 2^53 (spec: "Session Scope"). */
export class SequentialIds {
  private last = 0;

  next(): number {
    this.last = this.last >= MAX_ID ? 1 : this.last + 1;
    return this.last;
  }

  /** The last ID handed out, 0 before the first. */
  get current(): number {
    return this.last;
  }
}

/** Whether `value` is a valid WAMP ID: an integer in [1, 2^53] (0 is allowed for a few request fields). */
export function isWampId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_ID;
}
