// Fixtures and probes of the in-VM suites: a Swarm service task as the target, plain peer
// containers on the same attachable overlay network, and measurements taken with busybox's
// own tools inside those containers (ping, wget, time), so what is measured is what the
// kernel did to real packets. Set-up goes through the docker CLI, never through src/.
import { randomBytes } from "node:crypto";
import {
  APP_IMAGE,
  WEB_IMAGE,
  createTestService,
  docker,
  dockerOk,
  runningTasks,
  waitFor,
  type TestService,
} from "../helpers/docker.js";

/** Fails at once outside the lane: on a kernel without sch_netem every measurement would fail. */
export function requireVmLane(): void {
  if (process.env.CHAOSCTL_VM_LANE !== "1") {
    throw new Error("test/vm suites run inside the real-kernel VM: bash scripts/vm/run.sh");
  }
}

export interface Net {
  name: string;
  remove(): Promise<void>;
}

export async function createNetwork(): Promise<Net> {
  const name = `chaosctl-vm-${randomBytes(3).toString("hex")}`;
  const id = await dockerOk([
    "network",
    "create",
    "--driver",
    "overlay",
    "--attachable",
    "--label",
    "chaosctl-test=1",
    name,
  ]);
  return { name, remove: async () => void (await docker(["network", "rm", id])) };
}

export interface Box {
  id: string;
  ip: string;
  /** The interface that carries `ip` (eth0 unless Docker ordered the networks otherwise). */
  dev: string;
}

async function addressOn(id: string, net: string): Promise<Box> {
  const ip = await dockerOk(["inspect", "-f", `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, id]);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new Error(`container ${id} has no address on ${net}: ${ip}`);
  const addrs = await dockerOk(["exec", id, "ip", "-o", "-4", "addr", "show"]);
  const dev = addrs
    .split("\n")
    .find((l) => l.includes(` ${ip}/`))
    ?.split(/\s+/)[1]
    ?.replace(/@.*/, "");
  if (!dev) throw new Error(`no interface holds ${ip} in ${id}:\n${addrs}`);
  return { id, ip, dev };
}

export interface Peer extends Box {
  remove(): Promise<void>;
}

/** A plain busybox-httpd container on the network (a destination for probes). */
export async function startPeer(net: Net): Promise<Peer> {
  const id = await dockerOk(["run", "-d", "--label", "chaosctl-test=1", "--network", net.name, WEB_IMAGE]);
  const box = await addressOn(id, net.name);
  return { ...box, remove: async () => void (await docker(["rm", "-f", id])) };
}

export interface TargetTask extends Box {
  service: TestService;
  serviceId: string;
  taskId: string;
  nodeId: string;
}

/** A one-replica Swarm service on the network; its running task's container is the target. */
export async function startTargetService(net: Net): Promise<TargetTask> {
  const service = await createTestService({ namePrefix: "chaosctl-vm", flags: ["--network", net.name] });
  const task = await waitFor(async () => (await runningTasks(service.id))[0], {
    timeoutMs: 120_000,
    what: "the target task to run",
  });
  if (!task.containerId) throw new Error("running task without a container id");
  const box = await addressOn(task.containerId, net.name);
  const nodeId = await dockerOk(["info", "-f", "{{.Swarm.NodeID}}"]);
  return { ...box, service, serviceId: service.id, taskId: task.id, nodeId };
}

// --- probes ------------------------------------------------------------------------------

export interface PingResult {
  sent: number;
  received: number;
  duplicates: number;
  /** Round-trip times in ms, in arrival order (duplicates included). */
  rtts: number[];
  /** Sequence numbers in arrival order. */
  seqs: number[];
}

/** `ping` from inside a container; bounded by count, interval and -w. */
export async function ping(fromId: string, toIp: string, count: number, intervalS: number): Promise<PingResult> {
  const bound = Math.ceil(count * intervalS + 5);
  const r = await docker(
    ["exec", fromId, "ping", "-c", String(count), "-i", String(intervalS), "-W", "2", "-w", String(bound), toIp],
    {
      timeoutMs: (bound + 30) * 1000,
    },
  );
  return parsePing(r.stdout);
}

export function parsePing(out: string): PingResult {
  const rtts: number[] = [];
  const seqs: number[] = [];
  for (const m of out.matchAll(/seq=(\d+) ttl=\d+ time=([\d.]+) ms/g)) {
    seqs.push(Number(m[1]));
    rtts.push(Number(m[2]));
  }
  const sum = /(\d+) packets transmitted, (\d+) packets received(?:, \+?(\d+) duplicates)?/.exec(out);
  if (!sum) throw new Error(`unreadable ping output:\n${out}`);
  return { sent: Number(sum[1]), received: Number(sum[2]), duplicates: Number(sum[3] ?? 0), rtts, seqs };
}

/** Seconds a command took inside a container, by busybox `time` (10 ms resolution). */
export async function timed(
  id: string,
  shell: string,
  timeoutMs = 120_000,
): Promise<{ seconds: number; code: number; output: string }> {
  const r = await docker(["exec", id, "sh", "-c", `time ${shell}`], { timeoutMs });
  const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(r.stderr);
  if (!m) throw new Error(`no timing in: ${r.stderr}`);
  return { seconds: Number(m[1]) * 60 + Number(m[2]), code: r.code, output: r.stdout + r.stderr };
}

/** Writes a file of `kib` KiB under the container's web root (served by its httpd). */
export async function serveBlob(id: string, name: string, kib: number): Promise<void> {
  await dockerOk(["exec", id, "dd", "if=/dev/zero", `of=/www/${name}`, "bs=1024", `count=${kib}`]);
}

/** Seconds to download http://<ip>[:port]/<path> from inside a container (fails on error). */
export async function fetchSeconds(fromId: string, url: string): Promise<number> {
  const r = await timed(fromId, `wget -q -O /dev/null ${url}`);
  if (r.code !== 0) throw new Error(`wget ${url} failed: ${r.output}`);
  return r.seconds;
}

// --- the target's namespace, read and written with plain tc (independent of src/) --------

/** Runs a command in a container's network namespace from the project's image (tc, iptables). */
export async function inNetns(id: string, argv: string[]): Promise<string> {
  const [entry, ...args] = argv;
  if (!entry) throw new Error("empty argv");
  return dockerOk([
    "run",
    "--rm",
    "--network",
    `container:${id}`,
    "--cap-add",
    "NET_ADMIN",
    "--label",
    "chaosctl-test=1",
    "--entrypoint",
    entry,
    APP_IMAGE,
    ...args,
  ]);
}

export interface Qdisc {
  kind: string;
  handle: string;
  dev: string;
  parent?: string;
  root?: boolean;
  options?: Record<string, unknown>;
}

export async function qdiscs(id: string): Promise<Qdisc[]> {
  return JSON.parse(await inNetns(id, ["tc", "-j", "qdisc", "show"])) as Qdisc[];
}

const LEFTOVERS_SEP = "--- iptables-save ---";

/**
 * What of chaosctl's is in the namespace: its root qdisc (1c4a:), CHAOS-* chains and jumps. One
 * container reads both (tc, then iptables-save): a container start costs seconds under
 * emulation, and suites poll this.
 */
export async function chaosLeftovers(id: string): Promise<string[]> {
  const both = await inNetns(id, ["sh", "-ec", `tc -j qdisc show; echo '${LEFTOVERS_SEP}'; iptables-save`]);
  const at = both.indexOf(LEFTOVERS_SEP);
  if (at < 0) throw new Error(`unreadable namespace listing of ${id}:\n${both}`);
  const out: string[] = [];
  for (const q of JSON.parse(both.slice(0, at)) as Qdisc[])
    if (q.handle === "1c4a:" || q.parent?.startsWith("1c4a:")) out.push(`qdisc ${q.kind} ${q.handle} on ${q.dev}`);
  const save = both.slice(at + LEFTOVERS_SEP.length);
  for (const line of save.split("\n")) if (/CHAOS-|chaosctl/.test(line)) out.push(line);
  return out;
}

// --- statistics --------------------------------------------------------------------------

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
export function stdev(xs: number[]): number {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
}
/** Linear-interpolated quantile (0..1). */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
}
/** Interquartile range: a spread that one slow probe under emulation does not inflate. */
export const iqr = (xs: number[]): number => quantile(xs, 0.75) - quantile(xs, 0.25);
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}

/** One measurement as a line on the console (collected into docs/vm-lane.md). */
export function report(name: string, values: Record<string, number | string>): void {
  const v = Object.entries(values).map(([k, x]) => `${k}=${typeof x === "number" ? Math.round(x * 100) / 100 : x}`);
  console.log(`measure ${name}: ${v.join(" ")}`);
}

/**
 * Removes whatever of chaosctl's a failed test left in the namespace, with plain tc/iptables,
 * so one failure does not cascade into the next test's measurements.
 */
export async function sweepLeftovers(id: string): Promise<void> {
  for (const q of await qdiscs(id)) {
    if (q.handle === "1c4a:" && q.root)
      await inNetns(id, ["tc", "qdisc", "del", "dev", q.dev, "root"]).catch(() => undefined);
  }
  const save = await inNetns(id, ["iptables-save"]);
  for (const line of save.split("\n")) {
    const jump = /^-A (\S+) (.* -j CHAOS-\S+)$/.exec(line);
    if (jump) await inNetns(id, ["iptables", "-D", jump[1]!, ...jump[2]!.split(" ")]).catch(() => undefined);
  }
  for (const chain of save.match(/^:CHAOS-\S+/gm) ?? []) {
    await inNetns(id, ["iptables", "-F", chain.slice(1)]).catch(() => undefined);
    await inNetns(id, ["iptables", "-X", chain.slice(1)]).catch(() => undefined);
  }
}
