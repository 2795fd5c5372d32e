// -o for the read verbs: a table (default; "wide" adds columns), the objects as JSON or YAML,
// or "kind/name" per object. One view feeds every format, so `-o json` and the table always
// show the same rows.
import { Option } from "commander";
import { stringify } from "yaml";
import { renderTable, type Column, type Row } from "./table.js";
import { toJson } from "./output.js";

export const OUTPUT_FORMATS = ["wide", "yaml", "json", "name"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number] | "table";

export function outputOption(formats: readonly string[] = OUTPUT_FORMATS): Option {
  return new Option("-o, --output <format>", "output format").choices([...formats]);
}

export interface ListView {
  /** List kind for json/yaml of several objects (e.g. ChaosScheduleList). */
  listKind: string;
  columns: readonly Column[];
  /** Extra columns of -o wide (appended). */
  wide: readonly Column[];
  rows: readonly Row[];
  /** The objects behind the rows, in the same order. */
  objects: readonly unknown[];
  /** "kind/name" per row (-o name). */
  names: readonly string[];
  /** Identity per row for -w (default: names). */
  ids?: readonly string[];
}

/** Renders a view; `single`: the user asked for one object by name (json/yaml print it bare). */
export function renderView(view: ListView, format: OutputFormat, single = false): string {
  switch (format) {
    case "json":
      return toJson(single && view.objects.length === 1 ? view.objects[0] : list(view));
    case "yaml":
      return stringify(single && view.objects.length === 1 ? view.objects[0] : list(view));
    case "name":
      return view.names.map((n) => n + "\n").join("");
    case "wide":
      return renderTable([...view.columns, ...view.wide], view.rows);
    default:
      return renderTable(view.columns, view.rows);
  }
}

function list(view: ListView): unknown {
  return { apiVersion: "chaosctl.io/v1alpha1", kind: view.listKind, items: view.objects };
}

/** The columns a table format shows. */
export function tableColumns(view: ListView, format: OutputFormat): readonly Column[] {
  return format === "wide" ? [...view.columns, ...view.wide] : view.columns;
}

/**
 * Just the rows, for -w: one table line per changed object, without the header. `minWidths`
 * (from the first table) keeps later lines in the first table's columns.
 */
export function renderRows(
  view: ListView,
  format: OutputFormat,
  header: boolean,
  minWidths?: readonly number[],
): string {
  const table = renderTable(tableColumns(view, format), view.rows, minWidths ? { minWidths } : {});
  return header ? table : table.split("\n").slice(1).join("\n");
}

export type { Row };
