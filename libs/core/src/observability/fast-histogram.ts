import type { Histogram, Registry } from 'prom-client';

/** One label set's observations: counts per bucket (not cumulative), their sum and their number. */
class Series {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }

  clear(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/** What `child` returns: observes into one label set. */
export interface HistogramChild {
  observe(value: number): void;
}

/** One line of the exposition, in the shape prom-client's registry renders (as `Histogram.get()` returns it). */
interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName: string;
}

/**
 * A Prometheus histogram for latencies observed on a hot path (a store operation per publication, a call's
 * duration). prom-client's `Histogram.observe` validates and hashes the label set on every call, even through
 * `labels()`, which costs more than an in-memory store operation itself; here a label set is resolved once
 * (`child`) and an observation is a bucket search over plain numbers. It registers in a prom-client registry
 * like any metric and renders exactly as a prom-client `Histogram` with the same name, labels and buckets
 * would: a label set appears once observed, and `reset()` (the registry's `resetMetrics`) empties it.
 */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  /** Label sets by their values joined with NUL, in the order of `labelNames`. */
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    buckets: readonly number[],
    registers: readonly Registry[],
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b);
    // The registry only reads name, help, type, aggregator, get() and reset() of a metric.
    for (const registry of registers) registry.registerMetric(this as unknown as Histogram);
  }

  /** The label set `labels` (one value per label name; their order is the order they are rendered in). */
  child(labels: Readonly<Record<string, string>>): HistogramChild {
    const key = this.labelNames.map((name) => labels[name] ?? '').join('\u0000');
    let series = this.series.get(key);
    if (series === undefined) {
      series = new Series({ ...labels }, this.bounds);
      this.series.set(key, series);
    }
    return series;
  }

  /** The metric in prom-client's `get()` shape: per observed label set the cumulative buckets, `+Inf`, sum and count. */
  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] }> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.series.values()) {
      if (series.count === 0) continue;
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push({ labels: { le: this.bounds[i]!, ...series.labels }, value: cumulative, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: bucket });
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    for (const series of this.series.values()) series.clear();
  }
}
