// The audit log: append-only JSON lines, one per apply, revert and skip (the controller) and
// per apply/delete/suspend/resume (the CLI). Each batch is one write(2) on an O_APPEND file, so
// the controller and a CLI appending at once never interleave inside a line.
import { appendFile, readFile } from "node:fs/promises";

export type AuditAction =
  | "apply"
  | "revert"
  | "skip"
  | "reapply"
  | "extend"
  | "create"
  | "configure"
  | "delete"
  | "suspend"
  | "resume"
  /** A run's probes settled its verdict (result Pass or Fail). */
  | "verdict";

export interface AuditRecord {
  time: string;
  /** Who wrote the record: the controller or the chaosctl CLI. */
  actor: "controller" | "cli";
  action: AuditAction;
  /** "<namespace>/<name>" */
  schedule: string;
  generation?: number;
  run?: string;
  fault?: string;
  /** The target: service/task/container (or node) as one string. */
  target?: string;
  node?: string;
  /** ok, failed, created, configured, unchanged, deleted, notfound, skipped ... */
  result: string;
  reason?: string;
  message?: string;
  /** Who asked: user@host (CLI), the store and file, or the controller instance. */
  origin?: string;
  /** Provenance (git store): the commit and repository path of the manifest behind the injection. */
  source?: { commit: string; path: string };
  /** Set on --dry-run records (nothing was changed). */
  dryRun?: boolean;
}

export interface AuditSink {
  append(records: readonly AuditRecord[]): Promise<void>;
}

export class AuditLog implements AuditSink {
  constructor(readonly path: string) {}

  async append(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    await appendFile(this.path, records.map((r) => JSON.stringify(r) + "\n").join(""), { flag: "a", mode: 0o640 });
  }
}

/** Records of a log file (a torn or foreign last line is skipped, not fatal). */
export async function readAuditLog(path: string): Promise<AuditRecord[]> {
  const text = await readFile(path, "utf8");
  const out: AuditRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as AuditRecord;
      if (r && typeof r === "object" && typeof r.schedule === "string") out.push(r);
    } catch {
      // not a record (a partial line of a crashed writer)
    }
  }
  return out;
}
