// The engine's own record of what happened, instead of waiting and looking: `docker events`
// with --until replays the past (from --since) and returns at once.
import { dockerOk } from "./docker.js";

/** Whole seconds, as `docker events --since/--until` take them; one second of margin before. */
export const eventClock = (): number => Math.floor(Date.now() / 1000) - 1;

/**
 * Container events of `actions` (e.g. kill, die, pause) since `since` (eventClock()) for the
 * containers of Swarm service `service`, as "action container-id" lines.
 */
export async function serviceContainerEvents(
  service: string,
  since: number,
  actions: string[],
  docker: (args: string[]) => Promise<string> = dockerOk,
): Promise<string[]> {
  const out = await docker([
    "events",
    "--since",
    String(since),
    "--until",
    String(Math.ceil(Date.now() / 1000) + 1),
    "--filter",
    "type=container",
    "--filter",
    `label=com.docker.swarm.service.name=${service}`,
    ...actions.flatMap((a) => ["--filter", `event=${a}`]),
    "--format",
    "{{.Action}} {{.Actor.ID}}",
  ]);
  return out.split("\n").filter(Boolean);
}
