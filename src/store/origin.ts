// Who is applying: "user@host" of the process, recorded on every created/configured manifest
// so `chaosctl audit` can say who asked for the chaos.
import { hostname, userInfo } from "node:os";
import type { Origin } from "./store.js";

export function defaultOrigin(): Origin {
  let user = process.env.USER ?? process.env.LOGNAME ?? "";
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = "unknown"; // no passwd entry (e.g. a container running under a bare uid)
    }
  }
  return { appliedBy: `${user}@${hostname()}` };
}
