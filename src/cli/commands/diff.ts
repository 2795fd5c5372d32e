// chaosctl diff -f FILE|DIR|-: what apply would change, as a unified diff of the stored object
// and the applied one (store-managed fields left out). Exit 0 no differences, 1 differences
// (like kubectl diff and diff(1)), 2 invalid input or usage.
import { Command } from "commander";
import { warnUnmatchedSelectors } from "../targets-warning.js";
import { stringify } from "yaml";
import type { ChaosSchedule } from "../../api/types.js";
import { scheduleKey } from "../../api/types.js";
import { STORE_ANNOTATIONS } from "../../store/store.js";
import { collect, loadFiles, rejectIfInvalid } from "../files.js";
import type { CliContext } from "../output.js";
import { addStoreOptions, withStore, type StoreOpts } from "../store-option.js";
import { unifiedDiff } from "../udiff.js";
import { InvalidInputError } from "../../util/errors.js";

const EXAMPLES = `
Examples:
  chaosctl diff -f web-kill.yaml --store swarm
  chaosctl diff -f manifests/ -R --dir /srv/chaos && echo "in sync"

Compares what apply -f would store (apiVersion, kind, metadata name/namespace/labels/annotations,
spec, with defaults filled in) with what is stored. Status and store-managed annotations are
never part of it. Exit codes: 0 no differences, 1 differences, 2 invalid input or usage.`;

interface Opts extends StoreOpts {
  filename?: string[];
  recursive?: boolean;
}

/** The part of a schedule apply owns, in a stable key order. */
export function appliedView(m: ChaosSchedule): Record<string, unknown> {
  const annotations = Object.fromEntries(
    Object.entries(m.metadata.annotations ?? {})
      .filter(([k]) => !STORE_ANNOTATIONS.includes(k))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const labels = m.metadata.labels ?? {};
  return {
    apiVersion: m.apiVersion,
    kind: m.kind,
    metadata: {
      name: m.metadata.name,
      namespace: m.metadata.namespace ?? "default",
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    spec: m.spec,
  };
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("diff")
    .description("show what apply -f would change (exit 1 when it would change something)")
    .option("-f, --filename <path>", "file, directory or - for stdin; repeatable", collect)
    .option("-R, --recursive", "process directories recursively");
  addStoreOptions(cmd)
    .addHelpText("after", EXAMPLES)
    .action(async (opts: Opts) => {
      const loaded = await loadFiles(ctx, opts.filename, !!opts.recursive);
      rejectIfInvalid(ctx, loaded, "compared");
      if (loaded.manifests.length === 0) throw new InvalidInputError("no objects passed to diff");
      let differs = false;
      await warnUnmatchedSelectors(
        ctx,
        opts,
        loaded.manifests.map((m) => m.manifest),
      );
      await withStore(opts, async (store) => {
        const stored = new Map((await store.list()).manifests.map((m) => [m.key, m.manifest]));
        for (const { manifest } of loaded.manifests) {
          const key = scheduleKey(manifest);
          const live = stored.get(key);
          const before = live ? stringify(appliedView(live)) : "";
          const after = stringify(appliedView(manifest));
          const text = unifiedDiff(before, after, live ? `live/${key}` : "/dev/null", `applied/${key}`);
          // apply's own answer decides, so diff and apply never disagree about "changed".
          const verdict = (await store.apply(manifest, { dryRun: true })).result;
          if (verdict === "unchanged") continue;
          differs = true;
          ctx.io.stdout(
            text || `--- live/${key}\n+++ applied/${key}\n(store-managed fields only: apply would report ${verdict})\n`,
          );
        }
      });
      ctx.exitCode = differs ? 1 : 0;
    });
}
