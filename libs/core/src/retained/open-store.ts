import type { RouterLogger } from '../router/logger.js';
import { MemoryStoreProvider } from './memory-realm-store.js';
import type { StoreProvider } from './realm-store.js';
import { RedisStoreProvider } from './redis-store-provider.js';
import { SqliteStoreProvider } from './sqlite-store-provider.js';

export interface OpenStoreOptions {
  /** Where a networked store (Redis) reports losing and regaining its connection. */
  readonly logger?: RouterLogger;
}

/** Whether a store string names the Redis store (`redis://...` or `rediss://...`). */
export function isRedisStore(spec: string): boolean {
  return spec.startsWith('redis://') || spec.startsWith('rediss://');
}

/**
 * Opens a store from its configuration string: `memory`, `sqlite:<path>` (the file is created if needed), or
 * `redis://host:port[/db][?prefix=name]`. Throws an `Error` with a one-line message for anything else.
 *
 * Synchronous: a Redis store is returned while it connects, and its first operations wait for that attempt
 * (and fail if it fails). `connectStore` waits for the connection instead, so an unreachable Redis is a
 * one-line error at startup.
 */
export function openStore(spec: string, options: OpenStoreOptions = {}): StoreProvider {
  if (spec === 'memory') return new MemoryStoreProvider();
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (path.length === 0) throw new Error('the sqlite store needs a file: --store sqlite:<path>');
    try {
      return SqliteStoreProvider.open(path);
    } catch (error) {
      throw new Error(`cannot open sqlite store ${path}: ${(error as Error).message}`);
    }
  }
  if (isRedisStore(spec)) return RedisStoreProvider.create(spec, { logger: options.logger });
  throw new Error(`unknown store "${spec}" (use memory, sqlite:<path> or redis://host:port[/db])`);
}

/** `openStore`, but a Redis store resolves only once connected and rejects (one line) if Redis cannot be reached. */
export async function connectStore(spec: string, options: OpenStoreOptions = {}): Promise<StoreProvider> {
  if (isRedisStore(spec)) return RedisStoreProvider.connect(spec, { logger: options.logger });
  return openStore(spec, options);
}
