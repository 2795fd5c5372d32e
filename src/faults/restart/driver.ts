// restart: stop (with timeout) and start the same container. For a Swarm task the stop ends the
// task, so Swarm schedules a replacement as well; the old container restarts outside Swarm's books
// only until Swarm's reaper removes it.
import type { RestartFault } from "../../api/types.js";
import { instantDriver, timeoutSeconds } from "../instant.js";

export const restartDriver = instantDriver<RestartFault>("restart", (engine, id, spec) =>
  engine.restartContainer(id, timeoutSeconds(spec.timeout, 10)),
);
