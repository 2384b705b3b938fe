import { Controller, Get } from '@nestjs/common';
import { RouterService } from '@fox-wamp/nestjs';

/** Liveness for process supervisors and load balancers. */
@Controller()
export class HealthController {
  constructor(private readonly routerService: RouterService) {}

  @Get('health')
  health(): { status: 'ok'; sessions: number; realms: string[] } {
    const router = this.routerService.router;
    return { status: 'ok', sessions: router.sessionCount, realms: [...router.realms()].map((realm) => realm.name) };
  }
}
