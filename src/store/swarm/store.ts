// The Swarm config store (docs/stores.md, "Swarm config store"): manifests kept as Docker Swarm configs,
// raft-replicated on the managers. One config per manifest generation (labels.ts): its data is
// the manifest as applied (immutable), its labels hold status and the metadata changed since.
//
// Concurrency, all by compare-and-swap on the config's Swarm version (updateConfigLabels):
//  - writeStatus reads the key's configs fresh, answers "conflict" when `generation` is not the
//    highest, and writes the status label at the version it read; a VersionConflict (an apply
//    changed the metadata label meanwhile) reads again and retries on that fresh state, so
//    neither the apply nor the status is lost, and nothing is ever overwritten blind.
//  - a labels-only apply is the same CAS on the current config.
//  - a spec change creates the next generation's config carrying the current status (with the
//    predecessor's version it was copied at, STATUS_FROM_LABEL), then supersedes the old one:
//    if the old config changed since the copy (a status write landed), the status is copied
//    again (unless the controller already wrote the new generation), the old one is marked by
//    a CAS at the version copied (so a writer holding an older version fails and re-reads,
//    finding the new generation), then removed. A crash between the steps leaves two configs;
//    list() resolves the key by its highest generation and finishes the same supersede.
// size: to be split by concern as the directory store was (decoding, labels and watch are apart already).
import { stringify } from "yaml";
import type { ChaosSchedule, ChaosScheduleStatus } from "../../api/types.js";
import type { ConfigInfo, Engine, SwarmConfigs } from "../../engine/engine.js";
import { ConfigInUse, ConfigNameConflict, ConfigNotFound, VersionConflict } from "../../engine/errors.js";
import { silentLogger, type Logger } from "../../util/log.js";
import {
  checkManifest,
  patchedManifest,
  planManifestApply,
  type CheckedManifest,
  type CurrentManifest,
} from "../apply-plan.js";
import { toPlainJson } from "../directory/canonical.js";
import { invalidStatus } from "../directory/invalid.js";
import { defaultOrigin } from "../origin.js";
import {
  StoreWriteError,
  type ApplyOptions,
  type ApplyOutcome,
  type ApplyResult,
  type DeleteOptions,
  type DeleteResult,
  type InvalidManifest,
  type SpecPatch,
  type StoredManifest,
  type StoreSnapshot,
  type WritableStore,
  type WriteResult,
} from "../store.js";
import { configFile, decodeConfig, resolveConfigs, type DecodedConfig, type KeyState } from "./decode.js";
import {
  configName,
  GENERATION_LABEL,
  KIND_LABEL,
  KIND_VALUE,
  METADATA_LABEL,
  NAME_LABEL,
  NAMESPACE_LABEL,
  scopeFilters,
  splitKey,
  STATUS_FROM_LABEL,
  STATUS_LABEL,
  STORE_LABEL,
  SUPERSEDED_BY_LABEL,
} from "./labels.js";
import { encodeStatus, MAX_STATUS_LABEL } from "./status-label.js";
import { ConfigWatcher } from "./watch.js";

/** What the store needs of the engine: Swarm configs and the event stream (a manager's engine). */
export type ConfigEngine = SwarmConfigs & Pick<Engine, "events">;

export interface SwarmConfigStoreOptions {
  engine: ConfigEngine;
  /** Configs of other scopes are invisible (label chaosctl.io/store). Default "default". */
  scope?: string;
  logger?: Logger;
  /** Quiet time after config events before onChange. Default 50 ms. */
  debounceMs?: number;
  /** Fresh reads and retries of one write after version conflicts. Default 20. */
  maxAttempts?: number;
  /** Largest status label (test seam). Default MAX_STATUS_LABEL. */
  statusLimit?: number;
  /** Reconnect backoff of the event stream (test seam). */
  backoffMs?: { min: number; max: number };
}

export const DEFAULT_SCOPE = "default";

export class SwarmConfigStore implements WritableStore {
  readonly kind = "swarm" as const;
  readonly scope: string;
  private readonly engine: ConfigEngine;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private readonly maxAttempts: number;
  private readonly statusLimit: number;
  private readonly backoffMs: { min: number; max: number } | undefined;
  /** Keys of the last list(), resolved (reportInvalid answers "unchanged" from it without a call). */
  private known = new Map<string, KeyState>();
  /**
   * Decoded configs by id, reused while the config's Swarm version is unchanged: decoding
   * (YAML + schema) costs about 2.5 ms a config, and an idle pass lists every one.
   */
  private decoded = new Map<string, DecodedConfig>();
  private readonly watchers = new Set<ConfigWatcher>();

  constructor(opts: SwarmConfigStoreOptions) {
    this.engine = opts.engine;
    this.scope = opts.scope ?? DEFAULT_SCOPE;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(this.scope))
      throw new StoreWriteError(`invalid store scope ${JSON.stringify(this.scope)}`);
    this.logger = opts.logger ?? silentLogger;
    this.debounceMs = opts.debounceMs ?? 50;
    this.maxAttempts = opts.maxAttempts ?? 20;
    this.statusLimit = opts.statusLimit ?? MAX_STATUS_LABEL;
    this.backoffMs = opts.backoffMs;
  }

  /** One list call; an interrupted generation change found there is finished first. */
  async list(): Promise<StoreSnapshot> {
    let resolved = resolveConfigs(this.decodeAll(await this.engine.listConfigs(scopeFilters(this.scope))));
    const leftovers = [...resolved.keys.values()].filter((k) => k.current && k.stale.length > 0);
    if (leftovers.length > 0) {
      for (const k of leftovers) {
        for (const old of k.stale) {
          if (!k.current) continue;
          this.logger.info(
            { key: k.key, config: old.config.name, by: k.current.config.name },
            "finishing a generation change: superseding the older config",
          );
          await this.supersede(old.config, k.current.config).catch((err: unknown) =>
            this.logger.warn({ err, config: old.config.name }, "cannot supersede an older generation now; will retry"),
          );
        }
      }
      resolved = resolveConfigs(this.decodeAll(await this.engine.listConfigs(scopeFilters(this.scope))));
    }
    const snapshot: StoreSnapshot = { manifests: [], invalid: [] };
    for (const k of resolved.keys.values()) {
      if (k.current?.manifest) {
        const c = k.current;
        const stored: StoredManifest = {
          key: k.key,
          source: sourceOf(c.config),
          manifest: structuredClone(k.current.manifest),
        };
        if (c.status) stored.status = structuredClone(c.status);
        snapshot.manifests.push(stored);
        if (c.statusProblem)
          this.logger.warn(
            { key: k.key, config: c.config.name, problem: c.statusProblem },
            "status label ignored; the controller writes it again",
          );
      } else if (k.invalid) {
        const problems = k.duplicate ? [k.duplicate] : k.invalid.problems;
        snapshot.invalid.push({ key: k.key, source: sourceOf(k.invalid.config), problems });
      }
    }
    for (const d of resolved.unkeyed)
      snapshot.invalid.push({ source: sourceOf(d.config), problems: d.problems } satisfies InvalidManifest);
    snapshot.manifests.sort((a, b) => (a.key < b.key ? -1 : 1));
    this.known = resolved.keys;
    return snapshot;
  }

  async watch(onChange: () => void): Promise<() => Promise<void>> {
    const watcher = new ConfigWatcher({
      engine: this.engine,
      logger: this.logger,
      debounceMs: this.debounceMs,
      onChange,
      ...(this.backoffMs ? { backoffMs: this.backoffMs } : {}),
    });
    this.watchers.add(watcher);
    watcher.start();
    return () => {
      this.watchers.delete(watcher);
      watcher.stop();
      return Promise.resolve();
    };
  }

  async writeStatus(key: string, generation: number, status: ChaosScheduleStatus): Promise<WriteResult> {
    const plain = toPlainJson(status);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const k = await this.fresh(key);
      if (!k) return "gone";
      if (!k.current) return "invalid";
      const c = k.current.config;
      if (k.current.generation !== generation) return "conflict";
      const encoded = encodeStatus(plain, this.statusLimit);
      if (!encoded.ok) {
        this.logger.error(
          { key, size: encoded.size, limit: this.statusLimit },
          "status does not fit in a config label even without history; not written",
        );
        return "invalid";
      }
      if (encoded.trimmed > 0)
        this.logger.warn(
          { key, dropped: encoded.trimmed },
          "status too large for a config label: oldest history entries dropped",
        );
      if (c.labels[STATUS_LABEL] === encoded.value) return "unchanged";
      const labels: Record<string, string> = { ...c.labels, [STATUS_LABEL]: encoded.value };
      delete labels[STATUS_FROM_LABEL]; // the controller has written this generation: no copy is pending
      if (await this.casLabels(c, labels)) return "written";
    }
    this.logger.warn({ key }, "status write kept meeting newer versions; giving up for this pass");
    return "conflict";
  }

  async reportInvalid(key: string, message: string, now: Date): Promise<WriteResult> {
    // The controller calls this every pass: answer from the last list when nothing would change.
    const cached = this.known.get(key);
    if (cached?.invalid && !cached.duplicate && isUnchangedInvalid(cached.invalid, message, now)) return "unchanged";
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const k = await this.fresh(key);
      if (!k) return "gone";
      if (k.current) return "conflict";
      if (!k.invalid || k.duplicate) return "invalid";
      const c = k.invalid.config;
      if (k.invalid.statusProblem) return "invalid"; // never overwrite a status we cannot read
      const next = invalidStatus(k.invalid.status, message, now);
      if (!next.ok) return "invalid";
      const encoded = encodeStatus(next.status, this.statusLimit);
      if (!encoded.ok) return "invalid";
      if (c.labels[STATUS_LABEL] === encoded.value) return "unchanged";
      if (await this.casLabels(c, { ...c.labels, [STATUS_LABEL]: encoded.value })) return "written";
    }
    return "conflict";
  }

  // ---- the CLI's writes ---------------------------------------------------------------------

  async apply(manifest: ChaosSchedule, opts: ApplyOptions = {}): Promise<ApplyOutcome> {
    const checked = checkManifest(manifest);
    const out = await this.applyTo(checked.key, () => checked, opts);
    if (out === "notfound") throw new StoreWriteError(`${checked.key}: nothing to apply`); // unreachable: apply always has a manifest
    return out;
  }

  async patchSpec(key: string, patch: SpecPatch, opts: ApplyOptions = {}): Promise<ApplyResult | "notfound"> {
    const out = await this.applyTo(
      key,
      (stored) => (stored ? checkManifest(patchedManifest(stored, patch)) : undefined),
      opts,
    );
    return out === "notfound" ? out : out.result;
  }

  /** Removes every config of the key (all generations). */
  async delete(key: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const configs = await this.engine.listConfigs(scopeFilters(this.scope, key));
    if (configs.length === 0) return "notfound";
    if (opts.dryRun) return "deleted";
    let removed = 0;
    for (const c of configs) {
      try {
        await this.engine.removeConfig(c.id);
        removed++;
      } catch (err) {
        if (err instanceof ConfigNotFound) continue;
        if (err instanceof ConfigInUse)
          throw new StoreWriteError(`${key}: config ${c.name} is used by a service and cannot be removed`);
        throw err;
      }
    }
    return removed > 0 ? "deleted" : "notfound";
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.stop();
    this.watchers.clear();
    return Promise.resolve();
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Every config decoded, from the cache when its version is the one decoded; the cache keeps only these. */
  private decodeAll(configs: ConfigInfo[]): DecodedConfig[] {
    const next = new Map<string, DecodedConfig>();
    const out = configs.map((c) => {
      const d = this.decodeOne(c);
      next.set(c.id, d);
      return d;
    });
    this.decoded = next;
    return out;
  }

  private decodeOne(c: ConfigInfo): DecodedConfig {
    const known = this.decoded.get(c.id);
    return known && known.config.version === c.version && known.config.updatedAt === c.updatedAt
      ? known
      : decodeConfig(c);
  }

  /** The key's configs read now (one list call filtered by its labels), resolved. */
  private async fresh(key: string): Promise<KeyState | undefined> {
    const configs = await this.engine.listConfigs(scopeFilters(this.scope, key));
    return resolveConfigs(configs.map((c) => this.decodeOne(c))).keys.get(key);
  }

  /** Labels replaced at the version `c` was read at: false on a version conflict or when it is gone. */
  private async casLabels(c: ConfigInfo, labels: Record<string, string>): Promise<boolean> {
    try {
      await this.engine.updateConfigLabels(c.id, c.version, labels);
      return true;
    } catch (err) {
      if (err instanceof VersionConflict || err instanceof ConfigNotFound) return false;
      throw err;
    }
  }

  private async applyTo(
    key: string,
    incoming: (stored: ChaosSchedule | undefined) => CheckedManifest | undefined,
    opts: ApplyOptions,
  ): Promise<ApplyOutcome | "notfound"> {
    const origin = opts.origin ?? defaultOrigin();
    const now = opts.now ?? new Date();
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const k = await this.fresh(key);
      if (k?.current && k.stale.length > 0 && !opts.dryRun) {
        for (const old of k.stale) await this.supersede(old.config, k.current.config);
        continue;
      }
      const top = k?.current ?? k?.invalid;
      const checked = incoming(k?.current?.data);
      if (!checked) return "notfound";
      const current: CurrentManifest | undefined =
        k?.current?.data && k.current.specHash
          ? {
              data: k.current.data,
              specHash: k.current.specHash,
              generation: k.current.generation,
              defaultedSpec: k.current.manifest?.spec,
            }
          : top
            ? { data: checked.data, specHash: "invalid", generation: top.generation } // replacing what is not valid: a new generation
            : undefined;
      const plan = planManifestApply(current, checked, origin, now);
      const outcome: ApplyOutcome = { result: plan.result, key, generation: plan.generation };
      if (!plan.next || opts.dryRun) return outcome;
      const next = toPlainJson(plan.next);
      if (!top) {
        if (await this.create(key, next, plan.generation, {})) return outcome;
        continue; // someone created it meanwhile: plan again on what is there
      }
      const c = top.config;
      if (plan.generation === top.generation) {
        const labels = { ...c.labels, [METADATA_LABEL]: JSON.stringify(metadataOf(next)) };
        if (await this.casLabels(c, labels)) return outcome;
        continue;
      }
      // A new generation: created carrying the status, then the old one superseded.
      const carried: Record<string, string> = { [STATUS_FROM_LABEL]: String(c.version) };
      const status = c.labels[STATUS_LABEL];
      if (status !== undefined) carried[STATUS_LABEL] = status;
      const id = await this.create(key, next, plan.generation, carried);
      if (!id) continue;
      const successor = await this.engine.inspectConfig(id);
      await this.supersede(c, successor);
      return outcome;
    }
    throw new StoreWriteError(`${key} kept changing while applying; try again`);
  }

  /** The config of one generation; undefined when its name is taken (another writer made it). */
  private async create(
    key: string,
    manifest: ChaosSchedule,
    generation: number,
    extra: Record<string, string>,
  ): Promise<string | undefined> {
    const [namespace, name] = splitKey(key);
    const labels = {
      [STORE_LABEL]: this.scope,
      [KIND_LABEL]: KIND_VALUE,
      [NAMESPACE_LABEL]: namespace,
      [NAME_LABEL]: name,
      [GENERATION_LABEL]: String(generation),
      ...extra,
    };
    try {
      return await this.engine.createConfig(
        configName(this.scope, key, generation),
        stringify(manifest, { lineWidth: 0 }),
        labels,
      );
    } catch (err) {
      if (err instanceof ConfigNameConflict) return undefined;
      throw err;
    }
  }

  /**
   * Retire `old` in favour of `successor` (a higher generation of the same key) without losing a
   * status written to `old` after the successor copied it: copy again while the successor still
   * holds only a copy (STATUS_FROM_LABEL) taken at another version of `old`, mark `old` by a CAS
   * at the version copied, then remove it. Idempotent; safe to run from several processes.
   */
  private async supersede(oldInfo: ConfigInfo, successorInfo: ConfigInfo): Promise<void> {
    let old = oldInfo;
    let successor = successorInfo;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const from = successor.labels[STATUS_FROM_LABEL];
      if (from !== undefined && from !== String(old.version)) {
        const labels: Record<string, string> = { ...successor.labels, [STATUS_FROM_LABEL]: String(old.version) };
        const status = old.labels[STATUS_LABEL];
        if (status !== undefined) labels[STATUS_LABEL] = status;
        else delete labels[STATUS_LABEL];
        if (!(await this.casLabels(successor, labels))) {
          const again = await this.inspect(successor.id);
          if (!again) return; // the key was deleted meanwhile
          successor = again;
          continue;
        }
        const again = await this.inspect(successor.id);
        if (!again) return;
        successor = again;
      }
      // The CAS at the version copied: a status write on `old` since then makes it fail (copy again).
      if (!(await this.casLabels(old, { ...old.labels, [SUPERSEDED_BY_LABEL]: successor.id }))) {
        const again = await this.inspect(old.id);
        if (!again) return; // removed by another process finishing the same change
        old = again;
        continue;
      }
      try {
        await this.engine.removeConfig(old.id);
      } catch (err) {
        if (err instanceof ConfigNotFound) return;
        if (err instanceof ConfigInUse) {
          this.logger.warn(
            { config: old.name },
            "an older generation is used by a service and cannot be removed; it is ignored (lower generation)",
          );
          return;
        }
        throw err;
      }
      return;
    }
    throw new StoreWriteError(`config ${old.name} kept changing while being replaced by ${successor.name}`);
  }

  private async inspect(id: string): Promise<ConfigInfo | undefined> {
    try {
      return await this.engine.inspectConfig(id);
    } catch (err) {
      if (err instanceof ConfigNotFound) return undefined;
      throw err;
    }
  }
}

function sourceOf(c: ConfigInfo): { store: "swarm"; configId: string; configName: string } {
  return { store: "swarm", configId: c.id, configName: c.name };
}

function metadataOf(m: ChaosSchedule): { labels?: Record<string, string>; annotations?: Record<string, string> } {
  const out: { labels?: Record<string, string>; annotations?: Record<string, string> } = {};
  if (m.metadata.labels) out.labels = m.metadata.labels as Record<string, string>;
  if (m.metadata.annotations) out.annotations = m.metadata.annotations as Record<string, string>;
  return out;
}

function isUnchangedInvalid(d: DecodedConfig, message: string, now: Date): boolean {
  if (d.statusProblem) return false;
  const next = invalidStatus(d.status, message, now);
  return next.ok && JSON.stringify(next.status) === JSON.stringify(d.status ?? null);
}

export { configFile };
