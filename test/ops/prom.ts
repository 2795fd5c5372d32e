// A strict reader of the Prometheus text format (0.0.4) for tests: every sample line must parse,
// every family must have HELP and TYPE before its samples, histograms must be cumulative.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of one series (undefined when absent). */
  get(name: string, labels?: Record<string, string>): number | undefined;
  /** Sum over every series of `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function parseValue(v: string): number {
  if (v === "+Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  if (v === "NaN") return NaN;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`bad value ${v}`);
  return n;
}

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (!m) throw new Error(`bad labels {${text}}`);
    out[m[1] as string] = (m[2] as string).replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
  }
  return out;
}

const familyOf = (name: string, types: Map<string, string>): string => {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && types.get(base) === "histogram") return base;
  }
  return name;
};

export function parseExposition(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") types.set(meta[2] as string, meta[3] as string);
      else helps.add(meta[2] as string);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`unparsable line: ${line}`);
    const name = m[1] as string;
    const fam = familyOf(name, types);
    if (!types.has(fam) || !helps.has(fam)) throw new Error(`sample ${name} before its HELP/TYPE`);
    samples.push({ name, labels: m[3] ? parseLabels(m[3]) : {}, value: parseValue(m[4] as string) });
  }
  // Histograms: buckets non-decreasing in le, +Inf bucket equals _count.
  for (const [fam, type] of types) {
    if (type !== "histogram") continue;
    const groups = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${fam}_bucket`)) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      groups.set(key, [...(groups.get(key) ?? []), s]);
      if (le === undefined) throw new Error(`${fam} bucket without le`);
    }
    for (const [key, buckets] of groups) {
      const sorted = buckets
        .map((b) => ({ le: parseValue(b.labels.le as string), v: b.value }))
        .sort((a, b) => a.le - b.le);
      sorted.forEach((b, i) => {
        if (i > 0 && b.v < (sorted[i - 1] as { v: number }).v) throw new Error(`${fam}${key}: buckets not cumulative`);
      });
      const count = samples.find((s) => s.name === `${fam}_count` && JSON.stringify(s.labels) === key);
      if (sorted.at(-1)?.le !== Infinity || count?.value !== sorted.at(-1)?.v)
        throw new Error(`${fam}${key}: +Inf bucket must equal _count`);
    }
  }
  const match = (s: Sample, name: string, labels: Record<string, string>): boolean =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    types,
    samples,
    get: (name, labels = {}) =>
      samples.find((s) => match(s, name, labels) && Object.keys(s.labels).length === Object.keys(labels).length)?.value,
    sum: (name, labels = {}) => samples.filter((s) => match(s, name, labels)).reduce((a, s) => a + s.value, 0),
  };
}
