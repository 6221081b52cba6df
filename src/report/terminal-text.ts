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

// Zero-width: combining marks, zero-width joiner and spaces, variation selectors.
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200f\ufe00-\ufe0f]$/u;
const PICTOGRAPH = /^\p{Extended_Pictographic}$/u;

/** Columns one code point takes on a terminal: 2 for East Asian wide characters and emoji, 0 for combining marks. */
export function charWidth(ch: string): number {
  const code = ch.codePointAt(0)!;
  if (ZERO_WIDTH.test(ch)) return 0;
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  ) {
    return 2;
  }
  if (code >= 0x2600 && code <= 0x27bf && PICTOGRAPH.test(ch)) return code === 0x2640 || code === 0x2642 ? 1 : 2;
  return 1;
}

/** Columns a string takes on a terminal (no escape sequences in it). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch);
  return width;
}

/** Pads with spaces to a display width, as padEnd does for code units. */
export function padEndDisplay(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - displayWidth(text)));
}
