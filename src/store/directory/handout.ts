// What list() hands out: generations (rising only while we run) and a copy of each valid
// document, made once per parse and generation, so an idle pass copies nothing.
import type { LoadedDocument } from "../../api/load.js";
import type { StoredManifest } from "../store.js";
import { specHash } from "./canonical.js";
import { currentGeneration, SPEC_HASH_ANNOTATION, type GenerationMemo } from "./generation.js";

type Generational = {
  spec: unknown;
  metadata: { generation?: number; annotations?: Record<string, string | undefined> };
};

export class HandOut {
  /** Generations handed out, so they only ever rise while we run (generation.ts). */
  private readonly memo = new Map<string, GenerationMemo>();

  /** The generation of `key`'s manifest, remembered. */
  generationOf(key: string, manifest: Generational): number {
    const hash = cachedSpecHash(manifest.spec);
    const stored = {
      generation: manifest.metadata.generation,
      specHash: manifest.metadata.annotations?.[SPEC_HASH_ANNOTATION],
    };
    const generation = currentGeneration(stored, hash, this.memo.get(key));
    this.memo.set(key, { generation, specHash: hash });
    return generation;
  }

  /** A write stored this generation and spec hash for `key`. */
  remember(key: string, memo: GenerationMemo): void {
    this.memo.set(key, memo);
  }

  /**
   * The StoredManifest list() hands out for a valid document: a copy of the parse (writeStatus
   * compares against the parse, never against what callers hold), made once per parse and
   * generation and handed out again while the file is unchanged, so an idle pass copies nothing.
   * Callers treat snapshots as read-only (the controller does); a caller that changes one sees
   * its change again in the next snapshot, never in the file.
   */
  handOut(d: LoadedDocument, key: string, source: StoredManifest["source"]): StoredManifest {
    const parsed = d.manifest;
    if (!parsed) throw new Error("handOut: not a valid document");
    const generation = this.generationOf(key, parsed);
    const kept = handedOut.get(d);
    if (kept && kept.generation === generation && kept.stored.key === key && sameSource(kept.stored.source, source))
      return kept.stored;
    const manifest = cloneManifest(parsed);
    manifest.metadata.generation = generation;
    const stored: StoredManifest = { key, source, manifest };
    if (manifest.status) stored.status = manifest.status;
    handedOut.set(d, { generation, stored });
    return stored;
  }
}

/** What list() handed out for a parsed document (HandOut.handOut). */
const handedOut = new WeakMap<LoadedDocument, { generation: number; stored: StoredManifest }>();

function sameSource(a: StoredManifest["source"], b: StoredManifest["source"]): boolean {
  return a.store === "dir" && b.store === "dir" && a.file === b.file && a.index === b.index && a.line === b.line;
}

/** Spec hashes by parsed spec object: a file's parse is kept while it is unchanged, so is its hash. */
const specHashes = new WeakMap<object, string>();
function cachedSpecHash(spec: unknown): string {
  if (spec === null || typeof spec !== "object") return specHash(spec);
  let h = specHashes.get(spec);
  if (h === undefined) specHashes.set(spec, (h = specHash(spec)));
  return h;
}

/** A caller's own copy of a cached manifest (plain JSON data: a JSON round trip is the cheapest deep copy). */
function cloneManifest<T>(m: T): T {
  return JSON.parse(JSON.stringify(m)) as T;
}
