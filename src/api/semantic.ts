// Semantic rules the schema cannot say, one named function each. They run on the defaulted
// document even when the schema failed, so every problem shows at once; each rule therefore
// reads fields defensively and stays silent about anything of the wrong type (the schema
// already reports that).
// size: just over 400 lines of rules, each a short named function; they read best as one list.
import { MS, formatDuration, parseDuration } from "./duration.js";
import type { Issue, PathSegment } from "./path.js";
import { PROBE_RULES } from "./probe-rules.js";
import { checkTimeZone, parseSchedule } from "./schedule.js";
import { LINUX_SIGNALS, MAX_SIGNAL_NUMBER, isKnownSignal } from "./signals.js";
import { closest } from "../util/suggest.js";
import { FAULT_NAMES, type FaultName } from "./types.js";

type Finding = Omit<Issue, "rule">;
type Rule = (m: Record<string, unknown>) => Finding[];

/** Faults that stay injected for spec.duration; the others happen in an instant. */
export function isDurative(fault: FaultName, nodeAction?: string): boolean {
  if (fault === "node") return nodeAction !== "reboot";
  return fault === "pause" || fault === "netem" || fault === "network" || fault === "stress";
}

export const LIMITS = {
  maxDurationMs: 24 * MS.hour,
  maxTimeoutMs: 10 * MS.minute,
  minEveryMs: MS.second,
  maxEveryMs: 8760 * MS.hour,
} as const;

const NETEM_IMPAIRMENTS = ["delay", "loss", "duplicate", "corrupt", "reorder", "rate"] as const;
const NETWORK_FAULTS = ["loss", "partition", "bandwidth"] as const;
const SERVICE_FILTERS = ["stack", "services", "serviceLabels"] as const;
const NODE_FILTERS = ["nodes", "nodeLabels", "nodeRoles"] as const;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// ---- reading an unchecked document --------------------------------------------------------

function rec(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
function get(root: unknown, ...path: string[]): unknown {
  let v = root;
  for (const k of path) v = rec(v)?.[k];
  return v;
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
/** A filter counts when it says something: a non-empty string, list or map. */
function given(v: unknown): boolean {
  if (typeof v === "string") return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  const r = rec(v);
  return r !== undefined && Object.keys(r).length > 0;
}
function faultsOf(m: Record<string, unknown>): FaultName[] {
  const fault = rec(get(m, "spec", "fault"));
  return fault ? FAULT_NAMES.filter((f) => f in fault) : [];
}
/** The one fault of a document, if it has exactly one. */
function theFault(m: Record<string, unknown>): FaultName | undefined {
  const faults = faultsOf(m);
  return faults.length === 1 ? faults[0] : undefined;
}

// ---- the rules ----------------------------------------------------------------------------

export const exactlyOneFault: Rule = (m) => {
  const fault = rec(get(m, "spec", "fault"));
  if (!fault) return [];
  const faults = faultsOf(m);
  const out: Finding[] = [];
  if (Object.keys(fault).length === 0) {
    out.push({ path: ["spec", "fault"], message: `no fault given: set exactly one of ${FAULT_NAMES.join(", ")}` });
  }
  if (faults.length > 1) {
    out.push({
      path: ["spec", "fault", faults[1] as string],
      at: "key",
      message: `${faults.length} faults (${faults.join(", ")}) in one schedule: a ChaosSchedule injects exactly one fault; write one schedule per fault`,
    });
  }
  const netem = rec(fault.netem);
  if (netem && !NETEM_IMPAIRMENTS.some((k) => k in netem)) {
    out.push({
      path: ["spec", "fault", "netem"],
      message: `netem does nothing without at least one of ${NETEM_IMPAIRMENTS.join(", ")}`,
    });
  }
  if (netem && "reorder" in netem && !("delay" in netem)) {
    out.push({
      path: ["spec", "fault", "netem", "reorder"],
      at: "key",
      message: "netem reorder needs a delay: tc reorders by sending some packets without the delay",
    });
  }
  const network = rec(fault.network);
  if (network && !NETWORK_FAULTS.some((k) => k in network)) {
    out.push({
      path: ["spec", "fault", "network"],
      message: `network does nothing without at least one of ${NETWORK_FAULTS.join(", ")}`,
    });
  }
  return out;
};

export const durationRequired: Rule = (m) => {
  const fault = theFault(m);
  if (!fault) return [];
  const action = str(get(m, "spec", "fault", "node", "action"));
  const what = fault === "node" ? `node ${action ?? ""}`.trim() : fault;
  const has = get(m, "spec", "duration") !== undefined;
  if (isDurative(fault, action) && !has) {
    return [
      {
        path: ["spec", "duration"],
        at: "parent",
        message: `${what} stays injected for spec.duration, which is missing: set it, e.g. "duration: 60s"`,
      },
    ];
  }
  if (!isDurative(fault, action) && has) {
    return [
      {
        path: ["spec", "duration"],
        at: "key",
        message: `${what} happens in an instant, so a duration means nothing: remove spec.duration`,
      },
    ];
  }
  return [];
};

export const validSchedule: Rule = (m) => {
  const out: Finding[] = [];
  const tz = str(get(m, "spec", "timeZone"));
  let tzOk = true;
  if (tz !== undefined) {
    try {
      checkTimeZone(tz);
    } catch (err) {
      tzOk = false;
      out.push({ path: ["spec", "timeZone"], message: messageOf(err) });
    }
  }
  const schedule = str(get(m, "spec", "schedule"));
  if (schedule !== undefined) {
    try {
      parseSchedule(schedule, tzOk ? tz : undefined);
    } catch (err) {
      out.push({ path: ["spec", "schedule"], message: messageOf(err) });
    }
  }
  return out;
};

/** Every field holding a Go-style duration, with its upper bound. */
const DURATIONS: ReadonlyArray<{ path: string[]; maxMs: number }> = [
  { path: ["spec", "duration"], maxMs: LIMITS.maxDurationMs },
  { path: ["spec", "startingDeadline"], maxMs: LIMITS.maxDurationMs },
  { path: ["spec", "fault", "stop", "timeout"], maxMs: LIMITS.maxTimeoutMs },
  { path: ["spec", "fault", "restart", "timeout"], maxMs: LIMITS.maxTimeoutMs },
  { path: ["spec", "fault", "netem", "delay", "time"], maxMs: LIMITS.maxTimeoutMs },
  { path: ["spec", "fault", "netem", "delay", "jitter"], maxMs: LIMITS.maxTimeoutMs },
  { path: ["spec", "fault", "network", "bandwidth", "latency"], maxMs: LIMITS.maxTimeoutMs },
];

/** The duration fields as field paths ("spec.duration"), for messages about their type. */
export const DURATION_FIELDS: ReadonlySet<string> = new Set(DURATIONS.map((d) => d.path.join(".")));

export const durationsPositiveAndCapped: Rule = (m) => {
  const out: Finding[] = [];
  for (const { path, maxMs } of DURATIONS) {
    const text = str(get(m, ...path));
    if (text === undefined) continue;
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch (err) {
      out.push({ path, message: messageOf(err) });
      continue;
    }
    if (ms <= 0) out.push({ path, message: `must be positive, not "${text}"` });
    else if (ms > maxMs) out.push({ path, message: `"${text}" is longer than the limit of ${formatDuration(maxMs)}` });
  }
  // "@every" itself must parse (validSchedule); here only its bounds.
  const schedule = str(get(m, "spec", "schedule"));
  const every = schedule !== undefined ? /^@every\s+(\S+)$/.exec(schedule) : null;
  if (every) {
    const ms = tryDuration(every[1] ?? "");
    if (ms !== undefined && ms > 0 && ms < LIMITS.minEveryMs) {
      out.push({
        path: ["spec", "schedule"],
        message: `"@every ${every[1]}" is more often than once per ${formatDuration(LIMITS.minEveryMs)}`,
      });
    } else if (ms !== undefined && ms > LIMITS.maxEveryMs) {
      out.push({
        path: ["spec", "schedule"],
        message: `"@every ${every[1]}" is longer than the limit of ${formatDuration(LIMITS.maxEveryMs)}`,
      });
    }
  }
  return out;
};

export const modeValueAgree: Rule = (m) => {
  const selector = rec(get(m, "spec", "selector"));
  const mode = str(selector?.mode);
  if (!selector || mode === undefined) return [];
  const value = selector.value;
  const path: PathSegment[] = ["spec", "selector", "value"];
  if (mode === "one" || mode === "all") {
    return value === undefined
      ? []
      : [{ path, at: "key", message: `mode "${mode}" takes no value: remove selector.value` }];
  }
  if (value === undefined) {
    const example = mode === "fixed" ? '"2"' : '"50"';
    return [{ path, at: "parent", message: `mode "${mode}" needs selector.value, e.g. value: ${example}` }];
  }
  if (typeof value !== "string") return [];
  if (mode === "fixed") {
    return /^[1-9][0-9]*$/.test(value)
      ? []
      : [{ path, message: `mode "fixed" needs a whole number of targets, 1 or more, not "${value}"` }];
  }
  if (mode === "fixed-percent" || mode === "random-max-percent") {
    return /^[0-9]+(\.[0-9]+)?$/.test(value)
      ? []
      : [{ path, message: `mode "${mode}" needs a percent as a plain number (e.g. "50"), not "${value}"` }];
  }
  return [];
};

export const percentInRange: Rule = (m) => {
  const out: Finding[] = [];
  const selector = rec(get(m, "spec", "selector"));
  const mode = str(selector?.mode);
  const value = str(selector?.value);
  if (
    (mode === "fixed-percent" || mode === "random-max-percent") &&
    value !== undefined &&
    /^[0-9]+(\.[0-9]+)?$/.test(value)
  ) {
    const n = Number(value);
    if (n <= 0 || n > 100)
      out.push({
        path: ["spec", "selector", "value"],
        message: `a percent must be more than 0 and at most 100, not ${value}`,
      });
  }
  const max = str(get(m, "spec", "safety", "maxUnavailable"));
  const pct = max !== undefined ? /^([0-9]+)%$/.exec(max) : null;
  if (pct && Number(pct[1]) > 100)
    out.push({ path: ["spec", "safety", "maxUnavailable"], message: `a percent must be at most 100%, not ${max}` });
  return out;
};

export const maxUnavailable: Rule = (m) => {
  const v = get(m, "spec", "safety", "maxUnavailable");
  const path = ["spec", "safety", "maxUnavailable"];
  if (typeof v === "number")
    return Number.isInteger(v) && v >= 0 ? [] : [{ path, message: `must be a whole number, 0 or more, not ${v}` }];
  if (typeof v === "string" && !/^[0-9]+%$/.test(v)) {
    return [{ path, message: `must be a number of tasks (e.g. 1) or a percent (e.g. "50%"), not "${v}"` }];
  }
  return [];
};

export const dns1123Name: Rule = (m) => {
  const out: Finding[] = [];
  for (const field of ["name", "namespace"]) {
    const v = str(get(m, "metadata", field));
    if (v !== undefined && !DNS1123_LABEL.test(v)) {
      out.push({
        path: ["metadata", field],
        message: `"${v}" is not a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit`,
      });
    }
  }
  return out;
};

export const selectorNotEmpty: Rule = (m) => {
  const selector = rec(get(m, "spec", "selector"));
  if (!selector) return [];
  if ([...SERVICE_FILTERS, ...NODE_FILTERS].some((k) => given(selector[k]))) return [];
  return [
    {
      path: ["spec", "selector"],
      message: `selects nothing: give at least one of ${[...SERVICE_FILTERS, ...NODE_FILTERS].join(", ")} (chaos never targets everything implicitly)`,
    },
  ];
};

export const nodeFaultSelector: Rule = (m) => {
  const node = rec(get(m, "spec", "fault", "node"));
  const selector = rec(get(m, "spec", "selector"));
  if (!node || !selector) return [];
  const out: Finding[] = [];
  for (const k of SERVICE_FILTERS) {
    if (selector[k] !== undefined) {
      out.push({
        path: ["spec", "selector", k],
        at: "key",
        message: `a node fault selects nodes: use ${NODE_FILTERS.join(", ")}, not ${k}`,
      });
    }
  }
  if (!NODE_FILTERS.some((k) => given(selector[k]))) {
    out.push({ path: ["spec", "selector"], message: `a node fault needs at least one of ${NODE_FILTERS.join(", ")}` });
  }
  const roles = selector.nodeRoles;
  if (Array.isArray(roles) && roles.includes("manager") && node.allowManagers !== true) {
    out.push({
      path: ["spec", "selector", "nodeRoles"],
      message: "selects managers, but fault.node.allowManagers is false: set it to true to fault a manager",
    });
  }
  return out;
};

export const processMatcher: Rule = (m) => {
  const p = rec(get(m, "spec", "fault", "process"));
  if (!p) return [];
  const hasName = typeof p.name === "string";
  const hasPattern = typeof p.pattern === "string";
  if (hasName && hasPattern)
    return [
      {
        path: ["spec", "fault", "process", "pattern"],
        at: "key",
        message: "give name or pattern, not both: name matches the process name exactly, pattern its command line",
      },
    ];
  if (!hasName && !hasPattern)
    return [
      {
        path: ["spec", "fault", "process"],
        message: "process needs name (exact process name) or pattern (command-line regular expression)",
      },
    ];
  if (hasPattern) {
    try {
      new RegExp(p.pattern as string);
    } catch (err) {
      return [
        { path: ["spec", "fault", "process", "pattern"], message: `not a regular expression: ${messageOf(err)}` },
      ];
    }
  }
  return [];
};

export const knownSignal: Rule = (m) =>
  (["kill", "process"] as const).flatMap((fault): Finding[] => {
    const signal = str(get(m, "spec", "fault", fault, "signal"));
    // The schema reports a value of the wrong shape; here only well-shaped unknowns.
    if (signal === undefined || !/^(SIG[A-Z0-9]+|[0-9]{1,2})$/.test(signal) || isKnownSignal(signal)) return [];
    const path = ["spec", "fault", fault, "signal"];
    if (/^[0-9]+$/.test(signal)) {
      return [{ path, message: `signal ${signal} does not exist: Linux numbers signals 1 to ${MAX_SIGNAL_NUMBER}` }];
    }
    const guess = closest(signal, LINUX_SIGNALS, 1);
    return [
      {
        path,
        message: `unknown signal "${signal}"${guess ? `; did you mean "${guess}"?` : ""} (e.g. SIGKILL, SIGTERM, SIGINT, SIGHUP)`,
      },
    ];
  });

/** Every rule by its stable name (the `rule` of a Problem). */
export const SEMANTIC_RULES = {
  exactlyOneFault,
  durationRequired,
  validSchedule,
  durationsPositiveAndCapped,
  percentInRange,
  modeValueAgree,
  dns1123Name,
  maxUnavailable,
  selectorNotEmpty,
  nodeFaultSelector,
  ...PROBE_RULES,
  processMatcher,
  knownSignal,
} as const satisfies Record<string, Rule>;

export type SemanticRuleName = keyof typeof SEMANTIC_RULES;

/** Runs every semantic rule on a (defaulted, possibly schema-invalid) document. */
export function semanticIssues(m: Record<string, unknown>): Issue[] {
  return Object.entries(SEMANTIC_RULES).flatMap(([rule, check]) => check(m).map((f) => ({ ...f, rule })));
}

function tryDuration(text: string): number | undefined {
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
