// stress inside a guard: stress-ng in a helper container whose cgroup is a child of the
// target's (HostConfig.CgroupParent), sharing the target's PID namespace; a disk fill is a file
// allocated in the target's filesystem through /proc/1/root. Why this way: docs/resource-faults.md.
import { setTimeout as sleep } from "node:timers/promises";
import type { Engine, HelperSpec } from "../../engine/engine.js";
import { ContainerNotFound, ContainerStateConflict } from "../../engine/errors.js";
import { EffectRefused, TargetGone, type GuardEffect, type GuardEffectContext } from "../guard/effect.js";
import { L_ROLE } from "../../api/labels.js";
import {
  StressSpecError,
  cgroupFromProc,
  diskBytes,
  fillPath,
  hasStressor,
  helperName,
  memoryBytes,
  stressArgv,
  targetCgroup,
  unwrap,
  type StressGuardSpec,
} from "./spec.js";

/**
 * The OOM killer's choice in a memory stress at a target's limit. Left alone, stress-ng makes its
 * own workers the first choice (oom_score_adj 1000) and respawns them, so the target would never
 * feel the limit; protecting the stressor instead (a negative oom_score_adj) needs
 * CAP_SYS_RESOURCE, which some engines' runtimes lack. So the stressor keeps its adjustment at 0
 * (--no-oom-adjust) and, for the stress only, raises the target's PID 1 to 1000: the kernel,
 * confined to the target's cgroup, kills the target, as it would if the application itself had
 * grown. Raising needs no capability. The wrapper puts the old value back when stress-ng ends
 * (its --timeout, or SIGTERM from the revert); a target that was killed has nothing to restore.
 */
export const OOM_TARGET_WRAPPER = [
  "adj=/proc/1/oom_score_adj",
  'orig=$(cat "$adj") || exit 97',
  'echo 1000 >"$adj" || exit 97',
  'stress-ng "$@" & pid=$!',
  "trap 'kill -TERM \"$pid\" 2>/dev/null' TERM INT",
  'rc=0; wait "$pid" || rc=$?',
  'while kill -0 "$pid" 2>/dev/null; do wait "$pid" || rc=$?; done',
  'echo "$orig" >"$adj" 2>/dev/null',
  'exit "$rc"',
].join("\n");

const HELPER_TIMEOUT_MS = 30_000;

export function stressEffect({ engine, targetId, spec, log }: GuardEffectContext): GuardEffect {
  return {
    async apply() {
      const g = refuseBadSpec(() => unwrap(spec));
      const target = await inspectTarget(engine, targetId);
      if (target.state !== "running")
        throw new EffectRefused("TargetNotRunning", `cannot stress ${targetId}: it is ${target.state}`);
      const res = target.resources ?? { memoryBytes: 0, nanoCpus: 0, cgroupParent: "" };
      if (g.spec.disk) await fill(engine, g, target.id);
      if (hasStressor(g.spec)) {
        const mem = g.spec.memory ? refuseBadSpec(() => memoryBytes(g.spec.memory!.size, res.memoryBytes)) : undefined;
        const cgroup = await cgroupOf(engine, g, target.id, res.cgroupParent);
        await startStressor(engine, g, target.id, cgroup, res.memoryBytes > 0 && mem !== undefined, mem);
        log.info({ cgroup }, "stress started in the target's cgroup");
      }
    },
    async revert() {
      const g = unwrap(spec);
      await removeStressor(engine, g);
      const target = await engine.inspectContainer(targetId).catch((err: unknown) => {
        if (err instanceof ContainerNotFound) throw new TargetGone(err.message, { cause: err });
        throw err;
      });
      // A stopped target's file goes with its writable layer when Swarm removes the container;
      // nothing can enter a stopped container's filesystem.
      if (g.spec.disk && target.state === "running") {
        const r = await engine.runHelper(
          toolHelper(g, target.id, "rm", ["-f", fillPath(g.spec.disk.path ?? "/tmp", g.id)]),
          HELPER_TIMEOUT_MS,
        );
        if (r.exitCode !== 0) throw new Error(`removing the disk fill failed: ${r.stderr.trim()}`);
      }
    },
  };
}

/** A one-shot coreutils/util-linux tool in the target's PID namespace (target files via /proc/1/root). */
export function toolHelper(g: StressGuardSpec, targetId: string, tool: string, args: string[]): HelperSpec {
  return {
    image: g.image,
    entrypoint: [tool],
    cmd: args,
    labels: { ...g.labels, [L_ROLE]: "helper" },
    networkMode: "none",
    pidMode: `container:${targetId}`,
  };
}

/**
 * The target's cgroup as the engine made it. Inspect shows only a --cgroup-parent given to the
 * container; an engine's own default parent (dockerd --cgroup-parent, /docker when unset) is
 * seen only in the kernel's account, so a one-shot helper in the target's PID namespace, with the
 * host's cgroup namespace, reads /proc/1/cgroup.
 */
async function cgroupOf(engine: Engine, g: StressGuardSpec, targetId: string, parent: string): Promise<string> {
  if (parent) return targetCgroup(targetId, parent);
  const r = await engine.runHelper(
    { ...toolHelper(g, targetId, "cat", ["/proc/1/cgroup"]), cgroupnsMode: "host" },
    HELPER_TIMEOUT_MS,
  );
  const found = r.exitCode === 0 ? cgroupFromProc(r.stdout, targetId) : undefined;
  if (!found)
    throw new EffectRefused(
      "CgroupUnknown",
      `cannot tell the cgroup of ${targetId}: /proc/1/cgroup said ${JSON.stringify((r.stdout || r.stderr).trim().slice(0, 300))}`,
    );
  return found;
}

export function stressorSpec(
  g: StressGuardSpec,
  targetId: string,
  cgroup: string,
  oomTarget: boolean,
  memBytes: number | undefined,
): HelperSpec {
  const seconds = (new Date(g.until).getTime() - Date.now()) / 1000;
  const argv = stressArgv(g.spec, memBytes, seconds);
  const hs: HelperSpec = {
    image: g.image,
    name: helperName(g.id),
    cmd: argv,
    labels: { ...g.labels, [L_ROLE]: "helper" },
    networkMode: "none",
    pidMode: `container:${targetId}`,
    // A child of the target's cgroup: the target's limits and accounting apply to the stressor.
    cgroupParent: cgroup,
    // Nothing of it stays once stress-ng has ended (at its --timeout, or stopped).
    autoRemove: true,
  };
  if (oomTarget) {
    hs.entrypoint = ["/bin/sh", "-c", OOM_TARGET_WRAPPER, "stress-ng"];
    hs.cmd = [...argv, "--no-oom-adjust"];
  }
  return hs;
}

async function startStressor(
  engine: Engine,
  g: StressGuardSpec,
  targetId: string,
  cgroup: string,
  oomTarget: boolean,
  memBytes: number | undefined,
): Promise<void> {
  const name = helperName(g.id);
  const existing = await engine.inspectContainer(name).catch((err: unknown) => {
    if (err instanceof ContainerNotFound) return undefined;
    throw err;
  });
  if (existing?.state === "running") return; // a restarted guard: it is already there
  if (existing) await engine.removeContainer(existing.id, { force: true }).catch(ignoreGone);
  await engine.startHelper(stressorSpec(g, targetId, cgroup, oomTarget, memBytes));
}

async function removeStressor(engine: Engine, g: StressGuardSpec): Promise<void> {
  const name = helperName(g.id);
  // SIGTERM: stress-ng stops its workers and exits; auto-removal then takes the container.
  await engine.stopContainer(name, 5).catch(ignoreGone);
  await engine.removeContainer(name, { force: true }).catch(ignoreGone);
  // Reverted means gone: wait out an auto-removal in progress (bounded).
  for (let i = 0; i < 100; i++) {
    const there = await engine.inspectContainer(name).then(
      () => true,
      (err: unknown) => {
        if (err instanceof ContainerNotFound) return false;
        throw err;
      },
    );
    if (!there) return;
    await sleep(100);
  }
  throw new Error(`stress helper ${name} is still there`);
}

async function fill(engine: Engine, g: StressGuardSpec, targetId: string): Promise<void> {
  const disk = g.spec.disk!;
  const dir = disk.path ?? "/tmp";
  const path = refuseBadSpec(() => fillPath(dir, g.id));
  // A restarted guard starts over: its earlier file would count against the free space.
  await engine.runHelper(toolHelper(g, targetId, "rm", ["-f", path]), HELPER_TIMEOUT_MS);
  const st = await engine.runHelper(
    toolHelper(g, targetId, "stat", ["-f", "-c", "%a %S", `/proc/1/root${dir}`]),
    HELPER_TIMEOUT_MS,
  );
  if (st.exitCode !== 0) throw new EffectRefused("NoSuchPath", `disk fill path ${dir}: ${st.stderr.trim()}`);
  const [avail, bsize] = st.stdout.trim().split(/\s+/).map(Number);
  const bytes = refuseBadSpec(() => diskBytes(disk.size, (avail ?? 0) * (bsize ?? 0)));
  const r = await engine.runHelper(
    toolHelper(g, targetId, "fallocate", ["-l", String(bytes), path]),
    HELPER_TIMEOUT_MS,
  );
  if (r.exitCode !== 0) {
    await engine.runHelper(toolHelper(g, targetId, "rm", ["-f", path]), HELPER_TIMEOUT_MS).catch(() => undefined);
    throw new EffectRefused("FillFailed", `fallocate ${bytes} bytes at ${dir}: ${r.stderr.trim()}`);
  }
}

async function inspectTarget(engine: Engine, id: string) {
  try {
    return await engine.inspectContainer(id);
  } catch (err) {
    if (err instanceof ContainerNotFound) throw new TargetGone(err.message, { cause: err });
    throw err;
  }
}

function refuseBadSpec<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof StressSpecError) throw new EffectRefused(err.reason, err.message, { cause: err });
    throw err;
  }
}

function ignoreGone(err: unknown): void {
  if (err instanceof ContainerNotFound || err instanceof ContainerStateConflict) return;
  throw err;
}
