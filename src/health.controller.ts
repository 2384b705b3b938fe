import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { RouterService, type FoxWampReadiness } from '@fox-wamp/nestjs';

type ReadinessBody = { status: 'ready' | 'not ready' } & FoxWampReadiness;

/** Health for process supervisors and load balancers. */
@Controller('health')
export class HealthController {
  constructor(private readonly routerService: RouterService) {}

  /**
   * Liveness: the process answers. Nothing else is checked, so a supervisor restarts only a process that hangs
   * (not every node of a cluster while Redis is away); the cluster engine's state is reported, and fails readiness.
   */
  @Get()
  health(): { status: 'ok'; sessions: number; realms: string[]; cluster?: FoxWampReadiness['cluster'] } {
    const router = this.routerService.router;
    const cluster = this.routerService.readiness().cluster;
    return { status: 'ok', sessions: router.sessionCount, realms: [...router.realms()].map((realm) => realm.name), ...(cluster === undefined ? {} : { cluster }) };
  }

  /**
   * Readiness: 200 while the router can take clients (its listeners listen, its store is reachable, it is not
   * shutting down), 503 with the problems otherwise, so a load balancer sends clients elsewhere.
   */
  @Get('ready')
  ready(): ReadinessBody {
    const readiness = this.routerService.readiness();
    if (!readiness.ready) throw new ServiceUnavailableException({ status: 'not ready', ...readiness } satisfies ReadinessBody);
    return { status: 'ready', ...readiness };
  }
}
