// Text-level helpers of apply/delete in a manifest file: where a new manifest's file goes, and
// a document cut out of a YAML stream. Pure.
import { parseAllDocuments } from "yaml";

/** `<namespace>.<name>.yaml`, or `<name>.yaml` in namespace default; `n` > 0 adds `-<n>`. */
export function newFileName(key: string, n = 0): string {
  const [namespace, name] = splitKey(key);
  const base = namespace === "default" ? name : `${namespace}.${name}`;
  return n > 0 ? `${base}-${n}.yaml` : `${base}.yaml`;
}

export function splitKey(key: string): [string, string] {
  const slash = key.indexOf("/");
  return slash < 0 ? ["default", key] : [key.slice(0, slash), key.slice(slash + 1)];
}

/**
 * `text` without document `index` of its stream: from where that document starts (its `---`
 * included) to where the next one starts. A leading comment of the file (before the first
 * document's content) stays. Undefined when the stream has no such document.
 */
export function cutDocument(text: string, index: number): string | undefined {
  // Only ranges are needed: no quadratic duplicate-key check on a file loadText already checked.
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  if (!Array.isArray(docs)) return undefined;
  const doc = docs[index];
  if (!doc?.range) return undefined;
  const start = doc.range[0];
  const end = docs[index + 1]?.range?.[0] ?? text.length;
  return text.slice(0, start) + text.slice(end);
}
