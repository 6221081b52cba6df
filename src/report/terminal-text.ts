/**
 * User text (story lines, names, messages from a renderer or the API) is
 * printed to a terminal, where control characters are commands: ESC ] sets
 * the window title, ESC [ 2 J clears the screen, a NUL or a BEL misbehaves.
 * Every such character is shown as a visible escape instead.
 */
// C0 controls but tab and line feed, DEL, the C1 controls, and the bidirectional overrides that reorder what is shown.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function escape(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (ch === "\n") return "\\n";
  if (ch === "\t") return "\\t";
  if (ch === "\r") return "\\r";
  return code > 0xff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\x${code.toString(16).padStart(2, "0")}`;
}

/** Text for one line of output: every control character, line breaks included, escaped. */
export function safe(text: string): string {
  return text.replace(UNSAFE_ONE_LINE, escape);
}

/** Text that may span lines (a message with its own line breaks): line feeds and tabs kept, other controls escaped. */
export function safeLines(text: string): string {
  return text.replace(UNSAFE, escape);
}
