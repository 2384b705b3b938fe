/** One sample of a Prometheus text exposition: `name{label="value",...} number`. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The metrics of one scrape, read from the Prometheus text format, so a test can compare two scrapes around what
 * a scripted client did. Values are looked up by name and a subset of labels (samples that match are summed).
 */
export class MetricsScrape {
  private constructor(readonly samples: readonly MetricSample[]) {}

  /** GETs `url` (e.g. `http://127.0.0.1:PORT/metrics`); fails on anything but 200 with the text format. */
  static async of(url: string): Promise<MetricsScrape> {
    const response = await fetch(url);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${text}`);
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('text/plain')) throw new Error(`GET ${url} answered with content type ${type}, not the Prometheus text format`);
    return MetricsScrape.parse(text);
  }

  static parse(text: string): MetricsScrape {
    const samples: MetricSample[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const match = SAMPLE_LINE.exec(line);
      if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = value!.replace(/\\(.)/g, (_, escaped: string) => (escaped === 'n' ? '\n' : escaped));
      samples.push({ name: match[1]!, labels, value: Number(match[3]) });
    }
    return new MetricsScrape(samples);
  }

  /** The samples of `name` whose labels include every one of `labels`. */
  matching(name: string, labels: Readonly<Record<string, string>> = {}): MetricSample[] {
    return this.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  }

  /** The sum of the matching samples; 0 when there are none (a counter that has not moved yet). */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.matching(name, labels).reduce((sum, sample) => sum + sample.value, 0);
  }

  /** How much the matching samples grew from `before` to this scrape. */
  since(before: MetricsScrape, name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.value(name, labels) - before.value(name, labels);
  }

  /** Whether the scrape has the metric at all (as a HELP-less sample). */
  has(name: string): boolean {
    return this.samples.some((sample) => sample.name === name);
  }
}
