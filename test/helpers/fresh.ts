// The Docker tests run compiled code: the bin (dist/src/cli/main.js) as its own process, and
// local/chaosctl:dev for guards, helpers and agents. Both must be built from the checkout as it
// is, or the tests prove old code. `npm run build` stamps dist/ with the hash of its sources
// (scripts/build-stamp.mjs), and scripts/images.sh labels the image with the stamp it imaged;
// this compares both with the checkout's hash, and fails loudly instead of rebuilding.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { docker } from "./docker.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SOURCES_LABEL = "org.chaosctl.sources"; // scripts/lib/common.sh
const FIX = "build both with `npm run build && bash scripts/images.sh app` (with-docker does this)";

export function sourcesHash(): string {
  return execFileSync(process.execPath, [`${ROOT}scripts/build-stamp.mjs`, "--print"], { encoding: "utf8" }).trim();
}

/** Throws unless dist/ and `image` were both built from the sources checked out now. */
export async function requireFreshBuild(image: string): Promise<void> {
  const want = sourcesHash();
  let built = "";
  try {
    built = readFileSync(`${ROOT}dist/.inputs-hash`, "utf8").trim();
  } catch {
    // never built, or the last build failed before its stamp
  }
  if (built !== want)
    throw new Error(
      `dist/ is ${built ? "stale (built from other sources than the checkout's)" : "not built (no successful npm run build)"}: ${FIX}`,
    );
  const r = await docker(["image", "inspect", "-f", `{{index .Config.Labels "${SOURCES_LABEL}"}}`, image]);
  if (r.code !== 0) throw new Error(`image ${image} is missing: ${FIX}`);
  const imaged = r.stdout.trim();
  if (imaged !== want)
    throw new Error(
      `image ${image} is stale (${imaged && imaged !== "<no value>" ? "built from other sources" : "no sources label"}): ${FIX}`,
    );
}
