// Where each schedule came from, for audit: the store's applied-by/applied-at record, and for a
// directory store inside a git repository the file and the last commit that touched it.
import { execFile } from "node:child_process";
import { basename, dirname } from "node:path";
import { APPLIED_AT_ANNOTATION, APPLIED_BY_ANNOTATION, type StoredManifest } from "../store/store.js";
import type { Origin } from "./inventory.js";

/** `git log -1 --format=%H -- FILE` in the file's folder; undefined outside a repository or for an uncommitted file. */
export function lastCommit(file: string, timeoutMs = 5_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["-C", dirname(file), "log", "-1", "--format=%H", "--", basename(file)],
      { timeout: timeoutMs },
      (err, stdout) => {
        const sha = String(stdout ?? "").trim();
        resolve(!err && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined);
      },
    );
  });
}

/** Origins of the schedules named in `wanted` (one git call per distinct file). */
export async function originsOf(
  manifests: readonly StoredManifest[],
  wanted: ReadonlySet<string>,
  commitOf: (file: string) => Promise<string | undefined> = lastCommit,
): Promise<Map<string, Origin>> {
  const out = new Map<string, Origin>();
  const commits = new Map<string, Promise<string | undefined>>();
  for (const m of manifests) {
    if (!wanted.has(m.key)) continue;
    const ann = m.manifest.metadata.annotations ?? {};
    const o: Origin = {
      ...(ann[APPLIED_BY_ANNOTATION] ? { appliedBy: ann[APPLIED_BY_ANNOTATION] } : {}),
      ...(ann[APPLIED_AT_ANNOTATION] ? { appliedAt: ann[APPLIED_AT_ANNOTATION] } : {}),
    };
    if (m.source.store === "dir") {
      const file = m.source.file;
      o.file = file;
      if (!commits.has(file)) commits.set(file, commitOf(file));
      const sha = await commits.get(file);
      if (sha) o.commit = sha;
    } else {
      o.config = m.source.configName;
    }
    out.set(m.key, o);
  }
  return out;
}
