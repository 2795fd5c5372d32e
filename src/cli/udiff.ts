// A unified diff of two texts (line-based, 3 lines of context), as `diff -u` prints it.
// LCS over lines: manifests are small (the loader bounds a file to 1 MiB; a schedule is tens of lines).

type Op = { kind: " " | "-" | "+"; line: string };

function ops(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: LCS length of a[i..] and b[j..]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as Uint32Array;
    const next = lcs[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j--)
      row[j] = a[i] === b[j] ? (next[j + 1] as number) + 1 : Math.max(next[j] as number, row[j + 1] as number);
  }
  const out: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ kind: " ", line: a[i++] as string });
      j++;
    }
    // Deletions before insertions, as diff -u prints a changed line.
    else if (i < n && (j === m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0)))
      out.push({ kind: "-", line: a[i++] as string });
    else out.push({ kind: "+", line: b[j++] as string });
  }
  return out;
}

const lines = (s: string): string[] => (s === "" ? [] : s.replace(/\n$/, "").split("\n"));

/** "" when the texts are equal. */
export function unifiedDiff(before: string, after: string, fromName: string, toName: string, context = 3): string {
  const a = lines(before);
  const b = lines(after);
  const all = ops(a, b);
  if (all.every((o) => o.kind === " ")) return "";
  let out = `--- ${fromName}\n+++ ${toName}\n`;
  const changed = all.map((o, k) => (o.kind !== " " ? k : -1)).filter((k) => k >= 0);
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, (changed[k] as number) - context);
    let end = Math.min(all.length, (changed[k] as number) + context + 1);
    while (k + 1 < changed.length && (changed[k + 1] as number) - context <= end)
      end = Math.min(all.length, (changed[++k] as number) + context + 1);
    k++;
    // Line numbers at the hunk start.
    let aLine = 1;
    let bLine = 1;
    for (const o of all.slice(0, start)) {
      if (o.kind !== "+") aLine++;
      if (o.kind !== "-") bLine++;
    }
    const hunk = all.slice(start, end);
    const aLen = hunk.filter((o) => o.kind !== "+").length;
    const bLen = hunk.filter((o) => o.kind !== "-").length;
    out += `@@ -${aLen ? aLine : aLine - 1},${aLen} +${bLen ? bLine : bLine - 1},${bLen} @@\n`;
    out += hunk.map((o) => o.kind + o.line + "\n").join("");
  }
  return out;
}
