// Naming of a test run's shared cluster (test/helpers/cluster.ts), kept free of vitest's
// runtime so the global set-up in vitest's main process can use it too.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLUSTER_RUN_ROOT = "/run/chaosctl-cluster"; // scripts/cluster/lib.sh CLUSTER_RUN_ROOT
const DOWN = fileURLToPath(new URL("../../scripts/cluster/down.sh", import.meta.url));

/**
 * scripts/test.sh starts the shared cluster itself while the unit group runs, and tells the
 * docker-cluster lane about it in this variable: "NAME STATUS_DIR", where STATUS_DIR gets `rc`
 * (up.sh's exit status) once up.sh is done and `log` (its stderr).
 */
export const PRESTARTED_CLUSTER_ENV = "CHAOSCTL_PRESTARTED_CLUSTER";

export interface PrestartedCluster {
  name: string;
  statusDir: string;
}

/** The cluster scripts/test.sh started for this run, if it did. */
export function prestartedCluster(): PrestartedCluster | undefined {
  const v = process.env[PRESTARTED_CLUSTER_ENV];
  if (!v) return undefined;
  const m = /^([a-z][a-z0-9]{0,7}) (\/.+)$/.exec(v);
  if (!m) throw new Error(`${PRESTARTED_CLUSTER_ENV}="${v}": expected "NAME STATUS_DIR" (scripts/test.sh)`);
  return { name: m[1] as string, statusDir: m[2] as string };
}

/**
 * The name of a run's shared cluster: the one scripts/test.sh started, else one derived from
 * the run's main process id (up.sh's name rule).
 */
export function sharedClusterName(runPid: number): string {
  return prestartedCluster()?.name ?? `s${runPid.toString(36)}`;
}

/** scripts/cluster/down.sh NAME: removes all of the cluster; idempotent. */
export function downCluster(name: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile("bash", [DOWN, name], { timeout: 120_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`down.sh ${name} failed: ${err.message}\n${stderr.trim()}`)) : resolve(),
    ),
  );
}
