import type { Diagnostic } from "../story/diagnostics.js";
import type { Palette } from "./color.js";
import { charWidth, displayWidth, safe, safeLines } from "./terminal-text.js";

/**
 * One diagnostic as a compiler would print it: `file:line:col: severity[code]: message`,
 * the source line with a caret under the offending node, and a hint.
 */
export function formatDiagnostic(d: Diagnostic, text: string | undefined, p: Palette): string {
  const severity = d.severity === "error" ? p.red(p.bold("error")) : p.yellow(p.bold("warning"));
  // Story text reaches the terminal here: control characters are shown escaped, never obeyed.
  const out = [`${p.bold(`${safe(d.file)}:${d.start.line}:${d.start.column}`)}: ${severity}${p.dim(`[${d.code}]`)}: ${safeLines(d.message)}`];
  const hint = d.hint === undefined ? undefined : safeLines(d.hint);
  const line = text?.split(/\r?\n/)[d.start.line - 1];
  if (line !== undefined && line.trim() !== "") {
    const gutter = String(d.start.line);
    const pad = " ".repeat(gutter.length);
    const before = line.slice(0, d.start.column - 1);
    const span = d.end.line === d.start.line ? Math.max(1, d.end.column - d.start.column) : Math.max(1, line.length - d.start.column + 1);
    const marked = line.slice(d.start.column - 1, d.start.column - 1 + span) || " ";
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
