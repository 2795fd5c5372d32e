// What this machine's kernel can do, probed for real, so a test asserts the outcome that is
// right for the kernel it runs on instead of assuming one (this project's CI kernel has no
// sch_netem; a stock kernel has it).
import { docker } from "./docker.js";

const BASE_IMAGE = "local/node-base:20"; // has tc (scripts/lib/images.sh)

let netem: Promise<boolean> | undefined;

/**
 * Whether `tc qdisc add ... netem` works here: tried in a throwaway container's own namespace
 * (containers share the host's kernel). "Specified qdisc kind is unknown" means no; any other
 * failure is a broken probe and throws, so a test never picks a branch by accident.
 */
export function kernelHasNetem(): Promise<boolean> {
  netem ??= (async () => {
    const r = await docker(
      [
        "run",
        "--rm",
        "--network",
        "none",
        "--cap-add",
        "NET_ADMIN",
        "--label",
        "chaosctl.test=kernel-probe",
        "--entrypoint",
        "tc",
        BASE_IMAGE,
        "qdisc",
        "add",
        "dev",
        "lo",
        "root",
        "netem",
        "delay",
        "1ms",
      ],
      { timeoutMs: 60_000 },
    );
    if (r.code === 0) return true;
    if (/qdisc kind is unknown/i.test(r.stderr)) return false;
    throw new Error(`probing sch_netem failed (exit ${r.code}): ${r.stderr.trim()}`);
  })();
  return netem;
}
