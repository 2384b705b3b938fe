import 'reflect-metadata';
import {
  Catch,
  Injectable,
  Module,
  UseFilters,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { IsEmail, IsString, MinLength } from 'class-validator';
import { map, type Observable } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FoxWampModule, getWampContext, Kwargs, RealmService, WampException, WampProcedure } from '@fox-wamp/nestjs';
import { connectAutobahn, rejectionOf, type AutobahnClient } from '../support/autobahn-client.js';
import { wampUrlOf } from '../support/nest-app.js';

// The Nest pipeline on WAMP handlers, seen by a remote autobahn client: the app is configured with
// forRootAsync from ConfigModule, shares Nest's HTTP port, and uses a global ValidationPipe.

class SignupDto {
  @IsEmail()
  email!: string;

  @IsString()
  @MinLength(8)
  password!: string;
}

class AccountLocked extends Error {}

@Injectable()
class AdminRoleGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return getWampContext(context).kwargs.role === 'admin';
  }
}

@Injectable()
class TimingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((value) => ({ value, via: `${context.getType()}:${context.getHandler().name}` })));
  }
}

@Catch(AccountLocked)
class AccountLockedFilter implements ExceptionFilter {
  catch(error: AccountLocked): never {
    throw new WampException('app.error.account_locked', [error.message], { retryAfter: 60 });
  }
}

@Injectable()
class AccountService {
  @WampProcedure('account.signup')
  signup(@Kwargs() dto: SignupDto): string {
    return `welcome ${dto.email}`;
  }

  @WampProcedure('account.purge')
  @UseGuards(AdminRoleGuard)
  purge(): string {
    return 'purged';
  }

  @WampProcedure('account.balance')
  @UseInterceptors(TimingInterceptor)
  balance(): number {
    return 100;
  }

  @WampProcedure('account.login')
  @UseFilters(AccountLockedFilter)
  login(): never {
    throw new AccountLocked('too many attempts');
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ WAMP_REALM: 'accounts', WAMP_PATH: '/api/wamp' })] }),
    FoxWampModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        realms: [config.getOrThrow<string>('WAMP_REALM')],
        wamp: { path: config.getOrThrow<string>('WAMP_PATH') },
      }),
    }),
  ],
  providers: [AccountService],
})
class AppModule {}

let app: INestApplication;
let client: AutobahnClient;

beforeAll(async () => {
  app = await NestFactory.create(AppModule, { logger: false });
  app.useGlobalPipes(new ValidationPipe());
  await app.listen(0, '127.0.0.1');
});

afterEach(async () => {
  await client?.close();
});

afterAll(async () => {
  await app.close();
});

async function connect(): Promise<AutobahnClient> {
  client = await connectAutobahn(wampUrlOf(app), 'json', 'accounts');
  return client;
}

describe('a Nest app configured with forRootAsync and ConfigModule', () => {
  it('serves the realm and path its ConfigService gave', async () => {
    expect(wampUrlOf(app)).toMatch(/\/api\/wamp$/);
    expect(app.get(RealmService).realmName).toBe('accounts');
    const { session } = await connect();
    expect(await session.call('account.signup', [], { email: 'ada@example.org', password: 'correct horse' })).toBe('welcome ada@example.org');
  });

  it('answers a DTO that fails validation with wamp.error.invalid_argument and the messages in kwargs', async () => {
    const { session } = await connect();
    const error = await rejectionOf(session.call('account.signup', [], { email: 'not-an-email', password: 'short' }));
    expect(error.error).toBe('wamp.error.invalid_argument');
    expect(error.kwargs.messages).toEqual(
      expect.arrayContaining(['email must be an email', 'password must be longer than or equal to 8 characters']),
    );
  });

  it('answers a guard\'s denial with wamp.error.not_authorized', async () => {
    const { session } = await connect();
    expect((await rejectionOf(session.call('account.purge', [], { role: 'guest' }))).error).toBe('wamp.error.not_authorized');
    expect(await session.call('account.purge', [], { role: 'admin' })).toBe('purged');
  });

  it('returns what an interceptor made of the result', async () => {
    const { session } = await connect();
    expect(await session.call('account.balance')).toEqual({ value: 100, via: 'wamp:balance' });
  });

  it('returns the WAMP error an exception filter chose', async () => {
    const { session } = await connect();
    const error = await rejectionOf(session.call('account.login'));
    expect([error.error, error.args, error.kwargs]).toEqual(['app.error.account_locked', ['too many attempts'], { retryAfter: 60 }]);
  });
});
