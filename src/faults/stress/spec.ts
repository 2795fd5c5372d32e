// fault.stress, resolved against one target and turned into stress-ng's argv. Pure.
//
// Sizes read as Docker reads --limit-memory: a number with an optional unit k/m/g (KB, MiB,
// "M" and "MB" alike), units of 1024. Memory may also be a percent of the target's memory
// limit; a disk fill a percent of the space free at its path when the fault starts.
import { createHash } from "node:crypto";
import type { Owner, Target } from "../driver.js";

export interface StressSpec {
  cpu?: { workers?: number; load?: number };
  memory?: { size: string; workers?: number };
  io?: { workers?: number; size?: string };
  disk?: { size: string; path?: string };
}

/** What the guard carries (its --spec): the user's spec plus what the driver decided. */
export interface StressGuardSpec {
  /** Image with stress-ng (scripts/lib/images.sh: local/chaosctl-stress:1). */
  image: string;
  /** Names the helper container and the fill file: unique per run and target. */
  id: string;
  /** The fault's expiry (RFC 3339): stress-ng's own --timeout ends there. */
  until: string;
  /** Ownership labels for the helpers (schedule, run, expires, fault, target). */
  labels: Record<string, string>;
  spec: StressSpec;
}

export const DEFAULT_STRESS_IMAGE = "local/chaosctl-stress:1";
export const FILL_PREFIX = ".chaosctl-fill-";

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const SIZE = /^([0-9]+(?:\.[0-9]+)?)([kmg]?)(?:i?b)?$/i;
const PERCENT = /^([0-9]+(?:\.[0-9]+)?)%$/;

export class StressSpecError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "StressSpecError";
  }
}

/** Bytes of a size ("256M", "1GiB", "512"), or undefined for a percent or nonsense. */
export function parseBytes(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * (UNITS[(m[2] ?? "").toLowerCase()] ?? 1));
}

export function parsePercent(text: string): number | undefined {
  const m = PERCENT.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** Memory to hold, in bytes, for a target with `limitBytes` (0: no limit). */
export function memoryBytes(size: string, limitBytes: number): number {
  const pct = parsePercent(size);
  if (pct !== undefined) {
    if (limitBytes <= 0)
      throw new StressSpecError(
        "NoMemoryLimit",
        `memory size ${size} is a percent of the target's memory limit, but the target has none`,
      );
    return Math.floor((limitBytes * pct) / 100);
  }
  const bytes = parseBytes(size);
  if (bytes === undefined || bytes <= 0) throw new StressSpecError("InvalidSpec", `not a memory size: ${size}`);
  return bytes;
}

/** Disk fill in bytes, given the space free at the fill's path. */
export function diskBytes(size: string, freeBytes: number): number {
  const pct = parsePercent(size);
  const bytes = pct !== undefined ? Math.floor((freeBytes * pct) / 100) : parseBytes(size);
  if (bytes === undefined || bytes <= 0) throw new StressSpecError("InvalidSpec", `not a disk size: ${size}`);
  if (bytes > freeBytes)
    throw new StressSpecError("NoSpace", `disk fill of ${bytes} bytes does not fit: ${freeBytes} bytes free`);
  return bytes;
}

/** Does the spec run stress-ng at all (a disk fill alone does not)? */
export function hasStressor(s: StressSpec): boolean {
  return s.cpu !== undefined || s.memory !== undefined || s.io !== undefined;
}

/**
 * stress-ng's argv for the stressors of `s` (without the program name). `timeoutSeconds` makes
 * stress-ng end by itself at the fault's expiry, whatever happens to the guard or the controller.
 */
export function stressArgv(s: StressSpec, memBytes: number | undefined, timeoutSeconds: number): string[] {
  const argv: string[] = [];
  if (s.cpu) argv.push("--cpu", String(s.cpu.workers ?? 1), "--cpu-load", String(s.cpu.load ?? 100));
  if (s.memory && memBytes !== undefined) {
    const workers = s.memory.workers ?? 1;
    // --vm-bytes is per worker; --vm-keep holds the mapping (re-dirtying it) instead of
    // unmapping and mapping again, so the usage stays up for the whole window.
    argv.push("--vm", String(workers), "--vm-bytes", `${Math.max(4096, Math.floor(memBytes / workers))}b`, "--vm-keep");
  }
  if (s.io) {
    const bytes = parseBytes(s.io.size ?? "64M") ?? 64 * 1024 ** 2;
    // The files live in the helper's own /tmp (gone with the helper); the writes are charged to
    // the target's cgroup like everything the helper does.
    argv.push("--hdd", String(s.io.workers ?? 1), "--hdd-bytes", `${bytes}b`, "--temp-path", "/tmp");
  }
  argv.push("--timeout", `${Math.max(1, Math.ceil(timeoutSeconds))}s`);
  return argv;
}

/** One id per (run, target): the helper's name and the fill file's suffix. */
export function stressId(owner: Owner, target: Target): string {
  return createHash("sha256")
    .update(`${owner.schedule}\n${owner.run}\n${target.containerId ?? ""}`)
    .digest("hex")
    .slice(0, 16);
}

export function helperName(id: string): string {
  return `chaosctl-stress-${id}`;
}

/** The fill file as the helper sees it: through /proc/1/root, the root of the target's PID 1. */
export function fillPath(dir: string, id: string): string {
  if (!dir.startsWith("/") || dir.split("/").includes(".."))
    throw new StressSpecError("InvalidSpec", `disk path must be absolute and without "..": ${dir}`);
  return `/proc/1/root${dir.replace(/\/+$/, "")}/${FILL_PREFIX}${id}`;
}

/** The cgroup the target runs in, as the cgroupfs driver names it (parent default /docker). */
export function targetCgroup(containerId: string, cgroupParent: string): string {
  return `${(cgroupParent || "/docker").replace(/\/+$/, "")}/${containerId}`;
}

/**
 * The target's cgroup from its PID 1's /proc/<pid>/cgroup, read with the host's cgroup namespace:
 * the memory controller's line on cgroup v1, the unified ("0::") line on v2. The engine's own
 * --cgroup-parent (not in the container's inspect) is part of it. Undefined when no line names
 * a cgroup of this container.
 */
export function cgroupFromProc(text: string, containerId: string): string | undefined {
  const lines = text.split("\n").map((l) => l.trim().split(":"));
  const pick = (ok: (controllers: string) => boolean): string | undefined =>
    lines
      .find((f) => f.length >= 3 && ok(f[1]!))
      ?.slice(2)
      .join(":");
  const path = pick((c) => c.split(",").includes("memory")) ?? pick((c) => c === "");
  return path && path.endsWith(`/${containerId}`) ? path : undefined;
}

export function unwrap(v: unknown): StressGuardSpec {
  const g = v as Partial<StressGuardSpec> | undefined;
  if (
    !g ||
    typeof g.image !== "string" ||
    typeof g.id !== "string" ||
    !/^[0-9a-f]{16}$/.test(g.id) ||
    typeof g.until !== "string" ||
    Number.isNaN(Date.parse(g.until)) ||
    !g.spec
  )
    throw new StressSpecError("InvalidSpec", "stress guard spec needs image, id, until and spec");
  return { ...g, labels: g.labels ?? {} } as StressGuardSpec;
}
