// cmd probe: an argv (never a shell string) in a one-shot helper container from chaosctl's own
// image, optionally on a named network; passes on exit 0 and, if given, a stdout match. The
// engine removes the helper when it ends or outlives the timeout.
import type { DefaultedProbe } from "../api/types.js";
import type { CheckContext, CheckResult, ProbeRunner } from "./types.js";
import { clip, errorText } from "./types.js";

/** Pure: judge a finished command. */
export function judgeCommand(
  exitCode: number,
  stdout: string,
  stderr: string,
  expectStdout: string | undefined,
): CheckResult {
  if (exitCode !== 0) {
    const said = clip(stderr || stdout, 160);
    return { ok: false, message: `exit code ${exitCode}${said ? `: ${said}` : ""}` };
  }
  if (expectStdout !== undefined && !new RegExp(expectStdout).test(stdout))
    return { ok: false, message: `stdout does not match /${expectStdout}/: "${clip(stdout, 80)}"` };
  return { ok: true, message: "exit code 0" };
}

export const cmdRunner: ProbeRunner = {
  async check(probe: DefaultedProbe, ctx: CheckContext): Promise<CheckResult> {
    const c = probe.cmd;
    if (!c) return { ok: false, message: "not a cmd probe" };
    const [entry, ...args] = c.command;
    try {
      const r = await ctx.engine.runHelper(
        {
          image: ctx.image,
          entrypoint: [entry ?? "true"],
          cmd: args,
          labels: ctx.labels,
          ...(c.network ? { networkMode: c.network } : {}),
        },
        ctx.timeoutMs,
      );
      return judgeCommand(r.exitCode, r.stdout, r.stderr, c.expect?.stdout);
    } catch (err) {
      return { ok: false, message: `${c.command[0]}: ${errorText(err)}` };
    }
  },
};
