import type { ParamsFactory } from '@nestjs/core';
import { WampParamType } from './wamp-param-type.js';
import type { WampContext } from './wamp-context.js';

/** Turns a parameter decorator's type and data into the value it injects, from the handler's `WampContext`. */
export class WampParamsFactory implements ParamsFactory {
  exchangeKeyForValue(type: number, data: unknown, args: unknown[]): unknown {
    const context = args[0] as WampContext;
    switch (type as WampParamType) {
      case WampParamType.ARGS:
        return typeof data === 'number' ? context.args[data] : context.args;
      case WampParamType.KWARGS:
        return typeof data === 'string' ? context.kwargs[data] : context.kwargs;
      case WampParamType.DETAILS:
        return typeof data === 'string' ? context.details[data] : context.details;
      case WampParamType.URI:
        return context.uri;
      case WampParamType.CONTEXT:
        return context;
      default:
        return undefined;
    }
  }
}
