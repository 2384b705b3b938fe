import { Controller, Get, NotFoundException, Res } from '@nestjs/common';
import { RouterService } from '@fox-wamp/nestjs';

/** The router's Prometheus metrics (404 when the server runs with `--no-metrics`). */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly routerService: RouterService) {}

  @Get()
  async metrics(@Res({ passthrough: true }) response: { setHeader(name: string, value: string): unknown }): Promise<string> {
    const prometheus = this.routerService.prometheus;
    if (prometheus === undefined) throw new NotFoundException('metrics are off (--no-metrics)');
    response.setHeader('Content-Type', prometheus.contentType);
    return prometheus.render();
  }
}
