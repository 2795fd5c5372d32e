// NetnsExec from outside the target's namespace, for the controller's read-back and direct revert:
// - guardExec: `docker exec` into the running guard, which shares the namespace (cheap, ~0.1 s);
// - helperExec: a one-shot helper container from the project's image in the namespace
//   (NetworkMode container:<id>, NET_ADMIN), when no guard runs (~0.3 s per command).
import type { Engine } from "../../engine/engine.js";
import { ContainerNotFound, ContainerStateConflict } from "../../engine/errors.js";
import { L_ROLE, L_TARGET } from "../../api/labels.js";
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

/** Exec into the guard while it runs; once it is gone or stopped, fall back to helpers. */
export function guardExec(engine: Engine, guard: string, fallback: NetnsExec, timeoutMs = 10_000): NetnsExec {
  let useFallback = false;
  return async (argv) => {
    if (!useFallback) {
      try {
        return await engine.exec(guard, argv, timeoutMs);
      } catch (err) {
        if (!(err instanceof ContainerNotFound || err instanceof ContainerStateConflict)) throw err;
        useFallback = true;
      }
    }
    return fallback(argv);
  };
}
