// Hostile input: property-based fuzzing of the manifest loader (>= 10,000 generated
// cases: mutations of valid manifests and random YAML), alias bombs, huge and deeply nested
// files, names with path traversal, and shell metacharacters in every string that reaches tc
// or iptables. Pure; bounded in time (fast-check seeds are printed on failure to replay).
import { readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { loadText, LOAD_DEFAULTS } from "../../src/api/load.js";
import type { Problem } from "../../src/api/problems.js";
import { newFileName } from "../../src/store/directory/documents.js";
import { netemArgs } from "../../src/faults/netem/args.js";
import { tbfArgs } from "../../src/faults/network/injection.js";
import * as ipt from "../../src/faults/netns/iptables.js";
import * as tc from "../../src/faults/netns/tc.js";
import { InvalidNetworkSpec } from "../../src/faults/netns/errors.js";

const FILE = "fuzz.yaml";
/** File-level problems (the file as a whole, not a place in it). */
const FILE_RULES = new Set(["noDocuments", "fileTooLarge", "unreadable"]);

/** Every problem names the file, a line and column (1-based) and a JSON path, or is file-level. */
function located(p: Problem): boolean {
  if (p.file !== FILE || typeof p.path !== "string" || typeof p.message !== "string" || p.message === "") return false;
  if (FILE_RULES.has(p.rule)) return Number.isInteger(p.line) && Number.isInteger(p.column);
  return Number.isInteger(p.line) && p.line >= 1 && Number.isInteger(p.column) && p.column >= 1;
}

function check(text: string): { ok: number; problems: Problem[] } {
  const r = loadText(text, FILE); // never throws: a throw fails the property
  const problems = [...r.problems, ...r.documents.flatMap((d) => d.problems)];
  const bad = problems.filter((p) => !located(p));
  if (bad.length) throw new Error(`unlocated problem(s): ${JSON.stringify(bad)}`);
  for (const d of r.documents) if (d.manifest) expect(d.problems).toEqual([]);
  return { ok: r.documents.filter((d) => d.manifest).length, problems };
}

const EXAMPLES = resolve("manifests/examples");
const VALID = readdirSync(EXAMPLES)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => readFileSync(join(EXAMPLES, f), "utf8"))
  .filter((t) => check(t).problems.length === 0);

// Characters that break YAML in interesting ways, and text fragments that do.
const NASTY = [
  "\t",
  ":",
  " :",
  "- ",
  "{",
  "}",
  "[",
  "]",
  ",",
  "&a ",
  "*a",
  "!!binary ",
  "!tag ",
  "|",
  ">",
  "'",
  '"',
  "%YAML 1.1\n",
  "---\n",
  "...\n",
  "#",
  "\\",
  "\u0000",
  "\uFEFF",
  "\u2028",
  "\r\n",
  "\ud800",
  "<<: *a\n",
  "? ",
  "@",
  "`",
  "\n  ",
  "\n",
  "~",
  "null",
  "0x1F",
  ".inf",
  "1e999",
  "-",
  "../",
  "/etc/passwd",
  "$(id)",
  "; rm -rf /",
];
const fragment = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "grapheme", maxLength: 4 }),
);

/** A text mutation of a valid manifest: delete, insert, replace, duplicate or swap lines, re-indent. */
const mutated = fc
  .tuple(
    fc.constantFrom(...VALID),
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 20 }), fc.integer({ min: 0, max: 5 }), fragment), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([base, ops]) => {
    let t = base;
    for (const [pos, len, kind, frag] of ops) {
      const at = t.length ? pos % t.length : 0;
      const lines = t.split("\n");
      const li = lines.length ? pos % lines.length : 0;
      switch (kind) {
        case 0:
          t = t.slice(0, at) + t.slice(at + len);
          break;
        case 1:
          t = t.slice(0, at) + frag + t.slice(at);
          break;
        case 2:
          t = t.slice(0, at) + frag + t.slice(at + len);
          break;
        case 3:
          lines.splice(li, 0, lines[li] ?? "");
          t = lines.join("\n");
          break;
        case 4: {
          const j = (li + 1 + len) % Math.max(1, lines.length);
          [lines[li], lines[j]] = [lines[j] ?? "", lines[li] ?? ""];
          t = lines.join("\n");
          break;
        }
        default:
          lines[li] = " ".repeat(len % 7) + (lines[li] ?? "").trimStart();
          t = lines.join("\n");
      }
    }
    return t;
  });

/** A structural mutation: a random value put at a random path of a valid manifest's data. */
const json = fc.jsonValue({ maxDepth: 3 });
const restructured = fc
  .tuple(fc.constantFrom(...VALID), fc.array(fc.tuple(fc.nat(), json), { minLength: 1, maxLength: 3 }))
  .map(([base, edits]) => {
    const data = loadText(base, FILE).documents[0]?.doc.toJS() as Record<string, unknown>;
    for (const [n, value] of edits) {
      // Walk to a random container and set one of its keys (or a new one).
      let node: unknown = data;
      const path: Array<string | number> = [];
      for (let depth = 0; depth < 4 && node && typeof node === "object"; depth++) {
        const keys = Object.keys(node);
        if (!keys.length) break;
        const k = keys[(n >> depth) % keys.length] as string;
        const child = (node as Record<string, unknown>)[k];
        if (!child || typeof child !== "object" || (n >> (depth + 4)) % 3 === 0) {
          (node as Record<string, unknown>)[k] = value;
          path.push(k);
          break;
        }
        node = child;
      }
    }
    return stringify(data);
  });

const randomYaml = fc.anything({ maxDepth: 4 }).map((v) => {
  try {
    return stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
});

describe("manifest loader under generated input", () => {
  it("has valid bases to mutate", () => {
    expect(VALID.length).toBeGreaterThanOrEqual(3);
  });

  // 5,000 + 2,500 + 2,000 + 500 = 10,000 generated manifests (plus 2,000 names and 4,500 argv cases below).
  it("text mutations of valid manifests: no crash, every problem located", { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(mutated, (t) => void check(t)),
      { numRuns: 5000 },
    );
  });

  it(
    "structural mutations (random values at random paths): no crash, every problem located",
    { timeout: 60_000 },
    () => {
      fc.assert(
        fc.property(restructured, (t) => void check(t)),
        { numRuns: 2500 },
      );
    },
  );

  it("random YAML and random text: no crash, every problem located", { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(randomYaml, (t) => void check(t)),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (t) => void check(t)),
      { numRuns: 500 },
    );
  });

  it("alias bombs, deep nesting and huge files end in a located problem, quickly", () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(",")}]`,
      );
    const cases = [
      `apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata: {name: bomb}\nspec:\n  x:\n${bomb.map((l) => "    " + l).join("\n")}\n`,
      "spec: " + "[".repeat(20_000) + "]".repeat(20_000) + "\n",
      "spec:\n" + Array.from({ length: 3000 }, (_, i) => " ".repeat(i + 2) + "a:").join("\n") + " 1\n",
      "a: " + "x".repeat(LOAD_DEFAULTS.maxBytes + 10) + "\n",
    ];
    for (const t of cases) {
      const t0 = performance.now();
      const { ok, problems } = check(t);
      expect(ok).toBe(0);
      expect(problems.length).toBeGreaterThan(0);
      expect(performance.now() - t0).toBeLessThan(5000);
    }
  });
});

describe("names with path traversal", () => {
  const hostileName = fc.oneof(
    fc.constantFrom(
      "../x",
      "..",
      ".",
      "a/b",
      "/etc/passwd",
      "a\u0000b",
      "..%2f",
      "a\\..\\b",
      "con",
      "-rf",
      "a b",
      "A",
      "x".repeat(300),
    ),
    fc
      .tuple(
        fc.string({ maxLength: 6 }),
        fc.constantFrom("../", "/", "\u0000", "..", "\\"),
        fc.string({ maxLength: 6 }),
      )
      .map(([a, b, c]) => a + b + c),
  );
  it(
    "never validate, and no valid manifest's name makes a file name that leaves the folder",
    { timeout: 30_000 },
    () => {
      const dir = "/srv/manifests";
      fc.assert(
        fc.property(
          hostileName,
          fc.oneof(fc.constant(undefined), hostileName, fc.constantFrom("default", "team-a")),
          (name, ns) => {
            const text = `apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata:\n  name: ${JSON.stringify(name)}\n${ns === undefined ? "" : `  namespace: ${JSON.stringify(ns)}\n`}spec:\n  selector: {services: [web]}\n  fault: {kill: {}}\n`;
            const r = loadText(text, FILE);
            for (const d of r.documents) {
              if (!d.manifest) {
                expect(d.problems.some((p) => p.path.startsWith("metadata"))).toBe(true);
                continue;
              }
              // Only a DNS-1123 name and namespace get through; their file name stays inside the folder.
              const file = newFileName(d.key ?? "");
              // eslint-disable-next-line no-control-regex -- a NUL in a file name is exactly what must not get through
              expect(file).not.toMatch(/[/\\\u0000]/);
              expect(file.startsWith(".")).toBe(false);
              const rel = relative(dir, join(dir, file));
              expect(rel.startsWith("..") || isAbsolute(rel)).toBe(false);
            }
          },
        ),
        { numRuns: 2000 },
      );
    },
  );
});

describe("shell metacharacters reach tc and iptables only as argv elements", () => {
  const META = [
    ";",
    "|",
    "&",
    "$",
    "`",
    "<",
    ">",
    "(",
    ")",
    "'",
    '"',
    "\\",
    "\n",
    " ",
    "*",
    "?",
    "~",
    "#",
    "{",
    "}",
    "!",
    "\u0000",
  ];
  const hostile = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc
      .tuple(
        fc.constantFrom("10ms", "1mbit", "eth0", "32kb", "10.0.0.0/8", "normal", ""),
        fc.constantFrom(...META),
        fc.constantFrom("rm -rf /", "$(id)", "`id`", "x", ""),
      )
      .map(([a, m, b]) => a + m + b),
  );
  const hasMeta = (s: string): boolean => META.some((m) => s.includes(m));

  /** Either refused (InvalidNetworkSpec), or argv whose elements carry metacharacters only as one whole input. */
  function safeArgv(build: () => string[], inputs: string[]): void {
    let argv: string[];
    try {
      argv = build();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidNetworkSpec);
      return;
    }
    expect(Array.isArray(argv)).toBe(true);
    for (const a of argv) {
      expect(typeof a).toBe("string");
      if (hasMeta(a)) expect(inputs).toContain(a);
    }
  }

  it("netem options (delay, jitter, distribution, rate, percentages)", () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, (time, jitter, distribution, rate) => {
        safeArgv(() => netemArgs({ delay: { time, jitter, distribution: distribution as "normal" }, rate }), []);
        safeArgv(() => netemArgs({ rate }), []);
      }),
      { numRuns: 1500 },
    );
  });

  it("tbf (rate, burst, latency) and the tc tree on a hostile interface name", () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, (rate, burst, latency, dev) => {
        safeArgv(() => tbfArgs({ rate, burst, latency }), []);
        safeArgv(() => tc.rootAdd(dev), []);
        safeArgv(() => tc.rootDel(dev), []);
        safeArgv(() => tc.restClassReplace(dev), []);
      }),
      { numRuns: 1500 },
    );
  });

  it("iptables rules: interface, CIDR, comment", () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, (dev, cidr, comment) => {
        // The comment is ours (an owner label) but even a hostile one stays one argv element.
        safeArgv(() => ipt.jumpInsert("OUTPUT", dev, "CHAOS-x-O", comment), [comment]);
        safeArgv(() => ipt.dropRule("to", cidr), []);
        safeArgv(() => ipt.dropRule("from", cidr), []);
      }),
      { numRuns: 1500 },
    );
  });

  it("commands are run with execFile/argv, never through a shell", () => {
    for (const f of ["src/faults/netns/exec-local.ts", "src/faults/netns/exec-helper.ts"]) {
      const src = readFileSync(resolve(f), "utf8");
      expect(src).not.toMatch(
        /shell:\s*true|["']sh["']\s*,\s*["']-c["']|\bexecSync\b|child_process["'];?\s*$.*\bexec\(/m,
      );
    }
  });
});
