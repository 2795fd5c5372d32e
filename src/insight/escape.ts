// Escaping for text placed into HTML or SVG markup (element content and quoted attributes).
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(text: string | number | undefined): string {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}
