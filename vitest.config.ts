import { defineConfig } from "vitest/config";

// Two groups, run one after the other:
// 1. "unit": pure tests and temp-dir tests, files in parallel.
// 2. "docker": tests against the real Docker engine / Swarm, one file at a time,
//    so services, pauses and network faults of one file never disturb another's
//    timings or counts (2 shared cores; QEMU lanes under test/vm too). A test
//    file belongs here when it lives under one of DOCKER_DIRS or is named
//    *.docker.test.ts (e.g. test/controller/reconcile.docker.test.ts).
const DOCKER_DIRS = ["swarm", "engine", "faults", "e2e", "multinode", "vm"];
const DOCKER_TESTS = [...DOCKER_DIRS.map((d) => `test/${d}/**/*.test.ts`), "test/**/*.docker.test.ts"];

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
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
