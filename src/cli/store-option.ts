// `--dir DIR | --store swarm` for every verb that reads or writes schedules. Stores are imported
// lazily: `get --dir` must not load dockerode, and nothing is opened before the verb needs it.
import { Command, Option } from "commander";
import type { WritableStore } from "../store/store.js";
import { UsageError } from "../util/errors.js";

export interface StoreOpts {
  dir?: string;
  store?: "dir" | "swarm";
}

export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option("--dir <dir>", "directory store: a folder of ChaosSchedule YAML files (env CHAOSCTL_DIR)")
    .addOption(
      new Option(
        "--store <kind>",
        "where schedules live: dir (with --dir) or swarm (Swarm configs of DOCKER_HOST, scope CHAOSCTL_SWARM_SCOPE; env CHAOSCTL_STORE)",
      ).choices(["dir", "swarm"]),
    );
}

/** Which store the options (or CHAOSCTL_STORE / CHAOSCTL_DIR) name; UsageError when none. */
export function storeChoice(opts: StoreOpts): { kind: "dir"; dir: string } | { kind: "swarm" } {
  const kind = opts.store ?? (process.env.CHAOSCTL_STORE as StoreOpts["store"] | undefined);
  const dir = opts.dir ?? process.env.CHAOSCTL_DIR;
  if (kind === "swarm") {
    if (opts.dir) throw new UsageError("--dir and --store swarm name two different stores: give one");
    return { kind: "swarm" };
  }
  if (kind !== undefined && kind !== "dir") throw new UsageError(`unknown store "${String(kind)}": use dir or swarm`);
  if (!dir)
    throw new UsageError(
      "which store? give --dir DIR (a folder of manifests) or --store swarm (the cluster in DOCKER_HOST)",
    );
  return { kind: "dir", dir };
}

export async function openCliStore(opts: StoreOpts): Promise<WritableStore> {
  const { openStore } = await import("../store/open.js");
  return openStore(storeChoice(opts));
}

/** Opens the store, runs `fn`, closes the store whatever happens. */
export async function withStore<T>(opts: StoreOpts, fn: (store: WritableStore) => Promise<T>): Promise<T> {
  const store = await openCliStore(opts);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
