import type { PipeTransform, Type } from '@nestjs/common';
import { WAMP_PARAMS_METADATA } from '../fox-wamp.constants.js';
import { WampParamType } from '../context/wamp-param-type.js';

type Pipe = Type<PipeTransform> | PipeTransform;

/**
 * Stores a parameter's source the way Nest's own route parameters are stored (`type:index` → index, data,
 * pipes), so `ExternalContextCreator` applies global, class, method and parameter pipes to it, and
 * `ValidationPipe` validates it against the parameter's class.
 */
function wampParam(type: WampParamType, data: string | number | undefined, pipes: Pipe[]): ParameterDecorator {
  return (target, propertyKey, index) => {
    if (propertyKey === undefined) throw new Error('WAMP parameter decorators apply to method parameters only');
    const host = target.constructor;
    const params = Reflect.getMetadata(WAMP_PARAMS_METADATA, host, propertyKey) ?? {};
    Reflect.defineMetadata(WAMP_PARAMS_METADATA, { ...params, [`${type}:${index}`]: { index, data, pipes } }, host, propertyKey);
  };
}

function split<T extends string | number>(first: T | Pipe | undefined, pipes: Pipe[], kind: 'string' | 'number'): [T | undefined, Pipe[]] {
  return typeof first === kind ? [first as T, pipes] : [undefined, first === undefined ? pipes : [first as Pipe, ...pipes]];
}

/** The call's or event's positional arguments; `@Args(0)` for one of them. Pipes may follow. */
export function Args(indexOrPipe?: number | Pipe, ...pipes: Pipe[]): ParameterDecorator {
  const [index, rest] = split<number>(indexOrPipe, pipes, 'number');
  return wampParam(WampParamType.ARGS, index, rest);
}

/** The keyword arguments; `@Kwargs('name')` for one of them. Pipes may follow. */
export function Kwargs(keyOrPipe?: string | Pipe, ...pipes: Pipe[]): ParameterDecorator {
  const [key, rest] = split<string>(keyOrPipe, pipes, 'string');
  return wampParam(WampParamType.KWARGS, key, rest);
}

/** INVOCATION/EVENT details; `@Details('caller')` for one entry. */
export function Details(key?: string): ParameterDecorator {
  return wampParam(WampParamType.DETAILS, key, []);
}

/** The concrete procedure or topic URI (useful with pattern registrations and subscriptions). */
export function WampUri(): ParameterDecorator {
  return wampParam(WampParamType.URI, undefined, []);
}

/** The whole `WampContext`: realm, URI, args, kwargs, details and `progress()`. */
export function WampCtx(): ParameterDecorator {
  return wampParam(WampParamType.CONTEXT, undefined, []);
}
