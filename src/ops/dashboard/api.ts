// The dashboard's HTTP surface on the operations port (docs/dashboard.md documents it as an API):
//   GET /                                  the page
//   GET /api/v1/overview                   totals, active injections, schedules, services (JSON)
//   GET /api/v1/timelines?by=service       an SVG timeline per service (JSON: items[].svg)
//   GET /api/v1/timelines?schedule=NS/NAME the SVG timeline of one schedule (JSON)
//   GET /api/v1/timelines?service=NAME     the SVG timeline of one service (JSON)
//   GET /api/v1/timelines?by=schedule      every schedule's timeline (JSON; large at scale)
// Read-only: nothing here changes the store or the cluster.
import type { RunView } from "../../insight/model.js";
import { timelineSvg, timelineWindow } from "../../insight/timeline.js";
import type { DashboardData } from "./data.js";
import { dashboardPage } from "./page.js";

export interface Reply {
  code: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

/** The page runs only its own inline script and talks only to this server. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const json = (value: unknown, code = 200): Reply => ({
  code,
  type: "application/json",
  body: JSON.stringify(value) + "\n",
  headers: { "x-content-type-options": "nosniff" },
});

export const DASHBOARD_PATHS = ["/", "/api/v1/overview", "/api/v1/timelines"];

/** One timeline of the API: from the first run shown (or an hour back) to now. */
export function timelineItem(key: string, label: string, runs: readonly RunView[], now: number) {
  const win = timelineWindow(runs, now);
  return { key, runs: runs.length, svg: timelineSvg(runs, { ...win, now, label }) };
}

/** Answers a dashboard path, or undefined for a path that is not the dashboard's. */
export async function dashboardReply(
  data: DashboardData,
  path: string,
  query: URLSearchParams,
): Promise<Reply | undefined> {
  if (path === "/" || path === "/index.html")
    return { code: 200, type: "text/html; charset=utf-8", body: dashboardPage(), headers: PAGE_HEADERS };
  if (path === "/api/v1/overview") return json((await data.view()).overview);
  if (path === "/api/v1/timelines") {
    const v = await data.view();
    const now = Date.parse(v.overview.generatedAt);
    const schedule = query.get("schedule");
    if (schedule !== null) {
      const runs = v.bySchedule.get(schedule);
      if (!runs && !v.overview.schedules.some((s) => s.key === schedule))
        return json({ error: `no schedule ${schedule}` }, 404);
      return json({ items: [timelineItem(schedule, `schedule ${schedule}`, runs ?? [], now)] });
    }
    const service = query.get("service");
    if (service !== null) {
      const runs = v.byService.get(service);
      if (!runs) return json({ error: `no run recorded for service ${service}` }, 404);
      return json({ items: [timelineItem(service, `service ${service}`, runs, now)] });
    }
    const by = query.get("by");
    if (by === "service")
      return json({
        items: [...v.byService.keys()]
          .sort()
          .map((k) => timelineItem(k, `service ${k}`, v.byService.get(k) ?? [], now)),
      });
    if (by === "schedule")
      return json({
        items: v.overview.schedules.map((s) =>
          timelineItem(s.key, `schedule ${s.key}`, v.bySchedule.get(s.key) ?? [], now),
        ),
      });
    return json({ error: "give ?by=service, ?by=schedule, ?service=NAME or ?schedule=NAMESPACE/NAME" }, 400);
  }
  return undefined;
}
