// kill: send a signal to the target's container (default SIGKILL); Swarm replaces the task.
import type { KillFault } from "../../api/types.js";
import { instantDriver } from "../instant.js";

export const killDriver = instantDriver<KillFault>("kill", (engine, id, spec) =>
  engine.killContainer(id, spec.signal ?? "SIGKILL"),
);
