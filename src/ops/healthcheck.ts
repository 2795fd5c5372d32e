// The image's HEALTHCHECK: `node dist/src/ops/healthcheck.js`. A controller with an operations
// port writes its /healthz URL to $CHAOSCTL_HEALTH_MARKER; other containers from the same image
// (guards, network helpers) have no such file and are healthy by definition. No imports beyond
// node's own, so a check costs a bare node start, not the CLI's.
import { get } from "node:http";
import { readFileSync } from "node:fs";

const marker = process.env.CHAOSCTL_HEALTH_MARKER;
let url = "";
try {
  url = marker ? readFileSync(marker, "utf8").trim() : "";
} catch {
  url = "";
}
if (!url) process.exit(0);
const req = get(url, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.setTimeout(Number(process.env.CHAOSCTL_HEALTH_TIMEOUT_MS ?? 3000), () => {
  console.error(`no answer from ${url}`);
  process.exit(1);
});
req.on("error", (e) => {
  console.error(`${url}: ${e.message}`);
  process.exit(1);
});
