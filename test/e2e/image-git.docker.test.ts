// The image's own controller syncs a git remote (issue: the base image had no git, so
// `chaosctl controller --git` worked on a host but not in local/chaosctl:dev). A local bare
// repository is bind-mounted into a container of the image, which runs one pass with
// `--git file:///remote.git --once` against the real engine (its socket mounted): it clones the
// commit, writes status into its working copy (a bind-mounted folder checked from here) and
// keeps its durable record in a Swarm config. Everything started is removed by id.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { APP_IMAGE, docker, dockerOk, requireSwarm } from "../helpers/docker.js";
import { gitSync, testRemote } from "../store/git-helpers.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});
beforeAll(() => requireSwarm([APP_IMAGE]));

/** Swarm configs carrying `instance` (its gitops records and its lease), by id. */
async function configsOf(instance: string): Promise<string[]> {
  const ids = new Set<string>();
  for (const filter of [`label=chaosctl.io/instance=${instance}`, `name=chaosctl-lease.default.${instance}`]) {
    for (const id of (await dockerOk(["config", "ls", "-q", "--filter", filter])).split("\n").filter(Boolean))
      ids.add(id);
  }
  const ours: string[] = [];
  for (const id of ids) {
    const labels = JSON.parse(await dockerOk(["config", "inspect", "-f", "{{json .Spec.Labels}}", id])) as Record<
      string,
      string
    >;
    if (Object.values(labels).includes(instance)) ours.push(id);
  }
  return ours;
}

describe("local/chaosctl:dev", () => {
  it("has git, ca-certificates and an ssh client in the image", async () => {
    const out = await dockerOk([
      "run",
      "--rm",
      "--entrypoint",
      "sh",
      APP_IMAGE,
      "-c",
      "git --version && ssh -V 2>&1 && test -s /etc/ssl/certs/ca-certificates.crt && echo certs",
    ]);
    expect(out).toMatch(/^git version 2\.\d+/m);
    expect(out).toMatch(/^OpenSSH_/m);
    expect(out).toMatch(/^certs$/m);
  });

  it("runs `controller --git file:///… --once` inside a container: clones the commit and writes status into its working copy", async () => {
    const instance = `imggit-${randomBytes(4).toString("hex")}`;
    const remote = await testRemote();
    cleanups.push(() => remote.cleanup());
    const workdir = await mkdtemp(join(tmpdir(), "chaosctl-imggit-"));
    cleanups.push(() => rm(workdir, { recursive: true, force: true }));
    cleanups.push(async () => {
      for (const id of await configsOf(instance)) await docker(["config", "rm", id]);
    });
    const manifest = [
      "# committed by the web team",
      "apiVersion: chaosctl.io/v1alpha1",
      "kind: ChaosSchedule",
      "metadata:",
      `  name: ${instance}-web`,
      "spec:",
      '  schedule: "@every 1h"',
      `  selector: {services: [${instance}-absent]}`,
      "  fault: {kill: {}}",
      "",
    ].join("\n");
    const commit = await remote.commit({ "chaos/web.yaml": manifest }, "add web chaos");
    const bare = new URL(remote.url).pathname;

    const id = await dockerOk([
      "run",
      "-d",
      "--label",
      `chaosctl.test=${instance}`,
      "-v",
      "/var/run/docker.sock:/var/run/docker.sock",
      "-v",
      `${bare}:/remote.git:ro`,
      "-v",
      `${workdir}:/work`,
      APP_IMAGE,
      "controller",
      "--git",
      "file:///remote.git",
      "--path",
      "chaos",
      "--workdir",
      "/work",
      "--once",
      "--instance",
      instance,
    ]);
    cleanups.push(() => docker(["rm", "-f", id]));
    const exit = Number(await dockerOk(["wait", id], { timeoutMs: 90_000 }));
    const logs = await docker(["logs", id]);
    expect(exit, logs.stdout + logs.stderr).toBe(0);

    // The working copy is the committed commit, with the manifest's status written into it.
    const repo = join(workdir, "repo");
    expect(gitSync(repo, ["rev-parse", "HEAD"]).trim()).toBe(commit);
    const text = await readFile(join(repo, "chaos/web.yaml"), "utf8");
    expect(text.startsWith("# committed by the web team\n")).toBe(true);
    const doc = parse(text) as {
      metadata: { generation?: number };
      status?: { observedGeneration?: number; conditions?: unknown[] };
    };
    expect(doc.metadata.generation).toBe(1);
    expect(doc.status?.observedGeneration).toBe(1);
    expect(doc.status?.conditions?.length).toBeGreaterThan(0);
    // Status never goes back to the remote: it still holds exactly the commit.
    expect(gitSync(remote.clone, ["ls-remote", "origin", "main"]).split("\t")[0]).toBe(commit);
    // The durable record of the schedule is a Swarm config of this instance.
    expect((await configsOf(instance)).length).toBeGreaterThan(0);
  });
});
