import type { Payload } from '../router/payload.js';

/**
 * About how many bytes a payload takes when stored: its JSON size, with binary values counted as their
 * bytes. Stops counting once past `limit` (the answer is then just "more than the limit"), so checking a
 * huge value costs no more than checking a value of the limit's size.
 */
export function payloadSize(payload: Payload, limit: number): number {
  let size = 0;
  const stack: unknown[] = [payload.args, payload.kwargs];
  while (stack.length > 0 && size <= limit) {
    const value = stack.pop();
    if (value === undefined || value === null || typeof value === 'boolean') size += 4;
    else if (typeof value === 'string') size += value.length + 2;
    else if (typeof value === 'number' || typeof value === 'bigint') size += 8;
    else if (value instanceof Uint8Array) size += value.byteLength;
    else if (Array.isArray(value)) {
      size += 2 + value.length;
      for (const item of value) stack.push(item);
    } else if (typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        size += key.length + 4;
        stack.push(item);
      }
    }
  }
  return size;
}
