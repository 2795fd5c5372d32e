// stop: SIGTERM (the image's stop signal), then SIGKILL after the timeout; Swarm replaces the task.
import type { StopFault } from "../../api/types.js";
import { instantDriver, timeoutSeconds } from "../instant.js";

export const stopDriver = instantDriver<StopFault>("stop", (engine, id, spec) =>
  engine.stopContainer(id, timeoutSeconds(spec.timeout, 10)),
);
