// NetnsExec from outside: each argv runs in a one-shot helper container from the project's
// image that shares the target's namespace (NetworkMode container:<id>, NET_ADMIN). Used by
// the controller to observe and, when no guard can, to revert directly.
import type { Engine } from "../../engine/engine.js";
import { L_ROLE, L_TARGET } from "../labels.js";
import type { NetnsExec } from "./converge.js";

export function helperExec(engine: Engine, image: string, targetId: string, timeoutMs = 15_000): NetnsExec {
  return (argv) =>
    engine.runHelper(
      {
        image,
        entrypoint: argv.slice(0, 1),
        cmd: argv.slice(1),
        labels: { [L_ROLE]: "helper", [L_TARGET]: targetId },
        networkMode: `container:${targetId}`,
        capAdd: ["NET_ADMIN"],
      },
      timeoutMs,
    );
}
