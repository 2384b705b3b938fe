import { MemoryStoreProvider } from './memory-realm-store.js';
import type { StoreProvider } from './realm-store.js';
import { SqliteStoreProvider } from './sqlite-store-provider.js';

/**
 * Opens a store from its configuration string: `memory`, or `sqlite:<path>` (the file is created if
 * needed). Throws an `Error` with a one-line message for anything else.
 */
export function openStore(spec: string): StoreProvider {
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
  throw new Error(`unknown store "${spec}" (use memory or sqlite:<path>)`);
}
