import 'reflect-metadata';
import {
  Catch,
  Controller,
  Get,
  Injectable,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Max, Min, MinLength } from 'class-validator';
import { map, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Args,
  FoxWampModule,
  getWampContext,
  isWampContext,
  Kwargs,
  RealmService,
  WampException,
  WampProcedure,
  WampSubscribe,
  type FoxWampModuleOptions,
  type RouterLogger,
} from '@fox-wamp/nestjs';
import { Inbox } from '../support/autobahn-client.js';
import { httpPortOf } from '../support/nest-app.js';
import { routerErrorOf } from '../support/router-error-of.js';

// Guards, interceptors, pipes and exception filters on WAMP handlers, at method, class and global level,
// exercised in process through RealmService (a session of the same router).

class CreateUserDto {
  @IsString()
  @MinLength(3)
  name!: string;

  @IsInt()
  @Min(0)
  @Max(150)
  age!: number;
}

class DomainError extends Error {}

/** Lets a call through when its kwargs carry `token: 'secret'`. */
@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return getWampContext(context).kwargs.token === 'secret';
  }
}

/** An HTTP-minded global guard that steps aside for WAMP handlers, as `isWampContext` is meant for. */
@Injectable()
class HttpApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (isWampContext(context)) return true;
    return context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-api-key'] === 'key';
  }
}

/** Wraps results, and proves it runs with the context type `wamp`. */
@Injectable()
class EnvelopeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((data) => ({ data, type: context.getType(), uri: getWampContext(context).uri })));
  }
}

const seenByGlobalInterceptor: string[] = [];

@Injectable()
class RecordingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (isWampContext(context)) seenByGlobalInterceptor.push(getWampContext(context).uri);
    return next.handle();
  }
}

@Catch(DomainError)
class DomainErrorFilter implements ExceptionFilter {
  catch(error: DomainError): never {
    throw new WampException('app.error.domain', [error.message], { filtered: true });
  }
}

/** A filter may also answer with a value: it becomes the call's result. */
@Catch(RangeError)
class FallbackFilter implements ExceptionFilter {
  catch(error: RangeError, host: ArgumentsHost): unknown {
    return { fallback: error.message, type: host.getType() };
  }
}

@Injectable()
class Handlers {
  @WampProcedure('users.create')
  create(@Kwargs() user: CreateUserDto): string {
    return `${user.name} (${user.age}) is a ${user.constructor.name}`;
  }

  @WampProcedure('users.first')
  @UsePipes(new ValidationPipe())
  first(@Args(0) user: CreateUserDto): string {
    return user.name;
  }

  @WampProcedure('secure.op')
  @UseGuards(TokenGuard)
  secure(): string {
    return 'granted';
  }

  @WampProcedure('wrapped.op')
  @UseInterceptors(EnvelopeInterceptor)
  wrapped(): number {
    return 7;
  }

  @WampProcedure('domain.fail')
  @UseFilters(DomainErrorFilter)
  domainFail(): never {
    throw new DomainError('the order is closed');
  }

  @WampProcedure('range.fail')
  @UseFilters(FallbackFilter)
  rangeFail(): never {
    throw new RangeError('out of range');
  }

  @WampProcedure('explicit.fail')
  explicitFail(): never {
    throw new WampException('app.error.no_stock', ['out of stock'], { sku: 'A-1' });
  }

  @WampProcedure('unexpected.fail')
  unexpectedFail(): never {
    throw new TypeError('secret internals');
  }

  @WampProcedure('plain.op')
  plain(): string {
    return 'plain';
  }
}

/** Captures the engine's and the module's log lines. */
function capturingLogger(): RouterLogger & { warnings: Inbox<string> } {
  const warnings = new Inbox<string>();
  return { warnings, debug() {}, info() {}, error() {}, warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields ?? {})}`) };
}

let app: INestApplication | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

interface Setup {
  providers?: unknown[];
  controllers?: unknown[];
  options?: FoxWampModuleOptions;
  configure?: (app: INestApplication) => void;
}

async function start({ providers = [Handlers], controllers = [], options = {}, configure }: Setup = {}): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [FoxWampModule.forRoot({ wamp: false, ...options })],
    providers: providers as never[],
    controllers: controllers as never[],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  configure?.(app);
  await app.init();
  return app;
}

describe('pipes', () => {
  it('validates @Kwargs() against a DTO with a global ValidationPipe and transforms it into the class', async () => {
    const realm = (await start({ configure: (a) => a.useGlobalPipes(new ValidationPipe({ transform: true })) })).get(RealmService);
    expect((await realm.call('users.create', [], { name: 'Ada', age: 36 })).args).toEqual(['Ada (36) is a CreateUserDto']);
  });

  it('answers invalid input with wamp.error.invalid_argument and the validation messages in kwargs', async () => {
    const realm = (await start({ configure: (a) => a.useGlobalPipes(new ValidationPipe()) })).get(RealmService);
    const error = await routerErrorOf(realm.call('users.create', [], { name: 'Al', age: 200 }));
    expect(error.uri).toBe('wamp.error.invalid_argument');
    expect(error.kwargs?.messages).toEqual(
      expect.arrayContaining(['name must be longer than or equal to 3 characters', 'age must not be greater than 150']),
    );
    expect(error.kwargs?.statusCode).toBe(400);
  });

  it('applies a method-level ValidationPipe to @Args(0)', async () => {
    const realm = (await start()).get(RealmService);
    expect((await realm.call('users.first', [{ name: 'Grace', age: 85 }])).args).toEqual(['Grace']);
    const error = await routerErrorOf(realm.call('users.first', [{ name: 'Grace', age: 'old' }]));
    expect(error.uri).toBe('wamp.error.invalid_argument');
    expect(error.kwargs?.messages).toContain('age must be an integer number');
  });
});

describe('guards', () => {
  it('runs a method guard: a denial is wamp.error.not_authorized, a pass reaches the handler', async () => {
    const realm = (await start()).get(RealmService);
    expect((await realm.call('secure.op', [], { token: 'secret' })).args).toEqual(['granted']);
    const error = await routerErrorOf(realm.call('secure.op', [], { token: 'wrong' }));
    expect(error.uri).toBe('wamp.error.not_authorized');
    expect(error.kwargs?.messages).toEqual(['Forbidden resource']);
  });

  it('runs a global guard given with APP_GUARD on every WAMP handler', async () => {
    const realm = (await start({ providers: [Handlers, { provide: APP_GUARD, useClass: TokenGuard }] })).get(RealmService);
    expect((await routerErrorOf(realm.call('plain.op'))).uri).toBe('wamp.error.not_authorized');
    expect((await realm.call('plain.op', [], { token: 'secret' })).args).toEqual(['plain']);
  });

  it('runs a global guard given with app.useGlobalGuards()', async () => {
    const realm = (await start({ configure: (a) => a.useGlobalGuards(new TokenGuard()) })).get(RealmService);
    expect((await routerErrorOf(realm.call('plain.op'))).uri).toBe('wamp.error.not_authorized');
  });

  it('lets an HTTP guard step aside for WAMP with isWampContext() while it still guards HTTP routes', async () => {
    @Controller()
    class PingController {
      @Get('ping')
      ping(): string {
        return 'pong';
      }
    }
    const started = await start({ providers: [Handlers, { provide: APP_GUARD, useClass: HttpApiKeyGuard }], controllers: [PingController] });
    await started.listen(0, '127.0.0.1');
    expect((await started.get(RealmService).call('plain.op')).args).toEqual(['plain']);
    const url = `http://127.0.0.1:${httpPortOf(started)}/ping`;
    expect((await fetch(url)).status).toBe(403);
    expect(await (await fetch(url, { headers: { 'x-api-key': 'key' } })).text()).toBe('pong');
  });

  it('drops an event whose @WampSubscribe guard denies it, and logs why', async () => {
    const bodies = new Inbox<unknown>();
    @Injectable()
    class GuardedListener {
      @WampSubscribe('alerts.new')
      @UseGuards(TokenGuard)
      onAlert(@Args(0) alert: unknown): void {
        bodies.push(alert);
      }
    }
    const logger = capturingLogger();
    const realm = (await start({ providers: [GuardedListener], options: { logger } })).get(RealmService);
    await realm.publish('alerts.new', ['denied'], { token: 'wrong' });
    await logger.warnings.waitUntil((lines) => lines.some((line) => line.includes('wamp.error.not_authorized')), 'the denial log line');
    await realm.publish('alerts.new', ['allowed'], { token: 'secret' });
    // The denied event was settled (logged) before this publication, so it can no longer arrive.
    expect(await bodies.waitFor(1)).toEqual(['allowed']);
  });
});

describe('interceptors', () => {
  it('runs a method interceptor around the handler, with context type wamp', async () => {
    const realm = (await start()).get(RealmService);
    expect((await realm.call('wrapped.op')).args).toEqual([{ data: 7, type: 'wamp', uri: 'wrapped.op' }]);
  });

  it('runs a global interceptor given with APP_INTERCEPTOR', async () => {
    seenByGlobalInterceptor.length = 0;
    const realm = (await start({ providers: [Handlers, { provide: APP_INTERCEPTOR, useClass: RecordingInterceptor }] })).get(RealmService);
    await realm.call('plain.op');
    await realm.call('wrapped.op');
    expect(seenByGlobalInterceptor).toEqual(['plain.op', 'wrapped.op']);
  });
});

describe('exceptions and filters', () => {
  it('gives the caller a WampException\'s URI, args and kwargs', async () => {
    const error = await routerErrorOf((await start()).get(RealmService).call('explicit.fail'));
    expect([error.uri, error.args, error.kwargs]).toEqual(['app.error.no_stock', ['out of stock'], { sku: 'A-1' }]);
  });

  it('hides an unexpected error\'s message behind wamp.error.runtime_error "Internal server error"', async () => {
    const error = await routerErrorOf((await start()).get(RealmService).call('unexpected.fail'));
    expect([error.uri, error.args]).toEqual(['wamp.error.runtime_error', ['Internal server error']]);
  });

  it('lets a method exception filter turn an error into a chosen WAMP error', async () => {
    const error = await routerErrorOf((await start()).get(RealmService).call('domain.fail'));
    expect([error.uri, error.args, error.kwargs]).toEqual(['app.error.domain', ['the order is closed'], { filtered: true }]);
  });

  it('lets an exception filter answer with a result instead', async () => {
    expect((await (await start()).get(RealmService).call('range.fail')).args).toEqual([{ fallback: 'out of range', type: 'wamp' }]);
  });

  it('applies a global filter given with APP_FILTER', async () => {
    @Catch(TypeError)
    class TypeErrorFilter implements ExceptionFilter {
      catch(error: TypeError): never {
        throw new WampException('app.error.type', [error.message]);
      }
    }
    const realm = (await start({ providers: [Handlers, { provide: APP_FILTER, useClass: TypeErrorFilter }] })).get(RealmService);
    const error = await routerErrorOf(realm.call('unexpected.fail'));
    expect([error.uri, error.args]).toEqual(['app.error.type', ['secret internals']]);
  });
});
