// The SVG timeline of runs, shared by the dashboard (served as is) and the HTML report (inline):
// a lane per schedule (when several, up to MAX_LANES), one bar per run over its fault window, a thinner bar after it for the time to heal, colour and
// a letter for the verdict, a cross for an abort. Every bar carries a <title> (tooltip, screen
// readers) and data-* attributes (tests, scripts).
import { esc } from "./escape.js";
import { runTime, type RunView } from "./model.js";

export interface TimelineOptions {
  /** What the timeline shows ("service web", "schedule default/web-kill"): its accessible name. */
  label: string;
  /** The time axis, ms since the epoch. */
  from: number;
  to: number;
  /** End of runs still running. */
  now: number;
  width?: number;
}

/** Colours with at least 4.5:1 contrast on white (WCAG AA), told apart by letter too. */
export const TIMELINE_COLOURS = {
  Pass: "#1a7f37",
  Fail: "#cf222e",
  none: "#0860ca",
  running: "#9a6700",
  skipped: "#57606a",
  heal: "#8250df",
} as const;

const fmtTime = (ms: number): string => new Date(ms).toISOString().slice(5, 16).replace("T", " ");

function colourOf(r: RunView): string {
  if (r.result === "Running") return TIMELINE_COLOURS.running;
  if (r.verdict) return TIMELINE_COLOURS[r.verdict];
  if (r.result === "Skipped" || r.result === "DryRun") return TIMELINE_COLOURS.skipped;
  if (r.result === "Failed" || r.aborted) return TIMELINE_COLOURS.Fail;
  return TIMELINE_COLOURS.none;
}

/** One sentence about a run (tooltips, the report's tables, webhook texts reuse the parts). */
export function runSentence(r: RunView): string {
  const parts = [`${r.schedule} run ${r.run}: ${r.fault} ${r.result}`];
  if (r.reason) parts.push(`(${r.reason})`);
  if (r.startedAt) parts.push(`from ${r.startedAt}`);
  if (r.endedAt) parts.push(`to ${r.endedAt}`);
  if (r.recovery === "Recovered" && r.recoverySeconds !== undefined) parts.push(`healed in ${r.recoverySeconds}s`);
  else if (r.recovery === "TimedOut") parts.push("did not heal in time");
  if (r.verdict) parts.push(`verdict ${r.verdict}`);
  if (r.aborted) parts.push("aborted");
  const failed = (r.probes ?? []).filter((p) => p.verdict === "Fail" || (p.failed ?? 0) > 0);
  for (const p of failed) parts.push(`probe ${p.name} failed ${p.failed}x${p.lastError ? ` (${p.lastError})` : ""}`);
  if (r.services.length) parts.push(`services ${r.services.join(", ")}`);
  return parts.join(" ");
}

/** Runs of several schedules get a lane each (labelled), up to this many; beyond, one shared lane. */
export const MAX_LANES = 16;
const LANE = 30;

export function timelineSvg(runs: readonly RunView[], o: TimelineOptions): string {
  const width = o.width ?? 720;
  const keys = [...new Set(runs.map((r) => r.schedule))].sort();
  const laned = keys.length > 1 && keys.length <= MAX_LANES;
  const laneOf = new Map(laned ? keys.map((k, i) => [k, i]) : []);
  const lanes = laned ? keys.length : 1;
  const left = laned ? 136 : 6;
  const right = 6;
  const axis = 6 + lanes * LANE;
  const height = axis + 22;
  const span = Math.max(1, o.to - o.from);
  const x = (t: number): number =>
    left + ((Math.min(Math.max(t, o.from), o.to) - o.from) / span) * (width - left - right);
  const px = (n: number): string => n.toFixed(1);
  const bars: string[] = [];
  for (const r of runs) {
    const start = runTime(r);
    if (!Number.isFinite(start)) continue;
    const top = 4 + (laneOf.get(r.schedule) ?? 0) * LANE;
    const end = r.result === "Running" ? o.now : Date.parse(r.endedAt ?? "") || start;
    const x0 = x(start);
    const w = Math.max(3, x(end) - x0);
    const colour = colourOf(r);
    const letter = r.verdict ? r.verdict[0] : r.aborted ? "A" : "";
    let g = `<g class="run" data-run="${esc(r.run)}" data-schedule="${esc(r.schedule)}" data-result="${esc(r.result)}"${r.verdict ? ` data-verdict="${r.verdict}"` : ""}${r.aborted ? ' data-aborted="true"' : ""}>`;
    g += `<title>${esc(runSentence(r))}</title>`;
    g += `<rect class="run-bar" x="${px(x0)}" y="${top + 6}" width="${px(w)}" height="15" rx="2" fill="${colour}"/>`;
    if (r.recovery === "Recovered" && r.recoveredAt) {
      const h0 = x(end);
      const hw = Math.max(1, x(Date.parse(r.recoveredAt)) - h0);
      g += `<rect class="heal-bar" x="${px(h0)}" y="${top + 23}" width="${px(hw)}" height="5" fill="${TIMELINE_COLOURS.heal}"/>`;
    }
    if (letter && w >= 10)
      g += `<text x="${px(x0 + w / 2)}" y="${top + 17.5}" text-anchor="middle" font-size="10" fill="#fff" aria-hidden="true">${letter}</text>`;
    if (r.aborted)
      g += `<path class="abort" d="M${px(x0 + w - 4)} ${top} l7 7 m0 -7 l-7 7" stroke="${TIMELINE_COLOURS.Fail}" stroke-width="2"/>`;
    bars.push(g + "</g>");
  }
  const labels = laned
    ? keys.map((k, i) => {
        const text = k.length > 22 ? `${k.slice(0, 21)}…` : k;
        return `<text class="lane" x="4" y="${4 + i * LANE + 17}" font-size="11" fill="#1f2328">${esc(text)}</text>`;
      })
    : [];
  const ticks: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const t = o.from + (span * i) / 4;
    const tx = x(t);
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    ticks.push(
      `<line x1="${px(tx)}" y1="${axis}" x2="${px(tx)}" y2="${axis + 4}" stroke="#57606a"/><text x="${px(tx)}" y="${axis + 17}" text-anchor="${anchor}" font-size="11" fill="#3b434b">${fmtTime(t)}</text>`,
    );
  }
  const summary = `${o.label}: ${runs.length} run${runs.length === 1 ? "" : "s"} from ${fmtTime(o.from)} to ${fmtTime(o.to)} UTC`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" aria-label="${esc(summary)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" style="max-width:100%;height:auto" font-family="system-ui,sans-serif">` +
    `<title>${esc(summary)}</title>` +
    labels.join("") +
    `<line x1="${left}" y1="${axis}" x2="${width - right}" y2="${axis}" stroke="#57606a"/>` +
    ticks.join("") +
    bars.join("") +
    "</svg>"
  );
}

/** The time axis for a set of runs: from the window's start (or the first run) to now. */
export function timelineWindow(runs: readonly RunView[], now: number, since?: number): { from: number; to: number } {
  const first = runs.reduce((m, r) => Math.min(m, runTime(r) || Infinity), Infinity);
  const from = since ?? (Number.isFinite(first) ? first : now - 3_600_000);
  return { from: Math.min(from, now - 60_000), to: now };
}
