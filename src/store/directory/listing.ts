// list()'s snapshot from the files as read: valid manifests handed out, invalid ones with their
// problems, and the indexes writes look keys up in. Pure but for the hand-out cache.
import { duplicateProblems, type LoadedDocument } from "../../api/load.js";
import type { Problem } from "../../api/problems.js";
import type { InvalidManifest, StoreSnapshot } from "../store.js";
import type { FileState } from "./files.js";
import type { HandOut } from "./handout.js";
import type { ScanProblem } from "./scan.js";

/** Where each key of the last list() lives, by shown path. */
export interface KeyIndex {
  /** Valid keys to their file. */
  index: Map<string, string>;
  invalidKeys: Set<string>;
  /** Invalid (not duplicate) keys to their file. */
  invalidIndex: Map<string, string>;
  /** Keys defined more than once: never written by reportInvalid, refused by apply and delete. */
  duplicateKeys: Set<string>;
}

export function snapshotOf(
  states: FileState[],
  scanProblems: ScanProblem[],
  handOut: HandOut,
): { snapshot: StoreSnapshot; keys: KeyIndex } {
  const snapshot: StoreSnapshot = { manifests: [], invalid: [] };
  const keys: KeyIndex = {
    index: new Map(),
    invalidKeys: new Set(),
    invalidIndex: new Map(),
    duplicateKeys: new Set(),
  };
  const duplicates = duplicatesByDocument(states.flatMap((s) => s.result.documents));
  for (const s of states) {
    if (s.result.problems.length > 0) snapshot.invalid.push(fileInvalid(s.path, s.result.problems));
    for (const d of s.result.documents) {
      const source = { store: "dir" as const, file: d.file, index: d.index, line: d.line };
      const dup = duplicates.get(d);
      if (d.manifest && !dup) {
        const key = d.key ?? "";
        snapshot.manifests.push(handOut.handOut(d, key, source));
        keys.index.set(key, s.path);
      } else {
        const problems = dup ? [...d.problems, dup] : d.problems;
        const invalid: InvalidManifest = { source, problems };
        if (d.key !== undefined) {
          invalid.key = d.key;
          keys.invalidKeys.add(d.key);
          if (dup) keys.duplicateKeys.add(d.key);
          else keys.invalidIndex.set(d.key, s.path);
        }
        snapshot.invalid.push(invalid);
      }
    }
  }
  for (const p of scanProblems) snapshot.invalid.push(fileInvalid(p.path, [scanProblem(p)]));
  return { snapshot, keys };
}

/**
 * Every document whose namespace/name is defined more than once gets a problem, the first
 * definition included: which file "wins" would depend on file names, so neither is taken.
 */
function duplicatesByDocument(docs: LoadedDocument[]): Map<LoadedDocument, Problem> {
  const byKey = new Map<string, LoadedDocument[]>();
  for (const d of docs) if (d.key !== undefined) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  const out = new Map<LoadedDocument, Problem>();
  for (const group of byKey.values()) {
    if (group.length < 2) continue;
    const [first, ...rest] = group;
    if (!first) continue;
    // The loader words the problem of each repeat; the first definition gets the mirror image.
    const repeats = duplicateProblems(group);
    rest.forEach((d, i) => {
      const p = repeats[i];
      if (p) out.set(d, { ...p, message: `${p.message}; neither is used until one is renamed or removed` });
    });
    const others = rest.map((d) => `${d.file}:${d.keyAt?.line ?? d.line}`).join(", ");
    out.set(first, {
      file: first.file,
      line: first.keyAt?.line ?? first.line,
      column: first.keyAt?.column ?? 1,
      path: "metadata.name",
      message: `duplicate ChaosSchedule "${first.key}": also defined at ${others}; neither is used until one is renamed or removed`,
      rule: "duplicateName",
    });
  }
  return out;
}

function fileInvalid(file: string, problems: Problem[]): InvalidManifest {
  return { source: { store: "dir", file, index: 0, line: 0 }, problems };
}

function scanProblem(p: ScanProblem): Problem {
  return { file: p.path, line: 0, column: 0, path: "", message: p.message, rule: p.rule };
}
