// kubectl-style tables: upper-case headers, columns padded to the widest cell, three spaces
// apart, no borders; "<none>" for an empty cell.

export type Row = Record<string, string>;

export interface Column {
  header: string;
  /** Key of the row object. */
  key: string;
}

export interface TableOptions {
  /** What an empty cell shows (default "<none>"); padding counts this text, not a placeholder. */
  empty?: string;
  /** Each column at least this wide: `get -w` keeps the first table's widths for later rows. */
  minWidths?: readonly number[];
}

/** The width of each column: the widest of its header, its cells and `minWidths`. */
export function columnWidths(columns: readonly Column[], rows: readonly Row[], o: TableOptions = {}): number[] {
  return columns.map((c, i) =>
    Math.max(c.header.length, o.minWidths?.[i] ?? 0, ...rows.map((r) => cellText(r, c, o).length)),
  );
}

function cellText(r: Row, c: Column, o: TableOptions): string {
  return r[c.key] === undefined || r[c.key] === "" ? (o.empty ?? "<none>") : (r[c.key] as string);
}

export function renderTable(columns: readonly Column[], rows: readonly Row[], o: TableOptions = {}): string {
  const widths = columnWidths(columns, rows, o);
  const line = (cells: string[]): string =>
    cells
      .map((s, i) => (i === cells.length - 1 ? s : s.padEnd((widths[i] ?? 0) + 3)))
      .join("")
      .trimEnd() + "\n";
  return line(columns.map((c) => c.header)) + rows.map((r) => line(columns.map((c) => cellText(r, c, o)))).join("");
}

/** kubectl's age: 45s, 12m, 3h, 5d (the largest whole unit). Empty for no time. */
export function age(since: string | undefined, now: Date): string {
  if (!since) return "";
  const ms = now.getTime() - Date.parse(since);
  if (!Number.isFinite(ms)) return "";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Time until `until` (for expiries): "in 45s", or the age with "ago" once past. */
export function until(time: string | undefined, now: Date): string {
  if (!time) return "";
  const ms = Date.parse(time) - now.getTime();
  if (!Number.isFinite(ms)) return "";
  return ms >= 0 ? `in ${age(now.toISOString(), new Date(now.getTime() + ms))}` : `${age(time, now)} ago`;
}
