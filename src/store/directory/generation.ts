// metadata.generation is store-managed, as an API server does it: it starts at 1 and rises by
// one whenever the spec changes. The file keeps the generation and a hash of the spec it
// belongs to (annotation SPEC_HASH_ANNOTATION); a spec whose hash differs from the stored one
// is a newer generation, seen at once by list() even before anything is written back.
// The in-memory memo keeps the generation monotonic while the process runs, across several
// edits made between two writes (A→B→C is two raises, B→A is a raise too, never a step back).

export const SPEC_HASH_ANNOTATION = "chaosctl.io/spec-hash";

/** What the file says (either may be missing in a hand-written manifest). */
export interface StoredGeneration {
  generation?: number;
  specHash?: string;
}

/** Last generation this process handed out for a key, and the spec hash it belongs to. */
export interface GenerationMemo {
  generation: number;
  specHash: string;
}

export function currentGeneration(stored: StoredGeneration, specHash: string, memo?: GenerationMemo): number {
  const fromFile =
    stored.generation === undefined
      ? 1
      : stored.specHash === undefined || stored.specHash === specHash
        ? stored.generation
        : stored.generation + 1;
  if (!memo) return fromFile;
  const fromMemo = memo.specHash === specHash ? memo.generation : memo.generation + 1;
  return Math.max(fromFile, fromMemo);
}
