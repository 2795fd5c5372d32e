// The engine's own record of what happened, instead of waiting and looking: `docker events`
// with --until replays the past (from --since) and returns at once. The engine replays only
// its last 256 events, and files of other docker lanes run beside one's own (vitest.config.ts):
// over a window longer than a few seconds, record the events live (recordEvents) instead.
import { spawn } from "node:child_process";
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

/**
 * `docker events` with `args` (filters, --format), recorded live from now (with one second
 * replayed, so nothing between the call and the subscription is missed) until stop(), which
 * returns the lines. Call stop() once what is counted happened a moment before: events reach
 * the stream within milliseconds, but stop() does not wait for them.
 */
export function recordEvents(args: string[]): { stop(): Promise<string[]> } {
  const child = spawn("docker", ["events", "--since", String(eventClock()), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    async stop() {
      if (child.exitCode !== null) throw new Error(`docker events exited ${child.exitCode}: ${err.trim()}`);
      child.kill("SIGTERM");
      await exited;
      return out.split("\n").filter(Boolean);
    },
  };
}
