// Property: whatever the interleaving of user edits (comments, spec values), controller lists
// and status writes (some with an in-place edit landing inside the rename window), no user
// edit is ever lost, the file always loads, and status is only ever written for the spec the
// controller saw.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadText } from "../../src/api/load.js";
import { racingStore } from "../support/racing-store.js";
import { specHash } from "../../src/store/directory/canonical.js";
import { SPEC_HASH_ANNOTATION } from "../../src/store/directory/generation.js";
import { manifest } from "./fixtures.js";
import { status, tempDir } from "./helpers.js";

type Doc = "a" | "b";
type Op =
  | { kind: "comment"; top: boolean }
  | { kind: "spec"; doc: Doc; value: number }
  | { kind: "list" }
  | {
      kind: "write";
      doc: Doc;
      phase: "Active" | "Idle" | "Completed";
      race?: { kind: "comment" } | { kind: "spec"; value: number };
    };

const docArb = fc.constantFrom<Doc>("a", "b");
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("comment" as const), top: fc.boolean() }),
  fc.record({ kind: fc.constant("spec" as const), doc: docArb, value: fc.integer({ min: 0, max: 3 }) }),
  fc.constant({ kind: "list" as const }),
  fc.record(
    {
      kind: fc.constant("write" as const),
      doc: docArb,
      phase: fc.constantFrom("Active" as const, "Idle" as const, "Completed" as const),
      race: fc.oneof(
        fc.constant({ kind: "comment" as const }),
        fc.record({ kind: fc.constant("spec" as const), value: fc.integer({ min: 0, max: 3 }) }),
      ),
    },
    { requiredKeys: ["kind", "doc", "phase"] },
  ),
);

const servicesOf = (doc: Doc, value: number): string => `${doc}-v${value}`;

describe("status writes interleaved with user edits", () => {
  it("never lose a user edit (fast-check, 200 cases)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const { dir, cleanup } = await tempDir();
        try {
          const file = join(dir, "m.yaml");
          const model = { spec: { a: 0, b: 0 } as Record<Doc, number>, comments: [] as string[] };
          let commentSeq = 0;
          const newComment = (): string => `# user note ${commentSeq++}`;
          const editSpec = (text: string, doc: Doc, value: number): string =>
            text.replace(new RegExp(`services: \\[${doc}-v\\d+\\]`), `services: [${servicesOf(doc, value)}]`);
          await writeFile(
            file,
            manifest("a", { services: servicesOf("a", 0) }) + "---\n" + manifest("b", { services: servicesOf("b", 0) }),
          );

          const { store, arm, disarm } = racingStore(dir);
          /** What list() reported: generation → the spec value it belongs to, per document. */
          const seen: Record<Doc, Map<number, number>> = { a: new Map(), b: new Map() };
          const listedGen: Record<Doc, number> = { a: 0, b: 0 };
          const doList = async (): Promise<void> => {
            for (const m of (await store.list()).manifests) {
              const doc = m.manifest.metadata.name as Doc;
              const g = m.manifest.metadata.generation ?? 0;
              const value = Number((m.manifest.spec.selector.services?.[0] ?? "").split("-v")[1]);
              // One generation never stands for two different specs.
              if (seen[doc].has(g)) expect(seen[doc].get(g)).toBe(value);
              seen[doc].set(g, value);
              listedGen[doc] = g;
            }
          };
          await doList();

          for (const op of ops) {
            if (op.kind === "comment") {
              const c = newComment();
              const text = await readFile(file, "utf8");
              await writeFile(file, op.top ? `${c}\n${text}` : `${text}${c}\n`);
              model.comments.push(c);
            } else if (op.kind === "spec") {
              await writeFile(file, editSpec(await readFile(file, "utf8"), op.doc, op.value));
              model.spec[op.doc] = op.value;
            } else if (op.kind === "list") {
              await doList();
            } else {
              const r = op.race;
              // The racing edit lands only if a rename happens (an unchanged status writes nothing).
              if (r?.kind === "comment") {
                arm(async () => {
                  const c = newComment();
                  model.comments.push(c);
                  await writeFile(file, (await readFile(file, "utf8")) + c + "\n"); // in place: same inode
                });
              } else if (r?.kind === "spec") {
                arm(async () => {
                  model.spec[op.doc] = r.value;
                  await writeFile(file, editSpec(await readFile(file, "utf8"), op.doc, r.value));
                });
              }
              const g = listedGen[op.doc];
              const result = await store.writeStatus(`default/${op.doc}`, g, status(op.phase, g));
              disarm();
              expect(["written", "unchanged", "conflict"]).toContain(result);
              if (result === "written") {
                // Status for generation g sits next to the spec that generation g stood for.
                expect(model.spec[op.doc]).toBe(seen[op.doc].get(g));
              }
            }
            // After every step: the file loads, every user edit is in it.
            const text = await readFile(file, "utf8");
            const loaded = loadText(text, file);
            expect(loaded.problems).toEqual([]);
            expect(loaded.documents.map((d) => d.problems)).toEqual([[], []]);
            for (const d of loaded.documents) {
              const doc = d.manifest?.metadata.name as Doc;
              expect(d.manifest?.spec.selector.services).toEqual([servicesOf(doc, model.spec[doc])]);
              const st = d.manifest?.status;
              const meta = d.manifest?.metadata;
              const current = meta?.annotations?.[SPEC_HASH_ANNOTATION] === specHash(d.manifest?.spec);
              // A status claiming the file's generation, when that generation is the spec's
              // (its hash matches), was written for this very spec.
              if (current && st?.observedGeneration !== undefined && st.observedGeneration === meta?.generation) {
                expect(seen[doc].get(st.observedGeneration)).toBe(model.spec[doc]);
              }
            }
            for (const c of model.comments) expect(text).toContain(c + "\n");
          }
        } finally {
          await cleanup();
        }
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});
