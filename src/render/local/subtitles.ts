export interface Cue {
  start: number;
  end: number;
  text: string;
}

function stamp(seconds: number, separator: "," | "."): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`;
}

/** Characters a subtitle line may hold, and lines a cue may show, as subtitle guidelines ask. */
export const MAX_LINE_CHARS = 42;
export const MAX_CUE_LINES = 2;
/** Seconds a cue may stay on screen. */
export const MAX_CUE_SECONDS = 7;
/** Chinese and Japanese characters a line may hold: they are twice as wide, and read more slowly. */
export const MAX_LINE_WIDE_CHARS = 16;

/**
 * The rules below that turn a narration into cues, as a number: they make part
 * of the video's bytes (its .srt and .vtt), so the video's key includes it
 * (the local renderer's toolchain for the video). Raise it when they change.
 */
export const CUE_RULES = 2;

// Scripts written without spaces between words: each of their characters is a unit a line may break after.
const UNSPACED = "\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\u3000-\\u303f\\uff00-\\uffef";
const UNITS = new RegExp(`\\s+|[${UNSPACED}]|[^\\s${UNSPACED}]+`, "gu");
const WIDE = new RegExp(`[${UNSPACED}\\p{Script=Hangul}]`, "u");
// Closing brackets and punctuation a line must not start with: they stay at the end of the line before.
const CLOSERS = "\\u300d\\u300f\\uff09\\u3009\\u300b\\u3011";
const CLOSING = new RegExp(`^[\\u3001\\u3002\\uff01\\uff0c\\uff1a\\uff1b\\uff1f${CLOSERS}]`, "u");
// Where a sentence ends: Latin punctuation and a space, or full-width punctuation and the brackets it closes.
const SENTENCE_END = new RegExp(`(?<=[.!?\\u2026;:])\\s+|(?<=[\\u3002\\uff01\\uff1f\\uff1b\\uff1a][${CLOSERS}]?)(?![${CLOSERS}])`, "u");

/** A word, or one character of a script written without spaces, and whether a space came before it. */
interface Unit {
  text: string;
  spaced: boolean;
}

function units(text: string): Unit[] {
  const out: Unit[] = [];
  let spaced = false;
  for (const [part] of text.matchAll(UNITS)) {
    if (/^\s/.test(part)) spaced = true;
    else {
      out.push({ text: part, spaced });
      spaced = false;
    }
  }
  return out;
}

function joined(line: readonly Unit[]): string {
  return line.map((u, i) => (i > 0 && u.spaced ? ` ${u.text}` : u.text)).join("");
}

/** A line's width in Latin characters: a Chinese, Japanese or Korean character counts as MAX_LINE_CHARS / MAX_LINE_WIDE_CHARS. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) w += WIDE.test(ch) ? MAX_LINE_CHARS / MAX_LINE_WIDE_CHARS : 1;
  return w;
}

/** Units packed greedily into lines no wider than MAX_LINE_CHARS (a longer word gets a line of its own). */
function wrap(all: readonly Unit[]): Unit[][] {
  const out: Unit[][] = [];
  let line: Unit[] = [];
  for (const u of all) {
    if (line.length && width(joined([...line, u])) > MAX_LINE_CHARS && !CLOSING.test(u.text)) {
      out.push(line);
      line = [u];
    } else line.push(u);
  }
  if (line.length) out.push(line);
  return out;
}

/** Lines of at most ~42 characters (16 Chinese or Japanese), two per cue. */
function lines(text: string): string {
  const all = units(text);
  const out = wrap(all);
  if (out.length <= MAX_CUE_LINES) return out.map(joined).join("\n");
  const half = Math.ceil(all.length / 2);
  return `${joined(all.slice(0, half))}\n${joined(all.slice(half))}`;
}

export function toSrt(cues: readonly Cue[]): string {
  return cues.map((c, i) => `${i + 1}\n${stamp(c.start, ",")} --> ${stamp(c.end, ",")}\n${lines(c.text)}\n`).join("\n");
}

export function toVtt(cues: readonly Cue[]): string {
  return `WEBVTT\n\n${cues.map((c) => `${stamp(c.start, ".")} --> ${stamp(c.end, ".")}\n${lines(c.text)}\n`).join("\n")}`;
}

/**
 * Splits one narration cue into cues a viewer can read: each at most two
 * lines of ~42 characters and at most ~7 seconds, ending at sentence ends
 * where it can. The cues share the narration's time in proportion to their
 * length, so together they run from its start to its end.
 */
export function splitCues(cue: Cue): Cue[] {
  const text = cue.text.replace(/\s+/g, " ").trim();
  const total = Math.max(0, cue.end - cue.start);
  if (!text) return [];
  const sentences = text.split(SENTENCE_END);
  let chunks: Unit[][] = [];
  for (const sentence of sentences) {
    const packed = wrap(units(sentence));
    for (let i = 0; i < packed.length; i += MAX_CUE_LINES) chunks.push(packed.slice(i, i + MAX_CUE_LINES).flat());
  }
  const weight = (c: Unit[]) => width(joined(c)) + 1;
  const seconds = (c: Unit[], sum: number) => (total * weight(c)) / sum;
  // A slow narration gives a short cue a long time: halve such cues until each fits on screen long enough and no longer.
  for (let changed = true; changed; ) {
    changed = false;
    const sum = chunks.reduce((n, c) => n + weight(c), 0);
    const next: Unit[][] = [];
    for (const c of chunks) {
      if (seconds(c, sum) > MAX_CUE_SECONDS && c.length > 1) {
        const half = Math.ceil(c.length / 2);
        next.push(c.slice(0, half), c.slice(half));
        changed = true;
      } else next.push(c);
    }
    chunks = next;
  }
  const sum = chunks.reduce((n, c) => n + weight(c), 0);
  const out: Cue[] = [];
  let at = cue.start;
  chunks.forEach((c, i) => {
    const end = i === chunks.length - 1 ? cue.end : at + seconds(c, sum);
    // A single word of a very slow narration still leaves the screen after MAX_CUE_SECONDS.
    out.push({ start: at, end: Math.min(end, at + MAX_CUE_SECONDS), text: joined(c) });
    at = end;
  });
  return out;
}
