// --audit-log FILE for the verbs that change schedules: each change they make (or would make,
// with --dry-run) is appended as one JSON line (audit/log.ts).
import type { Command } from "commander";
import { AuditLog, type AuditAction, type AuditRecord } from "../audit/log.js";
import { defaultOrigin } from "../store/origin.js";

export interface AuditLogOpts {
  auditLog?: string;
}

export function addAuditLogOption(cmd: Command): Command {
  return cmd.option("--audit-log <file>", "append a JSON line per change to this file (env CHAOSCTL_AUDIT_LOG)");
}

/** Collects the records of one command and appends them in one write at the end. */
export class CliAudit {
  private readonly records: AuditRecord[] = [];
  readonly origin = defaultOrigin().appliedBy;
  constructor(
    private readonly path: string | undefined,
    private readonly dryRun = false,
  ) {}

  static from(opts: AuditLogOpts, dryRun = false): CliAudit {
    return new CliAudit(opts.auditLog ?? process.env.CHAOSCTL_AUDIT_LOG, dryRun);
  }

  add(action: AuditAction, schedule: string, result: string, extra: Partial<AuditRecord> = {}): void {
    this.records.push({
      time: new Date().toISOString(),
      actor: "cli",
      action,
      schedule,
      result,
      origin: this.origin,
      ...extra,
      ...(this.dryRun ? { dryRun: true } : {}),
    });
  }

  async flush(): Promise<void> {
    if (!this.path || this.records.length === 0) return;
    await new AuditLog(this.path).append(this.records.splice(0));
  }
}
