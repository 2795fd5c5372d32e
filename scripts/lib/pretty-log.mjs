// Reads chaosctl's pino JSON lines on stdin and prints the ones a person watches:
// apply / revert / skip / invalid, one short line each. Other lines pass through untouched.
import { createInterface } from "node:readline";

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  let e;
  try {
    e = JSON.parse(line);
  } catch {
    console.log(line);
    return;
  }
  if (!["apply", "revert", "skip", "end", "healed", "invalid", "start", "stop"].includes(e.event) && e.level < 40)
    return;
  const time = (e.time ?? "").slice(11, 19);
  const healed =
    e.event === "healed" ? `${(e.services ?? []).join(",")} back to its desired tasks in ${e.recoverySeconds}s` : "";
  const what = [
    e.event,
    e.fault,
    e.schedule,
    healed,
    e.task ? `task=${e.task.slice(0, 12)}` : "",
    e.result ?? "",
    e.reason ?? "",
  ]
    .filter(Boolean)
    .join(" ");
  console.log(`  [controller ${time}] ${what}${e.message ? ` (${e.message})` : ""}${e.err ? ` error: ${e.err}` : ""}`);
});
