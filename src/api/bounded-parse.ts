// YAML text → documents, with every cost bounded before it is paid. The yaml library's own
// parseAllDocuments builds the whole concrete syntax tree first: 1 MB of `[` costs over 500 MB,
// 100,000 empty documents over 100 MB, and its duplicate-key check is quadratic in the keys of a
// map (60,000 keys took over a minute). Here the lexer feeds the parser one token at a time, and
// parsing stops at the first limit crossed: tokens per file, documents per file, parser stack
// depth. What passes is composed without the quadratic check; duplicateKeys() does it in linear
// time with a set per map, and its findings join the document's errors.
import {
  Composer,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  Parser,
  YAMLParseError,
  type CST,
  type Document,
  type LineCounter,
  type Node,
} from "yaml";

export interface ParseLimits {
  /** Lexical tokens per file (a line `key: value` is about 5). */
  maxTokens: number;
  /** Documents per file, empty ones included. */
  maxDocuments: number;
  /** Nesting of the parser's stack (a few entries per collection level). */
  maxStack: number;
}

export type BoundedParse =
  | { ok: true; docs: Document[]; streamErrors: Array<{ message: string; pos: [number, number] }> }
  | { ok: false; offset: number; rule: "tokenLimit" | "documentLimit" | "depthLimit" };

export function boundedParse(text: string, lc: LineCounter, limits: ParseLimits): BoundedParse {
  const parser = new Parser(lc.addNewLine);
  lc.addNewLine(0);
  const tokens: CST.Token[] = [];
  let lexemes = 0;
  let documents = 0;
  const take = (token: CST.Token): boolean => {
    tokens.push(token);
    return token.type !== "document" || ++documents <= limits.maxDocuments;
  };
  for (const lexeme of new Lexer().lex(text)) {
    if (++lexemes > limits.maxTokens) return { ok: false, offset: parser.offset, rule: "tokenLimit" };
    for (const token of parser.next(lexeme)) {
      if (!take(token)) return { ok: false, offset: token.offset, rule: "documentLimit" };
    }
    if (parser.stack.length > limits.maxStack) return { ok: false, offset: parser.offset, rule: "depthLimit" };
  }
  for (const token of parser.end()) {
    if (!take(token)) return { ok: false, offset: token.offset, rule: "documentLimit" };
  }
  // merge: `<<: *anchor` works as with kubectl (YAML 1.1 habit); expansions still count against
  // maxAliasCount when converted. uniqueKeys off: duplicateKeys() below does it in linear time.
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false, merge: true });
  const docs: Document[] = Array.from(composer.compose(tokens));
  // Reported as the yaml library would (an error of the document), so every reader of
  // doc.errors treats a duplicate key as before.
  for (const doc of docs) {
    for (const d of duplicateKeys(doc)) {
      const message = `Map keys must be unique: ${JSON.stringify(d.key)} is already at line ${lc.linePos(d.firstOffset).line}`;
      doc.errors.push(new YAMLParseError([d.offset, d.offset + 1], "DUPLICATE_KEY", message));
    }
  }
  return { ok: true, docs, streamErrors: docs.length === 0 ? composer.streamInfo().errors : [] };
}

export interface DuplicateKey {
  /** Where the repeated key is written. */
  offset: number;
  /** Where the same key was first written. */
  firstOffset: number;
  key: string;
}

/**
 * Keys written twice in one mapping, in the order they appear. Scalar keys compare
 * by value as the yaml library does (`1` and `"1"` differ); merge keys `<<` may repeat, as there.
 */
export function duplicateKeys(doc: Document): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Map<unknown, number>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (isScalar(key) && typeof key.value !== "symbol") {
          const offset = key.range?.[0] ?? 0;
          const first = seen.get(key.value);
          if (first === undefined) seen.set(key.value, offset);
          else out.push({ offset, firstOffset: first, key: String(key.value) });
        }
        stack.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(isPair(item) ? item.value : item);
    }
  }
  return out.sort((a, b) => a.offset - b.offset);
}
