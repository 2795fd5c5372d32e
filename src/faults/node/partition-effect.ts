// partition inside a guard on the target node (NetworkMode host, NET_ADMIN): iptables runs
// locally (execFile, argv) in the node's own namespace. The guard needs nothing from the
// controller to heal: the partition cuts the node from it.
import { IPT_RESTORE, type NetnsExec } from "../netns/converge.js";
import type { GuardEffect } from "../guard/effect.js";
import { applyArgv, applyRestoreText, isAbsent, partitionNames, revertArgv, type Argv } from "./partition-rules.js";
import type { NodeGuardOwner } from "./spec.js";

export class IptablesFailed extends Error {
  override readonly name = "IptablesFailed";
}

async function run(exec: NetnsExec, argv: Argv, absentOk: boolean): Promise<"ok" | "absent"> {
  const r = await exec(argv);
  if (r.exitCode === 0) return "ok";
  if (absentOk && isAbsent(r.stderr)) return "absent";
  throw new IptablesFailed(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.trim()}`);
}

/** Remove the owned jumps (every copy) and chain; what is already gone is fine. */
export async function removePartition(exec: NetnsExec, owner: { schedule: string; run: string }): Promise<void> {
  const [delIn, delOut, flush, del] = revertArgv(partitionNames(owner)) as [Argv, Argv, Argv, Argv];
  for (const argv of [delIn, delOut]) {
    for (let i = 0; i < 8 && (await run(exec, argv, true)) === "ok"; i++);
  }
  await run(exec, flush, true);
  await run(exec, del, true);
}

/**
 * A fresh guard's apply (its prelude): the chain, its rules and the two jumps with no removal
 * first. Where the exec takes stdin, all of it in one `iptables-restore --noflush`
 * (applyRestoreText, the very text the shell prelude sends), one commit of the filter table;
 * otherwise step by step, the chain's creation first. Where the chain exists (a restarted guard)
 * the creation fails, changing nothing, and this throws: the guard's own apply then starts from a
 * clean slate as below.
 */
export async function applyPartitionToClean(
  exec: NetnsExec,
  owner: { schedule: string; run: string },
  keepTcpPorts: readonly number[],
): Promise<void> {
  const n = partitionNames(owner);
  if (exec.stdin === true) {
    const r = await exec(IPT_RESTORE, `${applyRestoreText(n, keepTcpPorts)}\n`);
    if (r.exitCode !== 0) throw new IptablesFailed(`${IPT_RESTORE.join(" ")} exited ${r.exitCode}: ${r.stderr.trim()}`);
    return;
  }
  for (const argv of applyArgv(n, keepTcpPorts)) await run(exec, argv, false);
}

export function partitionEffect(exec: NetnsExec, owner: NodeGuardOwner, keepTcpPorts: readonly number[]): GuardEffect {
  return {
    async apply() {
      // From a clean slate, so a restarted guard never stacks a second copy.
      await removePartition(exec, owner);
      for (const argv of applyArgv(partitionNames(owner), keepTcpPorts)) await run(exec, argv, false);
    },
    async revert() {
      await removePartition(exec, owner);
    },
  };
}
