// process (instant): signal processes inside the target by name or command-line pattern, not the
// whole container: a worker dies while PID 1 (and so the task) lives. A helper from the project's
// image joins the target's PID namespace and runs the hidden `chaosctl signal-processes` verb.
import type { ProcessFault } from "../../api/types.js";
import type { HelperSpec } from "../../engine/engine.js";
import type { ApplyResult, FaultDriver, RecoverResult } from "../driver.js";
import { failedFrom, requireContainer } from "../instant.js";
import { L_ROLE, L_TARGET } from "../../api/labels.js";

/** Exit code of the verb when no process matched. */
export const NO_MATCH_EXIT = 3;

export function signalArgv(spec: ProcessFault): string[] {
  const argv = ["signal-processes", "--signal", spec.signal ?? "SIGKILL"];
  if (spec.name !== undefined) argv.push("--name", spec.name);
  if (spec.pattern !== undefined) argv.push("--pattern", spec.pattern);
  return argv;
}

export const processDriver: FaultDriver<ProcessFault> = {
  kind: "process",
  durative: false,
  targets: "container",
  async apply(ctx, target, spec): Promise<ApplyResult> {
    try {
      const id = requireContainer(target);
      const hs: HelperSpec = {
        image: ctx.image,
        cmd: signalArgv(spec),
        labels: { [L_ROLE]: "helper", [L_TARGET]: id },
        networkMode: "none",
        pidMode: `container:${id}`,
      };
      const r = await ctx.engine.runHelper(hs, 30_000);
      if (r.exitCode === 0) return { phase: "Done" };
      const said = lastLine(r.stderr) || lastLine(r.stdout);
      if (r.exitCode === NO_MATCH_EXIT) return { phase: "Failed", reason: "NoMatchingProcess", message: said };
      return { phase: "Failed", reason: "SignalFailed", message: `signal-processes exited ${r.exitCode}: ${said}` };
    } catch (err) {
      return failedFrom(err);
    }
  },
  // Nothing stays injected: what the processes' parent does next is what the fault tests.
  async recover(): Promise<RecoverResult> {
    return { phase: "Recovered" };
  },
};

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}
