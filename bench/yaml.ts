// Manifest loading on hostile input: time and extra peak memory of loadText on each case, beside
// the yaml library's own parseAllDocuments (duplicate-key check on, as the loader used it before
// its bounds) on the same text. Each measurement runs in a fresh child process, so the peak RSS
// (getrusage maxrss) belongs to that one parse. No Docker needed:
//   npm run build && node dist/bench/yaml.js        (prints the table; --write puts it in docs)
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { allProblems, loadText, manifestsOf } from "../src/api/load.js";
import { table, type Row } from "./report.js";

const SELF = fileURLToPath(import.meta.url);
const DOC = resolve(import.meta.dirname, "../../docs/benchmarks.md");
const BASELINE_TIMEOUT_MS = 60_000;
const MB = 1024 * 1024;

const manifest = (i: number): string =>
  `apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata: {name: s${i}}\n` +
  `spec:\n  selector: {services: [web]}\n  fault: {kill: {}}\n`;

/** Each case as the text it parses. */
const CASES: Record<string, { what: string; text: () => string }> = {
  keys: {
    what: "60,000 keys in one mapping (588 KB)",
    text: () => Array.from({ length: 60_000 }, (_, i) => `k${i}: 1\n`).join(""),
  },
  flow: { what: "1 MB of nested `[` (524,288 levels)", text: () => "[".repeat(MB / 2) + "]".repeat(MB / 2) },
  compact: { what: "1 MB of nested `- ` (524,288 levels)", text: () => "- ".repeat(MB / 2 - 1) + "x\n" },
  documents: { what: "100,000 documents (900 KB)", text: () => "---\na: 1\n".repeat(100_000) },
  items: { what: "a 1 MB flow list (524,284 items)", text: () => "a: [" + "1,".repeat(MB / 2 - 4) + "1]\n" },
  valid: {
    what: "1,000 valid schedules in one file (168 KB)",
    text: () => Array.from({ length: 1_000 }, (_, i) => manifest(i)).join("---\n"),
  },
};

interface Sample {
  ms: number;
  extraMB: number;
  outcome: string;
}

function child(name: string, mode: "loader" | "library"): void {
  const text = CASES[name]!.text();
  // Flatten the string and load every module before the first reading.
  void text.charCodeAt(text.length - 1);
  loadText(manifest(0), "warm.yaml");
  parseAllDocuments("a: 1\n");
  const before = process.resourceUsage().maxRSS;
  const t0 = performance.now();
  let outcome: string;
  if (mode === "loader") {
    const r = loadText(text, `${name}.yaml`);
    const problems = allProblems(r);
    outcome =
      problems.length > 0
        ? `refused: ${problems[0]!.rule}` + (problems.length > 1 ? ` (+${problems.length - 1})` : "")
        : `${manifestsOf(r).length} valid`;
  } else {
    const docs = parseAllDocuments(text, { uniqueKeys: true, merge: true });
    const list = Array.isArray(docs) ? docs : [];
    let errors = 0;
    for (const d of list) {
      errors += d.errors.length;
      if (d.errors.length === 0)
        try {
          d.toJS({ maxAliasCount: 100 });
        } catch {
          errors++;
        }
    }
    outcome = `${list.length} documents, ${errors} errors`;
  }
  const ms = performance.now() - t0;
  const extraMB = (process.resourceUsage().maxRSS - before) / 1024;
  process.stdout.write(JSON.stringify({ ms, extraMB, outcome } satisfies Sample));
}

async function measure(name: string, mode: "loader" | "library", timeoutMs: number): Promise<Sample | "timeout"> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [SELF, "--child", name, mode], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") done("timeout");
      else if (code !== 0) fail(new Error(`${name}/${mode} exited ${code}`));
      else done(JSON.parse(out) as Sample);
    });
  });
}

const fmt = (s: Sample | "timeout", timeoutMs: number): string =>
  s === "timeout"
    ? `over ${timeoutMs / 1000} s (stopped)`
    : `${s.ms < 10 ? s.ms.toFixed(1) : Math.round(s.ms)} ms, +${Math.round(s.extraMB)} MB: ${s.outcome}`;

export async function benchYaml(log: (s: string) => void = () => undefined): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [name, c] of Object.entries(CASES)) {
    log(`yaml: ${name}`);
    const ours = await measure(name, "loader", BASELINE_TIMEOUT_MS);
    const theirs = await measure(name, "library", BASELINE_TIMEOUT_MS);
    const ratio =
      ours !== "timeout" && theirs !== "timeout"
        ? ` (time ${(theirs.ms / ours.ms).toFixed(1)}x, memory ${(theirs.extraMB / Math.max(ours.extraMB, 1)).toFixed(1)}x the loader's)`
        : "";
    const met =
      name === "valid" ? undefined : ours !== "timeout" && ours.extraMB < 100 && (name !== "keys" || ours.ms < 1000);
    rows.push({
      measure: `load ${c.what}: time, extra peak RSS, outcome`,
      chaosctl: fmt(ours, BASELINE_TIMEOUT_MS),
      baseline: `yaml parseAllDocuments (uniqueKeys) + toJS: ${fmt(theirs, BASELINE_TIMEOUT_MS)}${ratio}`,
      goal: name === "keys" ? "< 1 s, < 100 MB" : name === "valid" ? "(loads: limits do not bite)" : "< 100 MB",
      met,
    });
  }
  return rows;
}

/** The section of docs/benchmarks.md this bench owns, replaced in place when --write is given. */
export function yamlSection(rows: Row[], load: string): string {
  return [
    "## Manifest loading on hostile input (bench/yaml.ts)",
    "",
    `Each figure from a fresh child process (extra peak RSS by getrusage); load average ${load}.`,
    "",
    table(rows),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const rows = await benchYaml((s) => process.stderr.write(`[bench] ${s}\n`));
  const { loadavg } = await import("node:os");
  const section = yamlSection(
    rows,
    loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
  );
  process.stdout.write(section + "\n");
  if (process.argv.includes("--write")) {
    const doc = await readFile(DOC, "utf8");
    const start = doc.indexOf("## Manifest loading on hostile input");
    const end = start < 0 ? -1 : doc.indexOf("\n## ", start + 3);
    const next =
      start < 0
        ? doc.trimEnd() + "\n\n" + section
        : doc.slice(0, start) + section + (end < 0 ? "" : doc.slice(end + 1));
    await writeFile(DOC, next);
  }
}

if (process.argv[2] === "--child") child(process.argv[3]!, process.argv[4] as "loader" | "library");
else if (process.argv[1] === SELF) await main();
