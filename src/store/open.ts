// The one way the controller and the CLI verbs open a store: `--dir DIR` (a folder of manifests)
// or `--store swarm` (Swarm configs of the engine in DOCKER_HOST). Each store is imported only
// when chosen, so a directory command never loads dockerode.
import type { Logger } from "../util/log.js";
import type { WritableStore } from "./store.js";
import type { ConfigEngine } from "./swarm/store.js";

export type StoreChoice =
  | { kind: "dir"; dir: string }
  /** scope: default CHAOSCTL_SWARM_SCOPE, else "default" (configs of other scopes are invisible). */
  | { kind: "swarm"; scope?: string };

export interface OpenStoreOptions {
  logger?: Logger;
  /** The engine for the swarm store; default a DockerEngine for DOCKER_HOST. */
  engine?: ConfigEngine;
}

/** The scope a swarm store uses when none is given. */
export function swarmScope(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHAOSCTL_SWARM_SCOPE || "default";
}

export async function openStore(choice: StoreChoice, opts: OpenStoreOptions = {}): Promise<WritableStore> {
  if (choice.kind === "dir") {
    const { DirectoryStore } = await import("./directory/store.js");
    return new DirectoryStore({ dir: choice.dir, ...(opts.logger ? { logger: opts.logger } : {}) });
  }
  const { SwarmConfigStore } = await import("./swarm/store.js");
  const engine = opts.engine ?? new (await import("../engine/docker.js")).DockerEngine();
  return new SwarmConfigStore({
    engine,
    scope: choice.scope ?? swarmScope(),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
}
