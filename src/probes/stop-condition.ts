// The controller-wide stop condition (`controller --stop-condition FILE`): one probe, of any
// kind, checked all the time. While it fails the controller acts as under the kill switch
// (reverts everything, starts nothing) and says why in status, logs and metrics.
//
// The file holds one probe as written under spec.probes[] (mode may be left out: a stop
// condition is always Continuous). It is checked by the very schema and rules of a
// ChaosSchedule: the probe is placed into a minimal manifest, and every problem is mapped back
// to the file's own lines, columns and fields.
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { loadText } from "../api/load.js";
import type { Problem } from "../api/problems.js";
import type { DefaultedProbe } from "../api/types.js";
import type { Logger } from "../util/log.js";
import type { ProbeMonitor } from "./monitor.js";
import type { CheckResult } from "./types.js";
import { intervalMs } from "./evaluate.js";

const HEADER = [
  "apiVersion: chaosctl.io/v1alpha1",
  "kind: ChaosSchedule",
  "metadata: {name: stop-condition}",
  "spec:",
  "  selector: {services: [stop-condition]}",
  "  fault: {kill: {}}",
  "  probes:",
  "    -",
];
const INDENT = "      ";
const PREFIX = "spec.probes[0]";

export class StopConditionInvalid extends Error {
  constructor(readonly problems: Problem[]) {
    super(
      `invalid stop condition:\n${problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ""}${p.message} [${p.rule}]`).join("\n")}`,
    );
    this.name = "StopConditionInvalid";
  }
}

/** Parses and checks a stop-condition file's text; throws StopConditionInvalid with every problem. */
export function parseStopCondition(text: string, file: string): DefaultedProbe {
  const problem = (message: string, rule: string): Problem => ({ file, line: 0, column: 0, path: "", message, rule });
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new StopConditionInvalid([problem(err instanceof Error ? err.message : String(err), "yamlSyntax")]);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new StopConditionInvalid([
      problem(
        "a stop condition is one probe: a mapping with name and one of http, cmd, prometheus, service",
        "notAProbe",
      ),
    ]);
  const mode = (raw as Record<string, unknown>).mode;
  if (mode !== undefined && mode !== "Continuous")
    throw new StopConditionInvalid([
      problem(
        `a stop condition is checked all the time: leave mode out (or Continuous), not ${JSON.stringify(mode)}`,
        "stopConditionMode",
      ),
    ]);
  const lines = text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((l) => (l.length ? INDENT + l : l));
  if (mode === undefined) lines.push(`${INDENT}mode: Continuous`);
  const r = loadText([...HEADER, ...lines].join("\n"), file);
  const doc = r.documents[0];
  const problems = [...r.problems, ...(doc?.problems ?? [])].map((p) => ({
    ...p,
    line: p.line > HEADER.length ? p.line - HEADER.length : 0,
    column: p.line > HEADER.length ? Math.max(1, p.column - INDENT.length) : 0,
    path: p.path.startsWith(PREFIX) ? p.path.slice(PREFIX.length).replace(/^\./, "") : p.path,
  }));
  const probe = doc?.manifest?.spec.probes?.[0];
  if (problems.length > 0 || !probe)
    throw new StopConditionInvalid(problems.length ? problems : [problem("no probe found", "notAProbe")]);
  return probe;
}

export async function loadStopCondition(file: string): Promise<DefaultedProbe> {
  return parseStopCondition(await readFile(file, "utf8"), file);
}

/**
 * Checks the probe every interval. Failing after failureThreshold consecutive failed checks;
 * holding again at the first check that passes. Calls onFlip on every change.
 */
export class StopConditionWatch {
  private failing: string | undefined;
  private consecutive = 0;
  private first: Promise<void>;
  private markFirst: () => void = () => {};

  constructor(
    readonly probe: DefaultedProbe,
    private readonly monitor: ProbeMonitor,
    private readonly logger: Logger,
    private readonly onFlip: (failing: string | undefined) => void,
    private readonly onCheck?: (ok: boolean) => void,
  ) {
    this.first = new Promise((resolve) => (this.markFirst = resolve));
  }

  /** Why it fails, while it fails; undefined while it holds. */
  state(): string | undefined {
    return this.failing;
  }

  /** Resolves once the first check has finished (the controller starts nothing before). */
  ready(): Promise<void> {
    return this.first;
  }

  /** One check now, its result taken (a controller that makes a single pass has no loop running). */
  async refresh(signal?: AbortSignal): Promise<void> {
    const r = await this.monitor.checkOnce(this.probe, { "chaosctl.io/stop-condition": this.probe.name }, signal);
    if (!signal?.aborted) this.take(r);
  }

  async run(signal: AbortSignal): Promise<void> {
    this.running = true;
    const every = intervalMs(this.probe);
    while (!signal.aborted) {
      const began = Date.now();
      await this.refresh(signal);
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.max(0, every - (Date.now() - began)));
        function done(): void {
          clearTimeout(t);
          signal.removeEventListener("abort", done);
          resolve();
        }
        signal.addEventListener("abort", done, { once: true });
      });
    }
    this.running = false;
    this.markFirst();
  }

  /** Whether run() is checking on its own. */
  running = false;

  private take(r: CheckResult): void {
    this.onCheck?.(r.ok);
    this.consecutive = r.ok ? 0 : this.consecutive + 1;
    const was = this.failing;
    if (r.ok) this.failing = undefined;
    else if (this.consecutive >= this.probe.failureThreshold)
      this.failing = `stop condition ${this.probe.name} fails: ${r.message}`;
    if (was === undefined && this.failing !== undefined) {
      this.logger.warn(
        { event: "stop-condition", probe: this.probe.name, err: r.message },
        "stop condition fails: reverting everything, starting nothing",
      );
      this.onFlip(this.failing);
    } else if (was !== undefined && this.failing === undefined) {
      this.logger.info(
        { event: "stop-condition", probe: this.probe.name },
        "stop condition holds again: runs may start",
      );
      this.onFlip(undefined);
    } else if (was !== undefined && this.failing !== undefined) this.failing = was; // keep the first reason
    this.markFirst();
  }
}
