// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
// text exposition format 0.0.4. Written here rather than taking prom-client: the house adds
// dependencies only for a strong reason, and what chaosctl exports is a dozen series whose
// format (HELP/TYPE lines, escaped label values, cumulative `le` buckets) fits in this file.

export type Labels = Record<string, string>;

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  render(): string[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label values escape backslash, double quote and newline (exposition format). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Prometheus spells non-finite numbers +Inf, -Inf and NaN. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function renderLabels(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const pairs = names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? "")}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return pairs.length ? `{${pairs.join(",")}}` : "";
}

abstract class Family<T> implements Metric {
  abstract readonly type: "counter" | "gauge" | "histogram";
  protected readonly series = new Map<string, { values: string[]; data: T }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    for (const l of labelNames)
      if (!LABEL.test(l) || l.startsWith("__") || l === "le") throw new Error(`invalid label name ${l}`);
  }

  protected abstract fresh(): T;

  protected get(labels: Labels): T {
    const values = this.labelNames.map((n) => {
      const v = labels[n];
      if (v === undefined) throw new Error(`${this.name}: label ${n} missing`);
      return v;
    });
    const key = JSON.stringify(values);
    let s = this.series.get(key);
    if (!s) {
      s = { values, data: this.fresh() };
      this.series.set(key, s);
    }
    return s.data;
  }

  /** Drops every series (a gauge recomputed from scratch each pass). */
  reset(): void {
    this.series.clear();
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const s of [...this.series.values()].sort((a, b) => a.values.join("\0").localeCompare(b.values.join("\0"))))
      out.push(...this.lines(s.values, s.data));
    return out;
  }

  protected abstract lines(values: string[], data: T): string[];
}

export class Counter extends Family<{ v: number }> {
  readonly type = "counter" as const;
  protected fresh() {
    return { v: 0 };
  }
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`${this.name}: a counter only goes up`);
    this.get(labels).v += by;
  }
  /** Mirrors a monotonic count kept elsewhere (e.g. Engine.calls); never moves it down. */
  setTotal(labels: Labels, total: number): void {
    const d = this.get(labels);
    d.v = Math.max(d.v, total);
  }
  value(labels: Labels = {}): number {
    return this.get(labels).v;
  }
  protected lines(values: string[], d: { v: number }): string[] {
    return [`${this.name}${renderLabels(this.labelNames, values)} ${formatValue(d.v)}`];
  }
}

export class Gauge extends Family<{ v: number }> {
  readonly type = "gauge" as const;
  protected fresh() {
    return { v: 0 };
  }
  set(labels: Labels, v: number): void {
    this.get(labels).v = v;
  }
  value(labels: Labels = {}): number {
    return this.get(labels).v;
  }
  protected lines(values: string[], d: { v: number }): string[] {
    return [`${this.name}${renderLabels(this.labelNames, values)} ${formatValue(d.v)}`];
  }
}

interface HistogramData {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Family<HistogramData> {
  readonly type = "histogram" as const;
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  protected fresh(): HistogramData {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  observe(labels: Labels, v: number): void {
    const d = this.get(labels);
    this.buckets.forEach((b, i) => {
      if (v <= b) d.counts[i] = (d.counts[i] ?? 0) + 1;
    });
    d.sum += v;
    d.count += 1;
  }
  protected lines(values: string[], d: HistogramData): string[] {
    const out = this.buckets.map(
      (b, i) =>
        `${this.name}_bucket${renderLabels(this.labelNames, values, ["le", formatValue(b)])} ${d.counts[i] ?? 0}`,
    );
    out.push(`${this.name}_bucket${renderLabels(this.labelNames, values, ["le", "+Inf"])} ${d.count}`);
    out.push(`${this.name}_sum${renderLabels(this.labelNames, values)} ${formatValue(d.sum)}`);
    out.push(`${this.name}_count${renderLabels(this.labelNames, values)} ${d.count}`);
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: Array<() => void> = [];

  register<M extends Metric>(m: M): M {
    if (this.metrics.some((x) => x.name === m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.push(m);
    return m;
  }

  /** Runs before every exposition, to copy values kept elsewhere (engine call counts). */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  expose(): string {
    for (const c of this.collectors) c();
    return this.metrics.flatMap((m) => m.render()).join("\n") + "\n";
  }
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
