// Invalid manifests are not listed as schedules, but a read verb says they exist (stderr), so
// a typo in a GitOps folder is never silently "no such schedule".
import { formatProblem } from "../api/problems.js";
import type { InvalidManifest } from "../store/store.js";
import type { CliContext } from "./output.js";

export function warnInvalid(ctx: CliContext, invalid: readonly InvalidManifest[], key?: string): void {
  for (const i of invalid) {
    if (key && i.key !== key) continue;
    const first = i.problems[0];
    ctx.io.stderr(
      `warning: invalid manifest${i.key ? ` ${i.key}` : ""} not listed: ${first ? formatProblem(first) : "unreadable"}${i.problems.length > 1 ? ` (+${i.problems.length - 1} more)` : ""}\n`,
    );
  }
}
