// Bytes to text, refusing what is not text: NUL bytes or invalid UTF-8 mean a binary file,
// reported with the line and column of the first bad byte instead of parsed as garbage.
import { isUtf8 } from "node:buffer";

export type Decoded = { ok: true; text: string } | { ok: false; offset: number; why: string };

export function decodeText(bytes: Uint8Array): Decoded {
  const nul = bytes.indexOf(0);
  const bad = isUtf8(bytes) ? -1 : firstInvalidUtf8(bytes);
  if (nul !== -1 && (bad === -1 || nul < bad)) return { ok: false, offset: nul, why: "contains a NUL byte" };
  if (bad !== -1) return { ok: false, offset: bad, why: "is not valid UTF-8" };
  let text = new TextDecoder("utf-8").decode(bytes);
  // A UTF-8 BOM is allowed (editors on Windows write one) and is not part of the document.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { ok: true, text };
}

/** 1-based line and column of a byte offset (columns count characters, not bytes). */
export function bytePosition(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // Continuation bytes (10xxxxxx) do not start a character.
  let column = 1;
  for (let i = lineStart; i < offset; i++) if (((bytes[i] ?? 0) & 0xc0) !== 0x80) column++;
  return { line, column };
}

/** Offset of the first byte that breaks UTF-8 (overlongs and surrogates included), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] ?? 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) [need, min, cp] = [1, 0x80, c & 0x1f];
    else if (c >= 0xe0 && c <= 0xef) [need, min, cp] = [2, 0x800, c & 0x0f];
    else if (c >= 0xf0 && c <= 0xf4) [need, min, cp] = [3, 0x10000, c & 0x07];
    else return i;
    if (i + need > b.length - 1) return i;
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k] ?? 0;
      if ((cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}
