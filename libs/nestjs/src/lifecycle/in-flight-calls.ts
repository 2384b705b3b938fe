import type { Router } from '@fox-wamp/core';

/** Calls the router has accepted and not finished: invoked at a callee, or waiting for a callee's free slot. */
export function countInFlightCalls(router: Router): number {
  let count = 0;
  for (const realm of router.realms()) {
    for (const session of realm.sessions()) count += session.invocations.size;
    for (const registration of realm.dealer.registrations()) count += registration.queue.length;
  }
  return count;
}

/**
 * Resolves once `done()` holds or `timeoutMs` has passed, whichever comes first; tells which. Shutdown
 * only: the engine has no "idle" event, and a short poll costs nothing while the process is stopping.
 */
export async function waitUntil(done: () => boolean, timeoutMs: number, pollMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}
