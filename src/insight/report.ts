// `chaosctl report` renderings of an Overview: a self-contained HTML page (inline CSS and SVG, no
// script, nothing fetched), Markdown for a pull request comment, JSON for scripts.
import { esc } from "./escape.js";
import type { Overview, RunView, ScheduleView, ServiceStats } from "./model.js";
import { runSentence, timelineSvg, timelineWindow } from "./timeline.js";

export interface Report {
  overview: Overview;
  runs: RunView[];
}

const secs = (n: number | undefined): string => (n === undefined ? "" : `${n}s`);
const score = (s: ScheduleView): string => (s.score === undefined ? "" : `${s.score}`);
const recoveryText = (r: RunView): string =>
  r.recovery === "Recovered" ? secs(r.recoverySeconds) : r.recovery === "NotApplicable" ? "" : (r.recovery ?? "");

/** What `report -o json` prints: the overview and every run of the window. */
/** The per-service recovery table, the same columns in the HTML and the Markdown report. */
const SERVICE_HEADERS = ["service", "runs", "recovered", "timed out", "p50", "p95", "max"];
const serviceRow = (s: ServiceStats): string[] => [
  s.service,
  String(s.runs),
  String(s.recovered),
  String(s.timedOut),
  secs(s.p50),
  secs(s.p95),
  secs(s.max),
];

export function reportJson(r: Report): unknown {
  return { kind: "ChaosReport", ...r.overview, runs: r.runs };
}

function table(caption: string, headers: string[], rows: string[][]): string {
  if (rows.length === 0) return `<p>${esc(caption)}: none.</p>`;
  return (
    `<table><caption>${esc(caption)}</caption><thead><tr>${headers.map((h) => `<th scope="col">${esc(h)}</th>`).join("")}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("") +
    "</tbody></table>"
  );
}

export const REPORT_CSS = `
body{font:14px/1.45 system-ui,sans-serif;color:#1f2328;background:#fff;margin:1.5rem auto;max-width:1100px;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}h3{font-size:1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.figures{display:flex;flex-wrap:wrap;gap:1rem;padding:0;list-style:none}
.figures li{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .75rem}
.figures b{display:block;font-size:1.3rem}
.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;vertical-align:-2px;border-radius:2px}
`;

export function legendHtml(): string {
  const item = (colour: string, text: string): string =>
    `<span><i style="background:${colour}" aria-hidden="true"></i>${esc(text)}</span>`;
  return (
    `<p class="legend">` +
    item("#1a7f37", "verdict Pass (P)") +
    item("#cf222e", "verdict Fail (F) or failed") +
    item("#0860ca", "no verdict") +
    item("#9a6700", "running") +
    item("#57606a", "skipped") +
    item("#8250df", "time to heal (thin bar)") +
    `<span>× aborted (A)</span></p>`
  );
}

// size: the HTML page as it reads, top to bottom: timeline, recovery by service, schedules, runs, active.
export function reportHtml(r: Report, now: Date): string {
  const o = r.overview;
  const t = o.totals;
  const win = timelineWindow(r.runs, now.getTime(), o.since ? Date.parse(o.since) : undefined);
  const svg = (runs: RunView[], label: string): string => timelineSvg(runs, { ...win, now: now.getTime(), label });
  const scores = o.schedules.filter((s) => s.score !== undefined).map((s) => s.score as number);
  const meanScore = scores.length ? Math.round(scores.reduce((a, b) => a + b, 0) / scores.length) : undefined;
  let body = `<h1>Chaos report</h1><p>Generated ${esc(o.generatedAt)}; runs ${o.since ? `since ${esc(o.since)}` : "of every recorded history"}.</p>`;
  body += `<ul class="figures" aria-label="Figures">`;
  const fig = (v: string | number, label: string): string => `<li><b>${esc(v)}</b>${esc(label)}</li>`;
  body += fig(t.runs, "runs") + fig(t.verdicts.Pass, "verdict Pass") + fig(t.verdicts.Fail, "verdict Fail");
  body += fig(t.aborts, "aborted") + fig(t.active, "active injections") + fig(t.schedules, "schedules");
  if (meanScore !== undefined) body += fig(meanScore, "mean resilience score");
  body += `</ul>`;
  body += `<h2>Timeline</h2>${legendHtml()}${svg(r.runs, "all runs")}`;
  body += `<h2>Recovery by service</h2>`;
  body += table(
    "Time from the end of a fault until the service was back to its desired tasks (nearest-rank percentiles)",
    SERVICE_HEADERS,
    o.services.map(serviceRow),
  );
  for (const s of o.services) {
    body += `<h3>Service ${esc(s.service)}</h3>${svg(
      r.runs.filter((x) => x.services.includes(s.service)),
      `service ${s.service}`,
    )}`;
  }
  body += `<h2>Schedules</h2>`;
  body += table(
    "Every schedule",
    ["schedule", "fault", "phase", "runs", "last result", "last verdict", "score", "recovery trend"],
    o.schedules.map((s) => [
      s.key + (s.halted ? " (halted)" : ""),
      s.fault,
      s.phase,
      String(s.runs),
      s.lastResult ?? "",
      s.lastVerdict ?? "",
      score(s),
      s.recoveryTrend.length ? `${s.recoveryTrend.map((x) => `${x}s`).join(" → ")} (${s.trend})` : "",
    ]),
  );
  body += `<h2>Runs</h2>`;
  body += table(
    "Every run in the window, oldest first",
    ["schedule", "run", "fault", "services", "started", "ended", "recovery", "result", "verdict", "reason", "commit"],
    r.runs.map((x) => [
      x.schedule,
      x.run,
      x.fault,
      x.services.join(", "),
      x.startedAt ?? x.scheduledAt ?? "",
      x.endedAt ?? "",
      recoveryText(x),
      x.result + (x.aborted ? " (aborted)" : ""),
      x.verdict ?? "",
      x.reason ?? "",
      x.source ? `${x.source.commit.slice(0, 12)} ${x.source.path}` : "",
    ]),
  );
  if (o.active.length) {
    body += `<h2>Active at ${esc(o.generatedAt)}</h2>`;
    body += table(
      "Injections active when the report was made",
      ["schedule", "fault", "service", "task", "node", "since", "until"],
      o.active.map((a) => [
        a.schedule,
        a.fault,
        a.service ?? "",
        a.task ?? "",
        a.node ?? "",
        a.since ?? "",
        a.until ?? "",
      ]),
    );
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Chaos report ${esc(o.generatedAt)}</title><style>${REPORT_CSS}</style></head><body><main>${body}</main></body></html>\n`;
}

const mdCell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
function mdTable(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return "_none_\n";
  return (
    `| ${headers.join(" | ")} |\n|${headers.map(() => " --- ").join("|")}|\n` +
    rows.map((r) => `| ${r.map(mdCell).join(" | ")} |`).join("\n") +
    "\n"
  );
}

export function reportMarkdown(r: Report): string {
  const o = r.overview;
  const t = o.totals;
  let out = `## Chaos report\n\nGenerated ${o.generatedAt}; runs ${o.since ? `since ${o.since}` : "of every recorded history"}.\n\n`;
  out += `**${t.runs}** runs: **${t.verdicts.Pass}** Pass, **${t.verdicts.Fail}** Fail, ${t.verdicts.none} without verdict; **${t.aborts}** aborted; ${t.active} active injections; ${t.halted} halted schedules.\n\n`;
  out += `### Recovery by service\n\n`;
  out += mdTable(SERVICE_HEADERS, o.services.map(serviceRow));
  out += `\n### Schedules\n\n`;
  out += mdTable(
    ["schedule", "fault", "phase", "runs", "last verdict", "score", "recovery trend"],
    o.schedules.map((s) => [
      s.key + (s.halted ? " (halted)" : ""),
      s.fault,
      s.phase,
      String(s.runs),
      s.lastVerdict ?? "",
      score(s),
      s.trend === "unknown" ? "" : s.trend,
    ]),
  );
  const notable = r.runs.filter((x) => x.aborted || x.verdict === "Fail" || x.result === "Failed");
  out += `\n### Failed and aborted runs\n\n`;
  out += notable.length ? notable.map((x) => `- ${runSentence(x)}`).join("\n") + "\n" : "_none_\n";
  return out;
}
