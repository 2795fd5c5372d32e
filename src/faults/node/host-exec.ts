// NetnsExec in a node's own network namespace from outside it: a one-shot helper from the
// project's image with NetworkMode host and NET_ADMIN on that node's engine (the controller's
// read-back and direct revert of a partition whose guard is gone).
import type { Engine } from "../../engine/engine.js";
import { L_NODE, L_ROLE } from "../../api/labels.js";
import type { NetnsExec } from "../netns/converge.js";

export function hostExec(engine: Engine, image: string, nodeId: string, timeoutMs = 15_000): NetnsExec {
  return (argv) =>
    engine.runHelper(
      {
        image,
        entrypoint: argv.slice(0, 1),
        cmd: argv.slice(1),
        labels: { [L_ROLE]: "helper", [L_NODE]: nodeId },
        networkMode: "host",
        capAdd: ["NET_ADMIN"],
      },
      timeoutMs,
    );
}
