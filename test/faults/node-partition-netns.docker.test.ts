// The node partition's iptables rules on this kernel, in a private container namespace on the host
// engine (the host's own namespace is shared and never touched): Swarm's ports are cut in both
// directions, other ports and loopback are not, a second apply does not stack, revert leaves nothing.
// The Swarm-level effect (Down, rescheduling, healing) is proven on the three-node cluster
// (test/multinode/node-faults.docker.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import { helperExec } from "../../src/faults/netns/exec-helper.js";
import { partitionEffect } from "../../src/faults/node/partition-effect.js";
import { ownedLines, partitionNames, saveArgv } from "../../src/faults/node/partition-rules.js";
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
});
