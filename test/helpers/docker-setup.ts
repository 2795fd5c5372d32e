// Global set-up of the "docker" test group (vitest.config.ts), in vitest's main process:
// - before any real-engine file runs, the compiled code those tests run must be the
//   checkout's own (test/helpers/fresh.ts);
// - the run's shared three-node cluster (test/helpers/cluster.ts, started by the first file
//   that needs it) is owned by this process and removed at the end of the run; only the
//   "docker-cluster" lane may start it (vitest.config.ts), so lanes run at once never share it.
import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { CLUSTER_RUN_ROOT, downCluster, sharedClusterName } from "./shared-cluster.js";
import { APP_IMAGE } from "./docker.js";
import { requireFreshBuild } from "./fresh.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await requireFreshBuild(APP_IMAGE);
  project.provide("testRunPid", process.pid);
  project.provide("dockerLane", project.name);
  return async () => {
    const name = sharedClusterName(process.pid);
    if (existsSync(`${CLUSTER_RUN_ROOT}/${name}`)) await downCluster(name);
  };
}
