// The node flags the controller ships with: read from the image's ENTRYPOINT, so the bench
// measures the controller as the image starts it (and a flag dropped there shows in the bench).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** The elements between "node" and the script (the first one not starting with "-") of an exec-form ENTRYPOINT. */
export function entrypointNodeFlags(dockerfile: string): string[] {
  const line = dockerfile.split("\n").find((l) => /^ENTRYPOINT\s+\[/.test(l));
  if (!line) throw new Error("Dockerfile: no exec-form ENTRYPOINT");
  const argv = JSON.parse(line.replace(/^ENTRYPOINT\s+/, "")) as unknown;
  if (!Array.isArray(argv) || argv[0] !== "node")
    throw new Error(`Dockerfile: ENTRYPOINT does not start node: ${line}`);
  const rest = argv.slice(1).map(String);
  const script = rest.findIndex((a) => !a.startsWith("-"));
  return script < 0 ? rest : rest.slice(0, script);
}

/** From the compiled bench (dist/bench) or the sources (bench): the repository's Dockerfile. */
export function shippedNodeFlags(): string[] {
  for (const up of ["../..", ".."]) {
    try {
      return entrypointNodeFlags(readFileSync(resolve(import.meta.dirname, up, "Dockerfile"), "utf8"));
    } catch (err) {
      if (!(typeof err === "object" && err !== null && "code" in err && err.code === "ENOENT")) throw err;
    }
  }
  throw new Error("Dockerfile not found next to the bench");
}
