import { Injectable } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { WAMP_CONTEXT_TYPE, WAMP_PARAMS_METADATA } from '../fox-wamp.constants.js';
import { toWampError } from '../exceptions/to-wamp-error.js';
import type { WampContext } from './wamp-context.js';
import { WampParamsFactory } from './wamp-params.factory.js';

/** A decorated method, wrapped in the Nest pipeline: resolves to its result, rejects with a `RouterError`. */
export type WampHandler = (context: WampContext) => Promise<unknown>;

/**
 * Wraps a decorated method in guards, interceptors, pipes and exception filters (the method's, its
 * class's and the global ones) with Nest's `ExternalContextCreator`, under the context type `wamp`.
 */
@Injectable()
export class WampContextCreator {
  private readonly paramsFactory = new WampParamsFactory();

  constructor(private readonly externalContextCreator: ExternalContextCreator) {}

  create(instance: object, methodName: string): WampHandler {
    const method = (instance as Record<string, (...args: unknown[]) => unknown>)[methodName]!;
    const pipeline = this.externalContextCreator.create(
      instance,
      method,
      methodName,
      WAMP_PARAMS_METADATA,
      this.paramsFactory,
      undefined,
      undefined,
      { guards: true, interceptors: true, filters: true },
      WAMP_CONTEXT_TYPE,
    );
    return async (context) => {
      try {
        // An exception filter may answer with an Observable (as RPC filters do with `throwError`).
        const result = await pipeline(context);
        return isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result;
      } catch (error) {
        throw toWampError(error);
      }
    };
  }
}
