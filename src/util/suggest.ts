// "Did you mean ...?": the candidate closest to a misspelt word, for messages that name
// fields, signals or services. Distance is optimal string alignment (Levenshtein plus a swap
// of two neighbours costing 1, so "wbe" is one edit from "web"), case-insensitive.

/** The candidate closest to `word` within `maxDistance` edits (ties: the first), if any. */
export function closest(word: string, candidates: Iterable<string>, maxDistance = 2): string | undefined {
  let best: string | undefined;
  let bestDist = maxDistance + 1;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase(), bestDist);
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return best;
}

/** Optimal string alignment distance; any value >= `cap` is returned as `cap`. */
export function editDistance(a: string, b: string, cap = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1);
      cur[j] = d;
    }
    before = prev;
    prev = cur;
  }
  return Math.min(prev[b.length] ?? 0, cap);
}
