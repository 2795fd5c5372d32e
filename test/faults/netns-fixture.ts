// Real-engine fixture for network fault tests: a user-defined bridge network, busybox web
// containers as targets and probes, and a helper (local/node-base:20: tc, iptables) that shares
// a target's namespace and runs argv there with `docker exec`. Everything is created by id
// and removed by id. Traffic stays between these containers.
import { randomBytes } from "node:crypto";
import type { NetnsExec } from "../../src/faults/netns/converge.js";
import { observe } from "../../src/faults/netns/converge.js";
import { ownedSummary } from "../../src/faults/netns/plan.js";
import { docker, dockerOk, WEB_IMAGE } from "../helpers/docker.js";

export const BASE_IMAGE = "local/node-base:20";
const LABEL = "chaosctl.test=netns";

export class NetnsLab {
  readonly containers: string[] = [];
  network = "";

  async up(): Promise<void> {
    this.network = await dockerOk([
      "network",
      "create",
      "--label",
      LABEL,
      `chaosctl-netns-${randomBytes(4).toString("hex")}`,
    ]);
  }

  /** A busybox httpd container on the lab network; returns its id and address. */
  async web(): Promise<{ id: string; ip: string }> {
    const id = await dockerOk(["run", "-d", "--label", LABEL, "--network", this.network, WEB_IMAGE]);
    this.containers.push(id);
    const ip = await dockerOk(["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id]);
    return { id, ip };
  }

  /**
   * A helper in `target`'s namespace with NET_ADMIN; its exec runs argv there (no shell). It takes
   * stdin (`docker exec -i`), as a guard's local exec does, so tc steps run batched here too.
   */
  async helper(target: string): Promise<NetnsExec> {
    const id = await dockerOk([
      "run",
      "-d",
      "--label",
      LABEL,
      "--network",
      `container:${target}`,
      "--cap-add",
      "NET_ADMIN",
      "--entrypoint",
      "sleep",
      BASE_IMAGE,
      "900",
    ]);
    this.containers.push(id);
    const exec = async (argv: string[], input?: string) => {
      const r =
        input === undefined
          ? await docker(["exec", id, ...argv], { timeoutMs: 20_000 })
          : await docker(["exec", "-i", id, ...argv], { timeoutMs: 20_000, input });
      return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
    };
    return Object.assign(exec, { stdin: true as const });
  }

  async down(): Promise<void> {
    for (const id of this.containers.reverse()) await docker(["rm", "-f", id]);
    if (this.network) await docker(["network", "rm", this.network]);
  }
}

/** ping from `from` to `ip`: packets sent and received (busybox ping). */
export async function ping(
  from: string,
  ip: string,
  count: number,
  intervalS: number,
): Promise<{ sent: number; received: number }> {
  const r = await docker(["exec", from, "ping", "-q", "-c", String(count), "-i", String(intervalS), "-W", "1", ip], {
    timeoutMs: 10_000 + count * intervalS * 1000 * 3,
  });
  const m = /(\d+) packets transmitted, (\d+) packets received/.exec(r.stdout);
  // Egress dropped in the sender's own namespace: busybox ping stops at the first refused send.
  if (!m && /sendto: Operation not permitted/.test(r.stderr)) return { sent: count, received: 0 };
  if (!m) throw new Error(`unexpected ping output: ${r.stdout} ${r.stderr}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}

/**
 * Seconds to fetch http://ip/path from `from` with busybox wget, bounded by timeoutS (this
 * busybox's wget crashes with -q or -T, so busybox `timeout` bounds it inside the container).
 */
export async function fetchSeconds(
  from: string,
  ip: string,
  path: string,
  timeoutS = 20,
): Promise<{ ok: boolean; seconds: number }> {
  const t0 = performance.now();
  const r = await docker(
    ["exec", from, "timeout", String(timeoutS), "wget", "-O", "/dev/null", `http://${ip}/${path}`],
    { timeoutMs: (timeoutS + 10) * 1000 },
  );
  return { ok: r.code === 0, seconds: (performance.now() - t0) / 1000 };
}

/** What of chaosctl's the namespace holds (roots, chains, jumps); all empty = clean. */
export async function owned(exec: NetnsExec): Promise<{ roots: string[]; chains: string[]; jumps: string[] }> {
  return ownedSummary(await observe(exec));
}

export const CLEAN = { roots: [], chains: [], jumps: [] };
