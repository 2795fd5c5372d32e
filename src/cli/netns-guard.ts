// The entry point of a network guard container's Node.js part (netem, network, node partition;
// faults/netns/guard-spec.ts and shell-prelude.ts): the prelude applies the fault before chaosctl's
// module graph loads (or adopts what the shell prelude, netns-guard.sh, applied), then the guard
// verb runs as in any guard and owns the revert. A stop that reached the shell prelude before the
// guard verb could take it (CHAOSCTL_NETNS_PRELUDE=stopped) reverts and ends here.
import { prelude, preludeStopped, shellOutcome } from "../faults/netns/prelude.js";

const argv = process.argv.slice(2);
const shell = shellOutcome(process.env.CHAOSCTL_NETNS_PRELUDE);
if (shell === "stopped") {
  process.exitCode = await preludeStopped(argv);
} else {
  // When the shell prelude applied (its clock reading, ms): a guard told to --hold counts from it.
  const appliedMs = Number(process.env.CHAOSCTL_NETNS_APPLIED_MS);
  await prelude(argv, Date.now(), undefined, undefined, shell, appliedMs > 0 ? appliedMs : undefined);
  const { run } = await import("./main.js");
  process.exitCode = await run(argv);
}
