import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Groups, run one after the other by a plain `vitest run`:
// 1. "unit": pure tests and temp-dir tests, files in parallel.
// 2. the docker lanes: tests against the real Docker engine / Swarm (or real network namespaces
//    and engines of a test cluster). A file belongs to them by its name, *.docker.test.ts,
//    wherever it lives; the folder says what it tests, the name what it needs. Within a lane
//    files run one at a time. The lanes are built so that one lane's file never sees another
//    lane's: "docker-cluster" has every file that uses the run's shared three-node cluster
//    (test/helpers/cluster.ts), the three host lanes only files whose services, containers,
//    configs, guards and ports are scoped by their own random names on the host's one-node
//    Swarm. `npm test` (scripts/test.sh) runs these four lanes at once, each in its own vitest
//    process; a plain `vitest run` runs them one after the other.
// 3. "docker-alone": files that disturb or measure the whole host (CPU load and CPU shares,
//    counts of every guard container on the engine): nothing else runs beside them.
// The in-VM suites (test/vm/*.vmtest.ts) have their own config.
const DOCKER_TESTS = ["test/**/*.docker.test.ts"];

/** Files that use the shared cluster (sharedCluster() refuses to start it in any other lane). */
const CLUSTER_FILES = ["test/multinode/*.docker.test.ts"];
/** Files that load the CPU, read CPU use, or count every guard on the engine. */
const ALONE = [
  "test/faults/stress.docker.test.ts",
  "test/e2e/stress.docker.test.ts",
  "test/agent/agent.docker.test.ts",
];
// The host files are split over three lanes by their times as measured with the lanes running
// (fault windows waited out, mostly), so that the four concurrent lanes end at about the same
// time. Any host file may move between them; a new one goes to "docker-host" by default.
const HOST_LANE_B = [
  "test/e2e/network.docker.test.ts",
  "test/e2e/ops.docker.test.ts",
  "test/faults/guard-pause.docker.test.ts",
  "test/ops/dashboard.docker.test.ts",
];
const HOST_LANE_C = [
  "test/e2e/controller.docker.test.ts",
  "test/e2e/resilience.docker.test.ts",
  "test/probes/probes.docker.test.ts",
  "test/faults/network-swarm.docker.test.ts",
];

function dockerLane(name: string, include: string[], exclude: string[], groupOrder: number) {
  return {
    test: {
      name,
      include,
      exclude,
      fileParallelism: false,
      // dist/ and local/chaosctl:dev built from this checkout, or nothing runs.
      globalSetup: ["test/helpers/docker-setup.ts"],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      sequence: { groupOrder },
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: DOCKER_TESTS,
          // Vitest's default is one worker fewer than the CPUs: a single one on a 2-core machine,
          // which then idles through every file's waits (timers, child processes, file events).
          // Measured here beside other sessions: 1 worker 52 s, 2 workers 36-40 s, 3 workers 38 s.
          maxWorkers: Math.max(2, availableParallelism()),
          // A hang bound, not a timing: with the files in parallel on a loaded machine a test that
          // spawns processes can pass 5 s.
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      dockerLane("docker-cluster", CLUSTER_FILES, [], 1),
      dockerLane("docker-host", DOCKER_TESTS, [...CLUSTER_FILES, ...ALONE, ...HOST_LANE_B, ...HOST_LANE_C], 1),
      dockerLane("docker-host-b", HOST_LANE_B, [], 1),
      dockerLane("docker-host-c", HOST_LANE_C, [], 1),
      dockerLane("docker-alone", ALONE, [], 2),
    ],
  },
});
