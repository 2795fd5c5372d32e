import { defineConfig } from "vitest/config";

// Two groups, run one after the other:
// 1. "unit": pure tests and temp-dir tests, files in parallel.
// 2. "docker": tests against the real Docker engine / Swarm (or real network namespaces and
//    engines of a test cluster), one file at a time, so services, pauses and network faults of
//    one file never disturb another's timings or counts (2 shared cores). A file belongs here
//    by its name, *.docker.test.ts, wherever it lives; the folder says what it tests, the name
//    what it needs. The in-VM suites (test/vm/*.vmtest.ts) have their own config.
const DOCKER_TESTS = ["test/**/*.docker.test.ts"];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: DOCKER_TESTS,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "docker",
          include: DOCKER_TESTS,
          fileParallelism: false,
          // dist/ and local/chaosctl:dev built from this checkout, or nothing runs.
          globalSetup: ["test/helpers/docker-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
