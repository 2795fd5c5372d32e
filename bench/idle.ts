// Idle passes: N schedules whose next run is far ahead (cron "0 0 1 1 *": New Year), on the
// real Swarm or on the fake 10,000-task engine, each configuration in its own child process.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fakeServiceName, type FakeClusterSize } from "./fake-engine.js";
import { manifest } from "./fixture.js";
import type { IdleInput, IdleOutput } from "./idle-pass.js";
import { docker, lines } from "./docker-cli.js";
import { shippedNodeFlags } from "./shipped.js";

export const FAR_SCHEDULE = "0 0 1 1 *";

export interface IdleResult extends IdleOutput {
  schedules: number;
  engine: "real" | "fake";
  /** The node flags the child ran with: the image's, as the controller ships (RSS depends on them). */
  nodeFlags: string[];
}

const CHILD = resolve(import.meta.dirname, "idle-pass.js");

function child(input: IdleInput, nodeFlags: string[]): Promise<IdleOutput> {
  return new Promise((res, rej) =>
    execFile(
      process.execPath,
      [...nodeFlags, CHILD, JSON.stringify(input)],
      { timeout: 300_000, maxBuffer: 8 * 2 ** 20 },
      (err, stdout, stderr) =>
        err ? rej(new Error(`idle-pass child: ${stderr || err.message}`)) : res(JSON.parse(stdout) as IdleOutput),
    ),
  );
}

/** `serviceOf(i)`: the service schedule i selects. */
export async function benchIdle(opts: {
  schedules: number;
  serviceOf: (i: number) => string;
  fake?: FakeClusterSize;
  passes?: number;
}): Promise<IdleResult> {
  const dir = await mkdtemp(join(tmpdir(), "chaosctl-bench-idle-"));
  const instance = `bench-idle-${randomBytes(4).toString("hex")}`;
  try {
    for (let i = 0; i < opts.schedules; i++) {
      const spec = `schedule: "${FAR_SCHEDULE}"\nselector: {services: [${opts.serviceOf(i)}]}\nfault: {kill: {signal: SIGKILL}}`;
      await writeFile(join(dir, `idle-${i}.yaml`), manifest(`idle-${i}`, spec));
    }
    const nodeFlags = shippedNodeFlags();
    const out = await child(
      { dir, instance, passes: opts.passes ?? 10, warmup: 3, ...(opts.fake ? { fake: opts.fake } : {}) },
      nodeFlags,
    );
    return { ...out, schedules: opts.schedules, engine: opts.fake ? "fake" : "real", nodeFlags };
  } finally {
    // Nothing should have been injected; remove anything of this instance all the same.
    if (!opts.fake) {
      const ids = lines(
        await docker(["ps", "-aq", "--filter", `label=chaosctl.io/instance=${instance}`]).catch(() => ""),
      );
      if (ids.length) await docker(["rm", "-f", ...ids]).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

export const fakeServiceOf =
  (services: number) =>
  (i: number): string =>
    fakeServiceName(i % services);
