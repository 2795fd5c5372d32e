// restart: stop (with timeout) and start the same container. Verified on a Swarm task (engine
// 20.10): Swarm records the task Complete and schedules a replacement, while the restarted old
// container keeps running outside Swarm's books for a while. So on Swarm, restart = stop + heal
// (+ a briefly orphaned container), as in the practice's `docker restart`.
import type { RestartFault } from "../../api/types.js";
import { instantDriver, timeoutSeconds } from "../instant.js";

export const restartDriver = instantDriver<RestartFault>("restart", (engine, id, spec) =>
  engine.restartContainer(id, timeoutSeconds(spec.timeout, 10)),
);
