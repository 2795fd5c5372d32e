// The package's own version, for --version and the agent's whoami.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The version of the package this file belongs to (works from src/ and from dist/src/). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "chaosctl" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not here: look one level up
    }
    const up = dirname(dir);
    if (up === dir) return "unknown";
    dir = up;
  }
}
