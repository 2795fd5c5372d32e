import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The in-VM suites of the real-kernel lane (scripts/vm/run.sh runs them inside a QEMU VM with a
// stock Debian kernel; docs/vm-lane.md). Named *.vmtest.ts so the host's own `vitest run`
// (test/**/*.test.ts) never collects them: on the host's kernel netem does not exist.
// One file at a time and generous timeouts: everything runs under software emulation.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/vm/**/*.vmtest.ts"],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
