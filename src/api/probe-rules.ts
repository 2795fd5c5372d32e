// Semantic rules for spec.probes and spec.abort: what the schema cannot say. Like the rules in
// semantic.ts they read the unchecked (defaulted) document defensively and stay silent about
// fields of the wrong type, which the schema already reports.
import { MS, formatDuration, parseDuration } from "./duration.js";
import type { Issue, PathSegment } from "./path.js";

type Finding = Omit<Issue, "rule">;
type Rule = (m: Record<string, unknown>) => Finding[];

export const PROBE_KINDS = ["http", "cmd", "prometheus", "service"] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export const PROBE_LIMITS = {
  minIntervalMs: 100,
  maxIntervalMs: MS.hour,
  maxTimeoutMs: 5 * MS.minute,
  maxWithinMs: MS.hour,
} as const;

/** Modes in which a failing probe can stop anything: the fault is active while they check. */
export const STOPPABLE_MODES: readonly string[] = ["Continuous", "OnChaos"];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** One element of expect.status: a code (200) or a class (2xx). */
const STATUS_ELEMENT = /^[1-5]([0-9]{2}|xx)$/;

function rec(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The probes of a document, each with its index, as far as they are objects. */
function probesOf(m: Record<string, unknown>): Array<{ i: number; p: Record<string, unknown> }> {
  const probes = rec(m.spec)?.probes;
  if (!Array.isArray(probes)) return [];
  return probes.flatMap((v, i) => {
    const p = rec(v);
    return p ? [{ i, p }] : [];
  });
}

/**
 * The statuses an `expect.status` accepts, as a predicate; throws an Error with a plain message
 * for text that is not a code, a class or a comma-separated list of them. Shared with the
 * http runner so validation and evaluation agree.
 */
export function parseStatusExpectation(spec: number | string): (status: number) => boolean {
  const text = String(spec).trim();
  const parts = text.split(",").map((s) => s.trim());
  if (parts.some((s) => !STATUS_ELEMENT.test(s))) {
    throw new Error(
      `"${text}" is not an HTTP status expectation: use a code (200), a class ("2xx") or a comma-separated list ("200,204,3xx")`,
    );
  }
  return (status) =>
    parts.some((s) => (s.endsWith("xx") ? Math.floor(status / 100) === Number(s[0]) : status === Number(s)));
}

export const probeKind: Rule = (m) => {
  const out: Finding[] = [];
  for (const { i, p } of probesOf(m)) {
    const kinds = PROBE_KINDS.filter((k) => k in p);
    if (kinds.length === 0) {
      out.push({
        path: ["spec", "probes", i],
        message: `probe checks nothing: give exactly one of ${PROBE_KINDS.join(", ")}`,
      });
    } else if (kinds.length > 1) {
      out.push({
        path: ["spec", "probes", i, kinds[1] as string],
        at: "key",
        message: `${kinds.length} probe kinds (${kinds.join(", ")}) in one probe: give exactly one; write one probe per check`,
      });
    }
  }
  return out;
};

export const uniqueProbeNames: Rule = (m) => {
  const out: Finding[] = [];
  const seen = new Map<string, number>();
  for (const { i, p } of probesOf(m)) {
    const name = str(p.name);
    if (name === undefined) continue;
    if (!DNS1123_LABEL.test(name)) {
      out.push({
        path: ["spec", "probes", i, "name"],
        message: `"${name}" is not a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit`,
      });
    }
    const first = seen.get(name);
    if (first !== undefined) {
      out.push({
        path: ["spec", "probes", i, "name"],
        message: `probe name "${name}" is already used by spec.probes[${first}]: names must be unique (they label verdicts and metrics)`,
      });
    } else seen.set(name, i);
  }
  return out;
};

export const probeTimings: Rule = (m) => {
  const out: Finding[] = [];
  const check = (path: PathSegment[], text: string | undefined, minMs: number, maxMs: number): number | undefined => {
    if (text === undefined) return undefined;
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch (err) {
      out.push({ path, message: messageOf(err) });
      return undefined;
    }
    if (ms <= 0) out.push({ path, message: `must be positive, not "${text}"` });
    else if (ms < minMs)
      out.push({ path, message: `"${text}" is shorter than the minimum of ${formatDuration(minMs)}` });
    else if (ms > maxMs) out.push({ path, message: `"${text}" is longer than the limit of ${formatDuration(maxMs)}` });
    else return ms;
    return undefined;
  };
  for (const { i, p } of probesOf(m)) {
    const at = (...rest: PathSegment[]): PathSegment[] => ["spec", "probes", i, ...rest];
    check(at("interval"), str(p.interval), PROBE_LIMITS.minIntervalMs, PROBE_LIMITS.maxIntervalMs);
    check(at("timeout"), str(p.timeout), 1, PROBE_LIMITS.maxTimeoutMs);
    const http = rec(p.http);
    check(at("http", "timeout"), str(http?.timeout), 1, PROBE_LIMITS.maxTimeoutMs);
    if (p.timeout !== undefined && http?.timeout !== undefined) {
      out.push({
        path: at("http", "timeout"),
        at: "key",
        message: "the timeout is given twice (probe timeout and http.timeout): keep one",
      });
    }
    check(at("service", "within"), str(rec(p.service)?.within), 1, PROBE_LIMITS.maxWithinMs);
  }
  return out;
};

export const probeExpectations: Rule = (m) => {
  const out: Finding[] = [];
  const regex = (path: PathSegment[], text: unknown) => {
    if (typeof text !== "string") return;
    try {
      new RegExp(text);
    } catch (err) {
      out.push({ path, message: `not a valid regular expression: ${messageOf(err)}` });
    }
  };
  for (const { i, p } of probesOf(m)) {
    const at = (...rest: PathSegment[]): PathSegment[] => ["spec", "probes", i, ...rest];
    const http = rec(p.http);
    const expectHttp = rec(http?.expect);
    const status = expectHttp?.status;
    if (typeof status === "number" || typeof status === "string") {
      try {
        parseStatusExpectation(status);
      } catch (err) {
        out.push({ path: at("http", "expect", "status"), message: messageOf(err) });
      }
    }
    regex(at("http", "expect", "body"), expectHttp?.body);
    for (const name of Object.keys(rec(http?.headers) ?? {})) {
      if (!HEADER_NAME.test(name))
        out.push({ path: at("http", "headers", name), at: "key", message: `"${name}" is not an HTTP header name` });
    }
    const method = str(http?.method);
    if (http?.body !== undefined && (method === "GET" || method === "HEAD")) {
      out.push({
        path: at("http", "body"),
        at: "key",
        message: `a ${method} request carries no body: remove http.body or set http.method (e.g. POST)`,
      });
    }
    regex(at("cmd", "expect", "stdout"), rec(rec(p.cmd)?.expect)?.stdout);
    const value = rec(p.prometheus)?.value;
    if (typeof value === "number" && !Number.isFinite(value))
      out.push({ path: at("prometheus", "value"), message: "must be a finite number" });
  }
  return out;
};

export const stopOnFailureMode: Rule = (m) => {
  const out: Finding[] = [];
  for (const { i, p } of probesOf(m)) {
    const mode = str(p.mode);
    if (p.stopOnFailure === true && mode !== undefined && !STOPPABLE_MODES.includes(mode)) {
      out.push({
        path: ["spec", "probes", i, "stopOnFailure"],
        message: `a ${mode} probe checks while no fault is active, so there is nothing to stop: stopOnFailure applies to ${STOPPABLE_MODES.join(" and ")} (an SOT failure already keeps the run from starting)`,
      });
    }
  }
  return out;
};

export const abortResumedAt: Rule = (m) => {
  const text = str(rec(rec(m.spec)?.abort)?.resumedAt);
  if (text === undefined || isTimestamp(text)) return [];
  return [
    {
      path: ["spec", "abort", "resumedAt"],
      message: `"${text}" is not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z); \`chaosctl resume\` writes it`,
    },
  ];
};

export const PROBE_RULES = {
  probeKind,
  uniqueProbeNames,
  probeTimings,
  probeExpectations,
  stopOnFailureMode,
  abortResumedAt,
} as const satisfies Record<string, Rule>;

function isTimestamp(text: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) && !Number.isNaN(Date.parse(text))
  );
}
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
