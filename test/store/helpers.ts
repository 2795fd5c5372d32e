// Temp folders for the directory store tests; each test removes exactly the folder it made.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadText } from "../../src/api/load.js";
import { specHash } from "../../src/store/directory/canonical.js";
import type { ChaosScheduleStatus } from "../../src/api/types.js";

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "chaosctl-store-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The spec hash the store writes for the (only / index-th) document of `text`. */
export function hashOf(text: string, index = 0): string {
  const d = loadText(text, "x.yaml").documents.find((doc) => doc.index === index);
  if (!d?.manifest) throw new Error("fixture is not a valid manifest");
  return specHash(d.manifest.spec);
}

/** Inode and modification time: a rename or a write changes them. */
export async function identity(file: string): Promise<string> {
  const s = await stat(file, { bigint: true });
  return `${s.ino}:${s.mtimeNs}`;
}

export function status(phase: NonNullable<ChaosScheduleStatus["phase"]>, observedGeneration = 1): ChaosScheduleStatus {
  return { observedGeneration, phase, conditions: [{ type: "Ready", status: "True", reason: "Reconciled" }] };
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
