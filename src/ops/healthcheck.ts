// The image's HEALTHCHECK: `node dist/src/ops/healthcheck.js`. Only a container whose main
// process is `chaosctl controller` is checked: the controller writes its /healthz URL (or "off"
// when it serves no operations port) to $CHAOSCTL_HEALTH_MARKER once listening, so a controller
// not yet serving fails (Docker's start period forgives that at boot) and one that stops
// answering (hung, SIGSTOPped) or reports a stuck loop (503) fails too. Other containers from
// the same image (guards, network helpers, the agent) pass. No imports beyond node's own: a
// check costs a bare node start, not the CLI's.
import { get } from "node:http";
import { readFileSync } from "node:fs";

const read = (path: string): string => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

/** The chaosctl verb of the container's main process (pid 1): the argument after .../main.js. */
function mainVerb(): string {
  const argv = read("/proc/1/cmdline").split("\0");
  const i = argv.findIndex((a) => a.endsWith("/cli/main.js"));
  return i >= 0 ? (argv[i + 1] ?? "") : "";
}

const done = (code: number, why?: string): never => {
  if (why) console.error(why);
  process.exit(code);
};

if (mainVerb() !== "controller") done(0);
const url = read(process.env.CHAOSCTL_HEALTH_MARKER ?? "/tmp/chaosctl-health-url").trim();
if (url === "off") done(0);
if (!url) done(1, "the controller serves no /healthz yet");
const req = get(url, (res) => {
  res.resume();
  done(res.statusCode === 200 ? 0 : 1, res.statusCode === 200 ? undefined : `${url}: ${res.statusCode}`);
});
req.setTimeout(Number(process.env.CHAOSCTL_HEALTH_TIMEOUT_MS ?? 3000), () => done(1, `no answer from ${url}`));
req.on("error", (e) => done(1, `${url}: ${e.message}`));
