// Lane self-test (scripts/vm/selftest.sh), never part of a normal run: a suite that hangs. The lane
// must stop it at its own bound, say so, exit 124 and leave the host clean.
import { it } from "vitest";
import { requireVmLane } from "../lane.js";

it(
  "hangs until the lane's bound stops it",
  async () => {
    requireVmLane();
    console.log("selftest: hanging on purpose");
    await new Promise<never>(() => undefined);
  },
  24 * 3600_000,
);
