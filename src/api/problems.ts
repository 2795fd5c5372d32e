// A located problem in a manifest: every error names file, line, column and JSON path.

export interface Problem {
  file: string;
  /** 1-based; 0 when the problem is about the whole file (unreadable, too large). */
  line: number;
  /** 1-based; 0 when unknown. */
  column: number;
  /** kubectl-style field path, e.g. "spec.selector.services[0]"; "" for the whole document. */
  path: string;
  message: string;
  /** Stable name of the check that failed (e.g. "schema", "exactlyOneFault", "yamlSyntax"). */
  rule: string;
}

export function formatProblem(p: Problem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where}: ${p.path ? p.path + ": " : ""}${p.message} [${p.rule}]`;
}
