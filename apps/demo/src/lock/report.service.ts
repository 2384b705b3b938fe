import { Injectable } from '@nestjs/common';
import { Args, RealmService, WampProcedure } from '@fox-wamp/nestjs';

/** The retained key that holds the report lock; subscribe to it (retained) to watch who holds it. */
export const REPORT_LOCK = 'demo.report.lock';

/**
 * The seed's resource lock inside a Nest app: `demo.report.run` may be called by anyone at any time, but
 * only one report runs at once. The lock is a retained entry taken with `when: null, watch: true,
 * will: null` (see `RealmService.lock`): callers queue first come first served, and a crashed process
 * cannot keep it. Across processes, the same works with any WAMP client: `npm run demo:lock`.
 */
@Injectable()
export class ReportService {
  constructor(private readonly realm: RealmService) {}

  @WampProcedure('demo.report.run')
  async run(@Args(0) name: unknown): Promise<{ report: string; lines: number }> {
    const report = typeof name === 'string' && name.length > 0 ? name : 'unnamed';
    const release = await this.realm.lock(REPORT_LOCK, { report });
    try {
      return { report, lines: await this.produce(report) };
    } finally {
      await release();
    }
  }

  /** Stands in for real work that must not run twice at once (it yields to the event loop in between). */
  private async produce(report: string): Promise<number> {
    let lines = 0;
    for (const _ of report) {
      await new Promise((resolve) => setImmediate(resolve));
      lines++;
    }
    return lines;
  }
}
