// Lane self-test (scripts/vm/selftest.sh), never part of a normal run: the guest's docker disk fills
// up, and a suite's ordinary next step (starting a container) must fail with the engine's own
// "no space left on device", so the lane ends with the suite's failure, in its bound.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { it } from "vitest";
import { WEB_IMAGE, dockerOk } from "../../helpers/docker.js";
import { requireVmLane } from "../lane.js";

const sh = promisify(execFile);

it("a container start on a full docker disk fails with ENOSPC", async () => {
  requireVmLane();
  // dd stops at ENOSPC (its non-zero exit is the point); df shows the result on the console.
  await sh("sh", [
    "-c",
    "dd if=/dev/zero of=/var/lib/docker/chaosctl-selftest-fill bs=1M 2>&1 | tail -n 2; df -h /var/lib/docker",
  ]).then(
    (r) => console.log(r.stdout),
    (e: { stdout?: string }) => console.log(e.stdout ?? ""),
  );
  await dockerOk(["run", "--rm", "--label", "chaosctl-test=1", WEB_IMAGE, "true"], { timeoutMs: 120_000 });
}, 600_000);
