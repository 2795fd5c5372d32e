// The node partition's iptables rules on this kernel, in a private container namespace on the host
// engine (the host's own namespace is shared and never touched): Swarm's ports are cut in both
// directions, other ports and loopback are not, a second apply does not stack, revert leaves nothing;
// the real guard from its shell entry (netns-guard.sh: one iptables-restore), killed and restarted
// on the chain it left: the restore fails whole, no jump twice, the guard converges and reverts at
// expiry.
// The Swarm-level effect (Down, rescheduling, healing) is proven on the three-node cluster
// (test/multinode/node-faults.docker.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import { helperExec } from "../../src/faults/netns/exec-helper.js";
import { partitionEffect } from "../../src/faults/node/partition-effect.js";
import { applyRestoreText, ownedLines, partitionNames, saveArgv } from "../../src/faults/node/partition-rules.js";
import { guardArgv } from "../../src/faults/guard/args.js";
import { netnsGuardCommand } from "../../src/faults/netns/shell-prelude.js";
import { wrapNodeSpec } from "../../src/faults/node/spec.js";
import { APP_IMAGE, WEB_IMAGE, docker, dockerOk, requireSwarm } from "../helpers/docker.js";

const engine = new DockerEngine();
const tag = `chaosctl-nodepart-${process.pid}-${Date.now().toString(36)}`;
const owner = {
  schedule: "default/node-part",
  generation: 1,
  run: tag,
  expires: new Date(Date.now() + 60_000).toISOString(),
};
const names = partitionNames(owner);
let net = "";
const containers: string[] = [];
let client = "";
let serverIp = "";
let clientIp = "";
const guards: string[] = [];
const serve = "httpd -p 80 -h /www; exec httpd -f -p 7946 -h /www";

/** An HTTP request from the client to host:port (busybox nc; its wget crashes here); true when answered within 2 s. */
async function answers(host: string, port: number, from = client): Promise<boolean> {
  const r = await docker(["exec", from, "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${host} ${port}`], {
    timeoutMs: 10_000,
  });
  return r.stdout.startsWith("HTTP/1.") && r.stdout.includes(" 200 ");
}
const reaches = (port: number): Promise<boolean> => answers(serverIp, port);

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE]);
  net = await dockerOk(["network", "create", "--driver", "bridge", "--label", "chaosctl-test=node-partition", tag]);
  // A server answering on 80 and on 7946 (a Swarm port), and a client that gets partitioned.
  containers.push(
    await dockerOk([
      "run",
      "-d",
      "--name",
      `${tag}-srv`,
      "--network",
      net,
      "--label",
      "chaosctl-test=node-partition",
      WEB_IMAGE,
      "/bin/sh",
      "-c",
      serve,
    ]),
  );
  client = await dockerOk([
    "run",
    "-d",
    "--name",
    `${tag}-cli`,
    "--network",
    net,
    "--label",
    "chaosctl-test=node-partition",
    WEB_IMAGE,
    "/bin/sh",
    "-c",
    serve,
  ]);
  containers.push(client);
  const ip = (name: string): Promise<string> =>
    dockerOk(["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name]);
  serverIp = await ip(`${tag}-srv`);
  clientIp = await ip(`${tag}-cli`);
  // The server is up when it answers.
  for (let i = 0; i < 25 && !(await reaches(80)); i++) await new Promise((r) => setTimeout(r, 200));
});

afterAll(async () => {
  if (guards.length) await docker(["rm", "-f", ...guards]);
  if (containers.length) await docker(["rm", "-f", ...containers]);
  if (net) await docker(["network", "rm", net]);
});

describe("node partition rules in a real namespace", () => {
  it("cuts 7946/tcp both ways, leaves port 80 and loopback, and reverts to nothing", async () => {
    const exec = helperExec(engine, APP_IMAGE, client);
    const effect = partitionEffect(exec, owner, [80]);
    const owned = async (): Promise<string[]> => ownedLines((await exec(saveArgv())).stdout, names.chain);
    expect(await reaches(7946)).toBe(true);
    expect(await reaches(80)).toBe(true);

    await effect.apply();
    await effect.apply(); // a restarted guard: from a clean slate, never two copies
    const lines = await owned();
    expect(lines.filter((l) => l.startsWith("-A INPUT"))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith("-A OUTPUT"))).toHaveLength(1);
    expect(lines).toContain(`-A ${names.chain} -p udp -m udp --dport 4789 -j DROP`);
    expect(await reaches(7946)).toBe(false); // out: dport 7946
    expect(await reaches(80)).toBe(true); // a kept port
    // In: the partitioned side's own 7946 is cut for others; its port 80 is not.
    const server = containers[0]!;
    expect(await answers(clientIp, 7946, server)).toBe(false);
    expect(await answers(clientIp, 80, server)).toBe(true);
    expect(await answers("127.0.0.1", 80)).toBe(true); // loopback untouched

    await effect.revert();
    expect(await owned()).toEqual([]);
    expect(await reaches(7946)).toBe(true);
    expect(await answers(clientIp, 7946, containers[0])).toBe(true);
    await effect.revert(); // already gone: fine
    expect(await owned()).toEqual([]);
  });

  it("a guard from its shell entry applies in one restore; killed and restarted on its chain, the restore fails whole (no jump twice), the guard converges and reverts at expiry", async () => {
    const own = { schedule: owner.schedule, generation: 1, run: `${tag}-g` };
    const n = partitionNames(own);
    const exec = helperExec(engine, APP_IMAGE, client);
    const owned = async (): Promise<string[]> => ownedLines((await exec(saveArgv())).stdout, n.chain);
    const jumps = (lines: string[]) => lines.filter((l) => l.startsWith("-A INPUT") || l.startsWith("-A OUTPUT"));
    // Room for a loaded lane: the kill, the restore by hand and the restart all happen inside it.
    const until = new Date(Date.now() + 20_000);
    const { entrypoint, cmd } = netnsGuardCommand(
      guardArgv({ fault: "node", target: "node-x", until, spec: wrapNodeSpec("partition", own, until, [80]) }),
    );
    expect(entrypoint).toEqual(["/bin/sh", "/app/netns-guard.sh"]);
    expect(cmd[2]).toBe(applyRestoreText(n, [80]));
    const guard = await dockerOk([
      "run",
      "-d",
      "--init",
      "--label",
      "chaosctl-test=node-partition",
      "--network",
      `container:${client}`,
      "--cap-add",
      "NET_ADMIN",
      "-v",
      "/var/run/docker.sock:/var/run/docker.sock",
      "--entrypoint",
      entrypoint[0]!,
      APP_IMAGE,
      ...entrypoint.slice(1),
      ...cmd,
    ]);
    guards.push(guard);
    // The shell's records go to stdout, the guard verb's logger may write to either stream.
    const records = async (): Promise<Record<string, unknown>[]> => {
      const r = await docker(["logs", guard]);
      return `${r.stdout}\n${r.stderr}`
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    };
    const logged = async (pred: (r: Record<string, unknown>) => boolean): Promise<void> => {
      for (let i = 0; i < 100 && !(await records()).some(pred); i++) await new Promise((r) => setTimeout(r, 100));
    };
    await logged((r) => r.event === "applied" && r.shell === true);
    expect(await records()).toContainEqual(expect.objectContaining({ event: "applied", by: "prelude", shell: true }));
    const applied = await owned();
    expect(jumps(applied)).toHaveLength(2);
    expect(await reaches(7946)).toBe(false);
    expect(await reaches(80)).toBe(true);

    // The guard dies (SIGKILL: no revert); its chain and jumps stay.
    await dockerOk(["kill", "-s", "KILL", guard]);
    await docker(["wait", guard]);
    expect(await owned()).toEqual(applied);
    // The restart's restore, by hand: the filter table commits whole or not at all, so the chain's
    // `-N` failing leaves the jumps after it out.
    const again = await docker(
      [
        "run",
        "-i",
        "--rm",
        "--network",
        `container:${client}`,
        "--cap-add",
        "NET_ADMIN",
        "--entrypoint",
        "iptables-restore",
        APP_IMAGE,
        "-w",
        "5",
        "--noflush",
      ],
      { input: `${cmd[2]}\n`, timeoutMs: 20_000 },
    );
    expect(again.code).not.toBe(0);
    expect(await owned()).toEqual(applied);

    // The engine restarts it (as its restart policy would): the shell's restore fails the same
    // way, the guard verb converges from a clean slate: still one jump each, the partition holds.
    await dockerOk(["start", guard]);
    await logged((r) => r.event === "prelude-skipped" && r.shell === true);
    expect(await records()).toContainEqual(
      expect.objectContaining({ event: "prelude-skipped", shell: true, err: expect.stringMatching(/.+/) }),
    );
    // The guard verb's own `applied`: once per run (the first adopted the shell's restore).
    const verbApplied = async () => (await records()).filter((r) => r.event === "applied" && r.by !== "prelude");
    for (let i = 0; i < 50 && (await verbApplied()).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await verbApplied()).toHaveLength(2);
    expect(jumps(await owned())).toHaveLength(2);
    expect(await reaches(7946)).toBe(false);

    // At expiry it reverts and exits: nothing of it is left.
    const code = await dockerOk(["wait", guard], { timeoutMs: 40_000 });
    expect(code).toBe("0");
    expect(await owned()).toEqual([]);
    expect(await reaches(7946)).toBe(true);
    expect(await records()).toContainEqual(expect.objectContaining({ event: "reverted" }));
  }, 60_000);
});
