// The hash of what `npm run build` compiles (src/, bench/, crds/ and the build's own config),
// so a stale dist/ or a stale local/chaosctl:dev image is detected instead of tested.
//   node scripts/build-stamp.mjs --write   after tsc succeeded: dist/.inputs-hash (npm run build)
//   node scripts/build-stamp.mjs --print   the hash of the checkout as it is now
//   node scripts/build-stamp.mjs --check   exit 0 when dist/.inputs-hash matches, else 1 (says why)
// src/api/generated/ is left out: it is derived from crds/ (scripts/gen-types.mjs).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dirname, "..");
export const STAMP = join(ROOT, "dist", ".inputs-hash");
const TREES = ["src", "bench", "crds"];
const FILES = ["scripts/gen-types.mjs", "tsconfig.json", "tsconfig.build.json", "package.json"];
const SKIP = new Set(["src/api/generated"]);

function walk(dir, out) {
  for (const name of readdirSync(join(ROOT, dir)).sort()) {
    const rel = `${dir}/${name}`;
    if (SKIP.has(rel)) continue;
    const st = statSync(join(ROOT, rel));
    if (st.isDirectory()) walk(rel, out);
    else if (st.isFile()) out.push(rel);
  }
}

export function inputsHash() {
  const files = [];
  for (const t of TREES) walk(t, files);
  files.push(...FILES);
  const h = createHash("sha256");
  for (const f of files.sort())
    h.update(f)
      .update("\0")
      .update(readFileSync(join(ROOT, f)))
      .update("\0");
  return h.digest("hex");
}

const mode = process.argv[2];
if (mode === "--write") writeFileSync(STAMP, inputsHash() + "\n");
else if (mode === "--print") process.stdout.write(inputsHash() + "\n");
else if (mode === "--check") {
  let built = "";
  try {
    built = readFileSync(STAMP, "utf8").trim();
  } catch {
    // no stamp: never built, or the last build failed
  }
  const now = inputsHash();
  if (built !== now) {
    process.stderr.write(
      `${relative(process.cwd(), STAMP)}: ${built ? "built from other sources than the checkout's" : "missing (no successful build)"}: run npm run build\n`,
    );
    process.exitCode = 1;
  }
} else if (mode !== undefined) {
  process.stderr.write("usage: node scripts/build-stamp.mjs --write|--print|--check\n");
  process.exitCode = 2;
}
