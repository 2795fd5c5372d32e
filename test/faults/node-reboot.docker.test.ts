// reboot: the controller's own hook, with the node in its environment, bounded in time, its exit
// code and output recorded; no hook = RebootHookMissing. The target is the host's Swarm node
// (read through the real engine); the hooks here only record what they were given.
import { mkdtemp, readFile, rm, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import type { NodeInfo } from "../../src/engine/engine.js";
import type { DriverContext, Owner, Target } from "../../src/faults/driver.js";
import { nodeDriver } from "../../src/faults/node/driver.js";
import { faultDrivers } from "../../src/faults/registry.js";
import { parseHookArgv, InvalidRebootHook } from "../../src/faults/node/reboot.js";
import { APP_IMAGE, requireSwarm } from "../helpers/docker.js";

const engine = new DockerEngine();
const ctx = (): DriverContext => ({ engine, image: APP_IMAGE, now: new Date() });
const owner: Owner = { schedule: "default/reboot-test", generation: 1, run: `r-${process.pid}` };
let dir: string;
let self: NodeInfo;
let target: Target;

beforeAll(async () => {
  await requireSwarm([]);
  dir = await mkdtemp(join(tmpdir(), "chaosctl-reboot-"));
  const snap = await engine.snapshot();
  self = snap.nodes.find((n) => n.id === snap.selfNodeId)!;
  target = { kind: "node", nodeId: self.id, nodeHostname: self.hostname };
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function script(name: string, body: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, `#!/bin/sh\n${body}\n`);
  await chmod(p, 0o755);
  return p;
}

describe("reboot hook", () => {
  it("runs the configured argv with the node's id, hostname and address in its environment", async () => {
    const out = join(dir, "env.txt");
    const hook = await script(
      "record.sh",
      `printf '%s\\n' "$CHAOSCTL_NODE_ID" "$CHAOSCTL_NODE_HOSTNAME" "$CHAOSCTL_NODE_ADDR" "$1" > "${out}"; echo rebooting "$CHAOSCTL_NODE_HOSTNAME"`,
    );
    const driver = nodeDriver({ rebootHook: { argv: [hook, "--zone=a b"], timeoutMs: 5_000 } });
    const r = await driver.apply(ctx(), target, { action: "reboot" }, owner);
    expect(r).toEqual({ phase: "Done" });
    // One argv element stays one argument (no shell word splitting).
    expect((await readFile(out, "utf8")).split("\n")).toEqual([self.id, self.hostname, self.addr, "--zone=a b", ""]);
  });

  it("no hook configured: a clear RebootHookMissing, nothing run", async () => {
    const r = await faultDrivers.get("node")!.apply(ctx(), target, { action: "reboot" }, owner);
    expect(r).toMatchObject({ phase: "Failed", reason: "RebootHookMissing" });
  });

  it("a failing hook: its exit code and output end up in the failure", async () => {
    const hook = await script("fail.sh", `echo "instance not found" >&2; exit 3`);
    const r = await nodeDriver({ rebootHook: { argv: [hook], timeoutMs: 5_000 } }).apply(
      ctx(),
      target,
      { action: "reboot" },
      owner,
    );
    expect(r).toMatchObject({ phase: "Failed", reason: "RebootHookFailed" });
    if (r.phase === "Failed") expect(r.message).toMatch(/exited 3 .*instance not found/);
  });

  it("a hook that hangs is killed at its bound", async () => {
    const hook = await script("hang.sh", `exec sleep 30`);
    const t0 = Date.now();
    const r = await nodeDriver({ rebootHook: { argv: [hook], timeoutMs: 500 } }).apply(
      ctx(),
      target,
      { action: "reboot" },
      owner,
    );
    expect(r).toMatchObject({ phase: "Failed", reason: "RebootHookTimeout" });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("a hook file holds a JSON argv; anything else is refused", () => {
    expect(parseHookArgv('["/usr/local/bin/reboot-node","--zone","a"]', "f.json")).toEqual([
      "/usr/local/bin/reboot-node",
      "--zone",
      "a",
    ]);
    expect(() => parseHookArgv("reboot-node --zone a", "f.json")).toThrow(InvalidRebootHook);
    expect(() => parseHookArgv("[]", "f.json")).toThrow(/non-empty/);
    expect(() => parseHookArgv('["", "x"]', "f.json")).toThrow(/non-empty/);
  });
});
