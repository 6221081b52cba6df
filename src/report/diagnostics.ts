import type { Diagnostic } from "../story/diagnostics.js";
import type { Palette } from "./color.js";

/**
 * One diagnostic as a compiler would print it: `file:line:col: severity[code]: message`,
 * the source line with a caret under the offending node, and a hint.
 */
export function formatDiagnostic(d: Diagnostic, text: string | undefined, p: Palette): string {
  const severity = d.severity === "error" ? p.red(p.bold("error")) : p.yellow(p.bold("warning"));
  const out = [`${p.bold(`${d.file}:${d.start.line}:${d.start.column}`)}: ${severity}${p.dim(`[${d.code}]`)}: ${d.message}`];
  const line = text?.split(/\r?\n/)[d.start.line - 1];
  if (line !== undefined && line.trim() !== "") {
    const gutter = String(d.start.line);
    const pad = " ".repeat(gutter.length);
    const lead = line.slice(0, d.start.column - 1).replace(/[^\t]/g, " ");
    const width = d.end.line === d.start.line ? Math.max(1, d.end.column - d.start.column) : Math.max(1, line.length - d.start.column + 1);
    const caret = "^".repeat(Math.min(width, Math.max(1, line.length - d.start.column + 1)));
    out.push(`${p.dim(` ${gutter} |`)} ${line}`);
    out.push(`${p.dim(` ${pad} |`)} ${lead}${d.severity === "error" ? p.red(caret) : p.yellow(caret)}`);
    if (d.hint) out.push(`${p.dim(` ${pad} =`)} ${p.cyan("hint")}: ${d.hint}`);
  } else if (d.hint) {
    out.push(`  = ${p.cyan("hint")}: ${d.hint}`);
  }
  return out.join("\n");
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
