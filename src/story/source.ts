import { readFile, stat } from "node:fs/promises";
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node } from "yaml";
import type { Diagnostic, DiagnosticCode, Position, Severity } from "./diagnostics.js";

import { MAX_ALIAS_COUNT, MAX_STORY_BYTES } from "./limits.js";

export { MAX_ALIAS_COUNT, MAX_STORY_BYTES };

/** A story file as text and YAML document, able to say where any of its nodes is. */
export class StorySource {
  constructor(
    readonly file: string,
    readonly text: string,
    readonly doc: Document.Parsed,
  ) {}

  private lineStarts: number[] | null = null;

  /**
   * Line and column of an offset, from the text's own line breaks (the
   * parser's line counter only knows the lines it reached before an error).
   */
  position(offset: number): Position {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= clamped) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: clamped - starts[lo]! + 1 };
  }

  diagnostic(
    severity: Severity,
    code: DiagnosticCode,
    range: readonly [number, number],
    pointer: string,
    message: string,
    hint?: string,
  ): Diagnostic {
    const d: Diagnostic = {
      severity,
      code,
      message,
      file: this.file,
      start: this.position(range[0]),
      end: this.position(Math.max(range[0], range[1])),
      pointer,
    };
    if (hint) d.hint = hint;
    return d;
  }

  /**
   * The source range of the node at a JSON pointer. With `part: "key"` a
   * mapping entry is located by its key (where an editor would put the
   * cursor for an unknown or misspelled field). A pointer that leads nowhere
   * resolves to the deepest node that exists on its way.
   */
  range(pointer: string, part: "key" | "value" = "value"): [number, number] {
    const segments = parsePointer(pointer);
    let node: unknown = this.doc.contents;
    let keyNode: Node | null = null;
    for (const segment of segments) {
      keyNode = null;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
        if (!pair) break;
        keyNode = isScalar(pair.key) ? pair.key : null;
        node = pair.value ?? pair.key;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined || !/^\d+$/.test(segment)) break;
        node = item;
      } else {
        break;
      }
    }
    const target = part === "key" && keyNode ? keyNode : node;
    return nodeRange(target) ?? [0, 0];
  }

  /** The range of a literal piece of text inside the node at a pointer, if it appears there verbatim. */
  rangeOfText(pointer: string, needle: string, occurrence = 0): [number, number] {
    const [start, end] = this.range(pointer);
    let from = start;
    for (let i = 0; ; i++) {
      const at = this.text.indexOf(needle, from);
      if (at < 0 || at >= end) return [start, end];
      if (i === occurrence) return [at, at + needle.length];
      from = at + needle.length;
    }
  }
}

function nodeRange(node: unknown): [number, number] | null {
  if (isPair(node)) return nodeRange(node.key);
  const range = (node as Node | null)?.range;
  if (!range) return null;
  // A block collection's range runs to the next sibling; end it at its value instead.
  return [range[0], range[1]];
}

export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function pointerOf(...segments: Array<string | number>): string {
  return segments.map((s) => "/" + String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

/** What a file's top level must be, for the message when it is not a mapping. */
export interface MappingShape {
  /** "a story", "a project config". */
  what: string;
  example: string;
  hint: string;
}

const STORY_SHAPE: MappingShape = {
  what: "a story",
  example: "`storyc: 1`, `title: ...`, ...",
  hint: "start from `storyc init`, or copy an example from storyc's examples/ folder",
};

export type LoadResult =
  | { ok: true; source: StorySource; data: unknown; diagnostics: Diagnostic[] }
  | { ok: false; source: StorySource | null; diagnostics: Diagnostic[] };

/** Reads and parses a story file. Never throws for anything the file contains. */
export async function loadStorySource(file: string, shape: MappingShape = STORY_SHAPE): Promise<LoadResult> {
  const fileDiagnostic = (code: DiagnosticCode, message: string, hint?: string): LoadResult => ({
    ok: false,
    source: null,
    diagnostics: [
      {
        severity: "error",
        code,
        message,
        file,
        start: { line: 1, column: 1 },
        end: { line: 1, column: 1 },
        pointer: "",
        ...(hint ? { hint } : {}),
      },
    ],
  });

  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) return fileDiagnostic("file-unreadable", "not a file", "name a .yaml story file");
    if (info.size > MAX_STORY_BYTES) {
      return fileDiagnostic(
        "file-too-large",
        `the file is ${info.size} bytes; a story may be at most ${MAX_STORY_BYTES} bytes`,
        "split the story, or check that this is the file you meant",
      );
    }
    const bytes = await readFile(file);
    // A NUL byte never occurs in YAML text: this is an image, a video or an archive. Say so once, instead of quoting it.
    const nul = bytes.indexOf(0);
    if (nul >= 0) return fileDiagnostic("not-text", `not a text story: the file holds binary data (a NUL byte at offset ${nul})`, "a story is a YAML text file; check that this is the file you meant");
    text = bytes.toString("utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EISDIR" ? "a folder, not a file" : String(code ?? error);
    return fileDiagnostic("file-unreadable", `cannot read the file: ${reason}`);
  }
  return parseStoryText(file, text, shape);
}

/** Parses story text that is already in memory (used by loadStorySource and by editors' callers). */
export function parseStoryText(file: string, text: string, shape: MappingShape = STORY_SHAPE): LoadResult {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  const source = new StorySource(file, text, doc);
  const diagnostics: Diagnostic[] = [];
  let fatal = false;
  for (const error of doc.errors) {
    if (error.code === "DUPLICATE_KEY") {
      diagnostics.push(
        source.diagnostic(
          "error",
          "duplicate-key",
          [error.pos[0], error.pos[1]],
          "",
          "this key appears more than once in the same mapping; YAML keeps only one of them",
          "remove or rename one of the two entries",
        ),
      );
      continue;
    }
    fatal = true;
    const explained = explainSyntaxError(text, error.code, error.message, [error.pos[0], error.pos[1]]);
    diagnostics.push(source.diagnostic("error", "yaml-syntax", explained.range, "", explained.message, explained.hint));
  }
  if (fatal) return { ok: false, source, diagnostics };

  if (doc.contents === null || !isMap(doc.contents)) {
    const range: [number, number] = doc.contents?.range ? [doc.contents.range[0], doc.contents.range[1]] : [0, 0];
    diagnostics.push(
      source.diagnostic(
        "error",
        "not-a-mapping",
        range,
        "",
        doc.contents === null ? "the file is empty" : `${shape.what} is a YAML mapping (${shape.example})`,
        shape.hint,
      ),
    );
    return { ok: false, source, diagnostics };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
      diagnostics.push(
        source.diagnostic(
          "error",
          "alias-limit",
          firstAliasRange(doc) ?? [0, 0],
          "",
          `the YAML aliases here expand to more than ${MAX_ALIAS_COUNT} copies, which looks like an alias bomb`,
          "write the repeated parts out, or use fewer aliases",
        ),
      );
      return { ok: false, source, diagnostics };
    }
    throw error;
  }
  return { ok: true, source, data, diagnostics };
}

function firstAliasRange(doc: Document.Parsed): [number, number] | null {
  let found: [number, number] | null = null;
  visit(doc, {
    Alias(_key, node) {
      if (isAlias(node) && node.range) {
        found = [node.range[0], node.range[1]];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

interface ExplainedError {
  range: [number, number];
  message: string;
  hint: string | undefined;
}

/**
 * The yaml library reports some mistakes where it gave up rather than where
 * the writer went wrong; these are moved back to the cause.
 */
function explainSyntaxError(text: string, code: string, message: string, range: [number, number]): ExplainedError {
  const lineStart = text.lastIndexOf("\n", range[0] - 1) + 1;
  const line = text.slice(lineStart, text.indexOf("\n", lineStart) < 0 ? text.length : text.indexOf("\n", lineStart));
  // `description: **Bunny** hops` reads as an alias named "*Bunny**".
  const star = /^(\s*(?:-\s+)?[^\s#:][^:#]*:\s+|\s*-\s+)\*/.exec(line);
  if (star && lineStart + star[1]!.length <= range[0]) {
    const at = lineStart + star[1]!.length;
    return {
      range: [at, at + (line.slice(star[1]!.length).search(/\s|$/) || 1)],
      message: "a value that starts with `*` is read as a YAML alias",
      hint: 'put the text in quotes: description: "**Name** ..."',
    };
  }
  if (code === "MISSING_CHAR" && /closing .quote/i.test(message)) {
    const quote = message.includes("'") ? "'" : '"';
    const open = openingQuoteBefore(text, range[0], quote);
    if (open >= 0) return { range: [open, open + 1], message: `this ${quote === '"' ? "double" : "single"}-quoted text is never closed`, hint: `add the closing ${quote}` };
  }
  return { range, message: cleanYamlMessage(message), hint: yamlHint(code) };
}

/** The quote that opens a value (after `key: ` or `- `) last before an offset. */
function openingQuoteBefore(text: string, offset: number, quote: string): number {
  for (let i = Math.min(offset, text.length - 1); i >= 0; i--) {
    if (text[i] !== quote) continue;
    const before = text.slice(text.lastIndexOf("\n", i - 1) + 1, i);
    if (/(^|:\s+|-\s+|\[\s*|,\s*)$/.test(before)) return i;
  }
  return -1;
}

function cleanYamlMessage(message: string): string {
  // The yaml library appends its own position ("at line 3, column 5"); ours is in front already.
  const text = message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "").trim();
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function yamlHint(code: string): string | undefined {
  switch (code) {
    case "TAB_AS_INDENT":
      return "indent with spaces, not tabs";
    case "BAD_INDENT":
    case "MISSING_CHAR":
      return "check the indentation of this line against the lines above it";
    case "MULTILINE_IMPLICIT_KEY":
    case "BLOCK_AS_IMPLICIT_KEY":
      return "a text value that contains `: ` needs quotes";
    case "UNEXPECTED_TOKEN":
      return "quote text that starts with a special character such as `*`, `&`, `@` or a backtick";
    default:
      return undefined;
  }
}
