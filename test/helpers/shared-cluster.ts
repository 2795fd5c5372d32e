// Naming of a test run's shared cluster (test/helpers/cluster.ts), kept free of vitest's
// runtime so the global set-up in vitest's main process can use it too.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLUSTER_RUN_ROOT = "/run/chaosctl-cluster"; // scripts/cluster/lib.sh CLUSTER_RUN_ROOT
const DOWN = fileURLToPath(new URL("../../scripts/cluster/down.sh", import.meta.url));

/** The name of a run's shared cluster, from the run's main process id (up.sh's name rule). */
export function sharedClusterName(runPid: number): string {
  return `s${runPid.toString(36)}`;
}

/** scripts/cluster/down.sh NAME: removes all of the cluster; idempotent. */
export function downCluster(name: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile("bash", [DOWN, name], { timeout: 120_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`down.sh ${name} failed: ${err.message}\n${stderr.trim()}`)) : resolve(),
    ),
  );
}
