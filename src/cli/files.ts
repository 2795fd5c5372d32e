// -f FILE|DIR|- for apply, diff and delete: every document loaded and validated first, so
// invalid input is rejected whole (every problem located, nothing written).
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { allProblems, loadPaths, type LoadedDocument } from "../api/load.js";
import { formatProblem, type Problem } from "../api/problems.js";
import type { LoadedChaosSchedule } from "../api/types.js";
import { InvalidInputError, UsageError } from "../util/errors.js";
import type { CliContext } from "./output.js";

const YAML_FILE = /\.ya?ml$/i;

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Without -R a directory contributes only its own .yaml/.yml files (kubectl's rule). */
async function expand(paths: readonly string[], recursive: boolean): Promise<string[]> {
  if (recursive) return [...paths];
  const out: string[] = [];
  for (const p of paths) {
    const isDir =
      p !== "-" &&
      (await stat(p).then(
        (s) => s.isDirectory(),
        () => false,
      ));
    if (!isDir) {
      out.push(p);
      continue;
    }
    const names = (await readdir(p)).filter((n) => YAML_FILE.test(n)).sort();
    const files = [];
    for (const n of names)
      if (
        await stat(join(p, n)).then(
          (s) => s.isFile(),
          () => true,
        )
      )
        files.push(join(p, n));
    // An empty listing goes to loadPaths, which reports "no .yaml files" for the directory.
    out.push(...(files.length ? files : [p]));
  }
  return out;
}

export interface Loaded {
  documents: LoadedDocument[];
  manifests: Array<{ manifest: LoadedChaosSchedule; file: string; line: number }>;
  problems: Problem[];
}

export async function loadFiles(
  ctx: CliContext,
  paths: readonly string[] | undefined,
  recursive: boolean,
): Promise<Loaded> {
  if (!paths?.length) throw new UsageError("needs -f FILE|DIR|- (see --help)");
  const result = await loadPaths(await expand(paths, recursive), { stdin: ctx.io.stdin });
  const manifests = result.documents.flatMap((d) =>
    d.manifest ? [{ manifest: d.manifest, file: d.file, line: d.line }] : [],
  );
  return { documents: result.documents, manifests, problems: allProblems(result) };
}

/** Every problem on stderr, then InvalidInputError (exit 2): nothing was written. */
export function rejectIfInvalid(ctx: CliContext, loaded: Loaded, verb: string): void {
  if (loaded.problems.length === 0) return;
  for (const p of loaded.problems) ctx.io.stderr(formatProblem(p) + "\n");
  const files = new Set(loaded.problems.map((p) => p.file)).size;
  throw new InvalidInputError(`${loaded.problems.length} problem(s) in ${files} file(s): nothing ${verb}`);
}
