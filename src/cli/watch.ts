// get -w: print the list once, then one line per object that changed (added, modified,
// deleted) each time the source says something may have changed. Re-lists on every change
// (list + watch + relist), so a missed notification is caught by the next one.
import type { CliIO } from "./output.js";
import { renderRows, tableColumns, type ListView, type OutputFormat } from "./format.js";
import { columnWidths } from "./table.js";

export type Subscribe = (onChange: () => void) => Promise<() => Promise<void>>;

export interface WatchOptions {
  io: CliIO;
  format: OutputFormat;
  produce(): Promise<ListView>;
  subscribe: Subscribe;
  signal: AbortSignal;
}

type Entry = { json: string; view: ListView; index: number };

export async function watchView(o: WatchOptions): Promise<void> {
  let last = new Map<string, Entry>();
  // The first list's column widths; later rows are padded to them (as kubectl does), not to
  // their own cells.
  let widths: number[] | undefined;
  const emit = (view: ListView, index: number, type: "ADDED" | "MODIFIED" | "DELETED", header: boolean): void => {
    if (o.format === "json") o.io.stdout(JSON.stringify({ type, object: view.objects[index] }) + "\n");
    else if (o.format === "name") o.io.stdout(`${view.names[index]}${type === "DELETED" ? " deleted" : ""}\n`);
    else {
      const one: ListView = {
        ...view,
        rows: [view.rows[index] ?? {}],
        objects: [view.objects[index]],
        names: [view.names[index] ?? ""],
      };
      const text = renderRows(one, o.format, header, widths);
      o.io.stdout(type === "DELETED" ? text.replace(/\n$/, "   (deleted)\n") : text);
    }
  };
  const relist = async (first: boolean): Promise<void> => {
    const view = await o.produce();
    const ids = view.ids ?? view.names;
    const next = new Map<string, Entry>();
    ids.forEach((id, index) => next.set(id, { json: JSON.stringify(view.objects[index]), view, index }));
    let header = first && o.format !== "json" && o.format !== "name";
    if (first) widths = columnWidths(tableColumns(view, o.format), view.rows);
    if (first && next.size === 0 && header) o.io.stdout(renderRows({ ...view, rows: [] }, o.format, true));
    for (const [id, e] of next) {
      const before = last.get(id);
      if (before?.json === e.json) continue;
      emit(e.view, e.index, before ? "MODIFIED" : "ADDED", header);
      header = false;
    }
    for (const [id, e] of last) if (!next.has(id)) emit(e.view, e.index, "DELETED", false);
    last = next;
  };

  await relist(true);
  let queued = false;
  let running: Promise<void> = Promise.resolve();
  const onChange = (): void => {
    if (queued) return;
    queued = true;
    running = running.then(async () => {
      queued = false;
      if (o.signal.aborted) return;
      try {
        await relist(false);
      } catch (e) {
        o.io.stderr(
          `chaosctl: relist failed (retrying on the next change): ${e instanceof Error ? e.message : String(e)}\n`,
        );
      }
    });
  };
  const stop = await o.subscribe(onChange);
  try {
    if (!o.signal.aborted)
      await new Promise<void>((resolve) => o.signal.addEventListener("abort", () => resolve(), { once: true }));
  } finally {
    await stop();
    await running;
  }
}
