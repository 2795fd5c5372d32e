// Field paths inside a manifest: segments for walking the YAML tree, kubectl-style text for
// people ("spec.selector.services[0]", `metadata.labels["app.kubernetes.io/name"]`).

export type PathSegment = string | number;

/** A finding about one field, before it is located in a file (see locate.ts). */
export interface Issue {
  path: PathSegment[];
  message: string;
  rule: string;
  /**
   * Where to point: the field's value (default), its key (unknown fields), or the object
   * holding it (a missing field has no node of its own).
   */
  at?: "value" | "key" | "parent";
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** ajv's JSON Pointer instancePath ("/spec/selector/services/0") as segments. */
export function fromJsonPointer(pointer: string): PathSegment[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((raw) => {
      const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
      return /^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : seg;
    });
}
