/** The windows of Mosquitto's `$SYS/broker/load/...` averages, in seconds, by the name of their topic level. */
export const LOAD_WINDOWS = { '1min': 60, '5min': 300, '15min': 900 } as const;
export type LoadWindow = keyof typeof LOAD_WINDOWS;

/**
 * Moving averages of a counter's rate as Mosquitto's `$SYS/broker/load/<what>/<1min|5min|15min>` report them:
 * the number per minute, averaged exponentially over each window (the way Unix load averages are). Fed with
 * the counter's total at every `$SYS` update.
 */
export class LoadAverages {
  private readonly averages = new Map<LoadWindow, number>();
  private last: { readonly total: number; readonly at: number } | undefined;

  /** Takes the counter's `total` at `now` (ms); the first sample only sets the starting point. */
  sample(total: number, now: number): void {
    const last = this.last;
    this.last = { total, at: now };
    if (last === undefined || now <= last.at) return;
    const seconds = (now - last.at) / 1000;
    const perMinute = ((total - last.total) * 60) / seconds;
    for (const [window, span] of Object.entries(LOAD_WINDOWS) as [LoadWindow, number][]) {
      const decay = Math.exp(-seconds / span);
      const previous = this.averages.get(window) ?? perMinute;
      this.averages.set(window, previous * decay + perMinute * (1 - decay));
    }
  }

  /** The average per minute over `window`; undefined before two samples. */
  average(window: LoadWindow): number | undefined {
    return this.averages.get(window);
  }
}
