// spec.fault.netem as the CRD defines it (crds/chaosschedule.yaml), and its resolved form:
// `to.services` replaced by the addresses of their tasks, which the controller fills in
// from the cluster snapshot (network/resolve.ts) before calling the driver.
import type { Destinations } from "../netns/tc.js";

export type Distribution = "normal" | "pareto" | "paretonormal" | "uniform";

export interface PercentCorrelation {
  percent: number;
  correlation?: number;
}

export interface NetemSpec {
  interface?: string;
  delay?: { time: string; jitter?: string; correlation?: number; distribution?: Distribution };
  loss?: PercentCorrelation;
  duplicate?: PercentCorrelation;
  corrupt?: PercentCorrelation;
  reorder?: PercentCorrelation & { gap?: number };
  rate?: string;
  to?: { cidrs?: string[]; services?: string[]; ports?: number[] };
}

export interface ResolvedNetemSpec extends Omit<NetemSpec, "to"> {
  /** undefined: all egress traffic. */
  to?: Destinations;
}
