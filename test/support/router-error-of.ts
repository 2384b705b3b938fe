import { expect } from 'vitest';
import { RouterError } from '@fox-wamp/core';

/** Awaits a promise that must reject with a `RouterError` (an in-process call or publish), and returns it. */
export async function routerErrorOf(promise: Promise<unknown>): Promise<RouterError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RouterError);
    return error as RouterError;
  }
  throw new Error('expected the call to fail');
}
