// prometheus probe: an instant query (GET /api/v1/query), the comparison applied to the scalar
// or to every sample. Any other shape of answer is a failure that says what came back.
import type { DefaultedProbe, PrometheusProbe } from "../api/types.js";
import { MAX_BODY_BYTES, readCapped } from "./http.js";
import type { CheckContext, CheckResult, ProbeRunner } from "./types.js";
import { clip, errorText } from "./types.js";

type Op = PrometheusProbe["op"];

export function compare(a: number, op: Op, b: number): boolean {
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "==":
      return a === b;
    case "!=":
      return a !== b;
  }
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** A sample value as Prometheus sends it: [unix seconds, "number"]. */
function sampleValue(v: unknown): number | undefined {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[1] !== "string") return undefined;
  const n = Number(v[1]);
  return v[1].trim() === "" ? undefined : n;
}

function labelsText(metric: unknown): string {
  const m = rec(metric) ?? {};
  const name = typeof m.__name__ === "string" ? m.__name__ : "";
  const rest = Object.entries(m)
    .filter(([k]) => k !== "__name__")
    .map(([k, v]) => `${k}="${String(v)}"`)
    .join(",");
  return `${name}{${rest}}`;
}

/** Pure: judge a decoded /api/v1/query answer. */
export function judgeAnswer(answer: unknown, op: Op, value: number): CheckResult {
  const a = rec(answer);
  if (!a) return { ok: false, message: "answer is not a JSON object (is the URL a Prometheus server?)" };
  if (a.status !== "success") {
    const err = typeof a.error === "string" ? a.error : "no error given";
    return { ok: false, message: `query failed: ${String(a.errorType ?? a.status)}: ${clip(err)}` };
  }
  const data = rec(a.data);
  const type = data?.resultType;
  if (type === "scalar") {
    const n = sampleValue(data?.result);
    if (n === undefined) return { ok: false, message: "scalar answer without a value" };
    return compare(n, op, value)
      ? { ok: true, message: `${n} ${op} ${value}` }
      : { ok: false, message: `scalar ${n} is not ${op} ${value}` };
  }
  if (type === "vector") {
    const samples = data?.result;
    if (!Array.isArray(samples)) return { ok: false, message: "vector answer without a result list" };
    if (samples.length === 0) return { ok: false, message: "the query returned no samples (empty vector)" };
    for (const s of samples) {
      const n = sampleValue(rec(s)?.value);
      if (n === undefined) return { ok: false, message: `a sample without a value: ${clip(JSON.stringify(s))}` };
      if (!compare(n, op, value))
        return { ok: false, message: `${labelsText(rec(s)?.metric)} = ${n} is not ${op} ${value}` };
    }
    return { ok: true, message: `${samples.length} sample(s) ${op} ${value}` };
  }
  return {
    ok: false,
    message: `a ${typeof type === "string" ? type : JSON.stringify(type ?? "missing")} result: the comparison needs a scalar or an instant vector`,
  };
}

export const prometheusRunner: ProbeRunner = {
  async check(probe: DefaultedProbe, ctx: CheckContext): Promise<CheckResult> {
    const p = probe.prometheus;
    if (!p) return { ok: false, message: "not a prometheus probe" };
    const url = `${p.url.replace(/\/+$/, "")}/api/v1/query?query=${encodeURIComponent(p.query)}`;
    try {
      const res = await fetch(url, { signal: ctx.signal, headers: { accept: "application/json" } });
      const body = await readCapped(res.body, MAX_BODY_BYTES);
      if (body === undefined) return { ok: false, message: `${p.url}: answer larger than 1 MiB` };
      let answer: unknown;
      try {
        answer = JSON.parse(body.toString("utf8"));
      } catch {
        return { ok: false, message: `${p.url}: HTTP ${res.status}, not JSON: "${clip(body.toString("utf8"), 80)}"` };
      }
      return judgeAnswer(answer, p.op, p.value);
    } catch (err) {
      if (ctx.signal.aborted) return { ok: false, message: `${p.url}: no answer within ${ctx.timeoutMs} ms` };
      return { ok: false, message: `${p.url}: ${errorText(err)}` };
    }
  },
};
