import type { Diagnostic } from "../story/diagnostics.js";
import type { Palette } from "./color.js";
import { charWidth, displayWidth, safe, safeLines } from "./terminal-text.js";

/**
 * One diagnostic as a compiler would print it: `file:line:col: severity[code]: message`,
 * the source line with a caret under the offending node, and a hint.
 */
/** Characters of a source line a code frame shows at most. */
const MAX_FRAME = 120;

export function formatDiagnostic(d: Diagnostic, text: string | undefined, p: Palette): string {
  const severity = d.severity === "error" ? p.red(p.bold("error")) : p.yellow(p.bold("warning"));
  // Story text reaches the terminal here: control characters are shown escaped, never obeyed.
  const out = [`${p.bold(`${safe(d.file)}:${d.start.line}:${d.start.column}`)}: ${severity}${p.dim(`[${d.code}]`)}: ${safeLines(d.message)}`];
  const hint = d.hint === undefined ? undefined : safeLines(d.hint);
  const full = text?.split(/\r?\n/)[d.start.line - 1];
  if (full !== undefined && full.trim() !== "") {
    const gutter = String(d.start.line);
    const pad = " ".repeat(gutter.length);
    const span = d.end.line === d.start.line ? Math.max(1, d.end.column - d.start.column) : Math.max(1, full.length - d.start.column + 1);
    // A very long line (a whole chapter of narration) is shown as a window around the mark.
    const from = full.length > MAX_FRAME ? Math.max(0, d.start.column - 1 - 20) : 0;
    const to = full.length > MAX_FRAME ? Math.min(full.length, from + MAX_FRAME) : full.length;
    const head = from > 0 ? "…" : "";
    const line = `${head}${full.slice(from, to)}${to < full.length ? "…" : ""}`;
    const before = head + full.slice(from, d.start.column - 1);
    const marked = full.slice(d.start.column - 1, Math.min(to, d.start.column - 1 + span)) || " ";
    // The caret is measured on the text as shown: escapes, tabs and wide characters included.
    const lead = [...safeLines(before)].map((ch) => (ch === "\t" ? "\t" : " ".repeat(charWidth(ch)))).join("");
    const caret = "^".repeat(Math.max(1, displayWidth(safeLines(marked))));
    out.push(`${p.dim(` ${gutter} |`)} ${safeLines(line)}`);
    out.push(`${p.dim(` ${pad} |`)} ${lead}${d.severity === "error" ? p.red(caret) : p.yellow(caret)}`);
    if (hint) out.push(`${p.dim(` ${pad} =`)} ${p.cyan("hint")}: ${hint}`);
  } else if (hint) {
    out.push(`  = ${p.cyan("hint")}: ${hint}`);
  }
  return out.join("\n");
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
