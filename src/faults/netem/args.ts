// The netem options after `tc qdisc ... netem` (pure, exact argv unit-tested).
// tc's netem grammar is positional: delay TIME [JITTER [CORRELATION]] [distribution D],
// loss|duplicate|corrupt PERCENT [CORRELATION], reorder PERCENT [CORRELATION] [gap N], rate R.
import { InvalidNetworkSpec } from "../netns/errors.js";
import * as v from "../netns/validate.js";
import type { NetemSpec, PercentCorrelation } from "./spec.js";

export function netemArgs(spec: Omit<NetemSpec, "to" | "interface">): string[] {
  const out: string[] = [];
  const d = spec.delay;
  if (d) {
    out.push("delay", v.time(d.time));
    // Correlation is the third positional value: without a jitter, pass a zero jitter.
    if (d.jitter !== undefined || d.correlation !== undefined) out.push(v.time(d.jitter ?? "0ms"));
    if (d.correlation !== undefined) out.push(v.percent(d.correlation, "delay.correlation"));
    if (d.distribution !== undefined && d.distribution !== "uniform") {
      if (d.jitter === undefined)
        throw new InvalidNetworkSpec(`delay.distribution ${d.distribution} needs delay.jitter`);
      if (!["normal", "pareto", "paretonormal"].includes(d.distribution))
        throw new InvalidNetworkSpec(`unknown distribution ${JSON.stringify(d.distribution)}`);
      out.push("distribution", d.distribution);
    }
    // "uniform" is netem's own jitter distribution: tc ships no uniform table, so it is not named.
  }
  if (spec.loss) out.push("loss", ...pc(spec.loss, "loss"));
  if (spec.duplicate) out.push("duplicate", ...pc(spec.duplicate, "duplicate"));
  if (spec.corrupt) out.push("corrupt", ...pc(spec.corrupt, "corrupt"));
  if (spec.reorder) {
    if (!d) throw new InvalidNetworkSpec("netem reorder needs a delay (packets not delayed are the ones sent early)");
    out.push("reorder", ...pc(spec.reorder, "reorder"));
    if (spec.reorder.gap !== undefined) {
      if (!Number.isInteger(spec.reorder.gap) || spec.reorder.gap < 1)
        throw new InvalidNetworkSpec(`reorder.gap must be an integer >= 1`);
      out.push("gap", String(spec.reorder.gap));
    }
  }
  if (spec.rate !== undefined) out.push("rate", v.rate(spec.rate));
  if (out.length === 0)
    throw new InvalidNetworkSpec("netem needs at least one of delay, loss, duplicate, corrupt, reorder, rate");
  return out;
}

function pc(x: PercentCorrelation, what: string): string[] {
  const out = [v.percent(x.percent, `${what}.percent`)];
  if (x.correlation !== undefined) out.push(v.percent(x.correlation, `${what}.correlation`));
  return out;
}
