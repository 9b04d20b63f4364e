import type { Metric, Registry } from 'prom-client';

/** One line of the exposition, as prom-client's registry formats it. */
interface ExportedValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A counter and a histogram for the per-request path, exposed through prom-client's registry in
 * its own text format. prom-client's `inc`/`observe` validate the label names, sort them and
 * build a hash string on every call; at one HTTP and one tool observation per MCP request that
 * was a measurable share of a status call's CPU (docs/benchmarks.md §4). Here a label set is
 * looked up by its values joined in the declared order, and an observation is an addition.
 * The label names are fixed at construction and every call passes all of them (TypeScript checks
 * it), which is what prom-client validated at run time.
 */
abstract class SeriesMetric<Label extends string, Series extends { labels: Record<Label, string> }> {
  protected readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly Label[],
  ) {}

  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;

  protected seriesOf(labels: Record<Label, string>): Series {
    // The values joined by U+0000, which none of them holds (methods, route patterns, status
    // codes, tool names, outcome codes).
    let key = '';
    for (const name of this.labelNames) key += `${labels[name]}\u0000`;
    let found = this.series.get(key);
    if (found === undefined) {
      const own = {} as Record<Label, string>;
      for (const name of this.labelNames) own[name] = labels[name];
      found = this.create(own);
      this.series.set(key, found);
    }
    return found;
  }

  protected abstract create(labels: Record<Label, string>): Series;
  protected abstract values(): ExportedValue[];

  /** What prom-client's registry reads at scrape time. */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() });
  }

  reset(): void {
    this.series.clear();
  }

  /** Adds this metric to a prom-client registry, next to prom-client's own metrics. */
  registerIn(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}

interface CounterSeries<Label extends string> {
  labels: Record<Label, string>;
  value: number;
}

export class SeriesCounter<Label extends string> extends SeriesMetric<Label, CounterSeries<Label>> {
  readonly type = 'counter' as const;

  inc(labels: Record<Label, string>, value = 1): void {
    this.seriesOf(labels).value += value;
  }

  protected create(labels: Record<Label, string>): CounterSeries<Label> {
    return { labels, value: 0 };
  }

  protected values(): ExportedValue[] {
    return [...this.series.values()].map(({ labels, value }) => ({ labels: { ...labels }, value }));
  }
}

interface HistogramSeries<Label extends string> {
  labels: Record<Label, string>;
  /** Observations per bucket (not cumulative), by index into the upper bounds. */
  counts: number[];
  sum: number;
  count: number;
}

export class SeriesHistogram<Label extends string> extends SeriesMetric<Label, HistogramSeries<Label>> {
  readonly type = 'histogram' as const;

  constructor(
    name: string,
    help: string,
    labelNames: readonly Label[],
    private readonly upperBounds: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  observe(labels: Record<Label, string>, value: number): void {
    const series = this.seriesOf(labels);
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i += 1) {
      if (value <= bounds[i]!) {
        series.counts[i]! += 1;
        break;
      }
    }
    series.sum += value;
    series.count += 1;
  }

  protected create(labels: Record<Label, string>): HistogramSeries<Label> {
    return { labels, counts: this.upperBounds.map(() => 0), sum: 0, count: 0 };
  }

  protected values(): ExportedValue[] {
    const values: ExportedValue[] = [];
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.upperBounds.forEach((bound, i) => {
        cumulative += counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: bound, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: count });
    }
    return values;
  }
}
