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

/** Words packed greedily into lines of at most MAX_LINE_CHARS (a longer word gets a line of its own). */
function wrap(words: readonly string[]): string[] {
  const out: string[] = [];
  let line = "";
  for (const w of words) {
    if (line && (line + " " + w).length > MAX_LINE_CHARS) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

/** Lines of at most ~42 characters, two per cue. */
function lines(text: string): string {
  const words = text.replace(/\s+/g, " ").trim().split(" ");
  const out = wrap(words);
  if (out.length <= MAX_CUE_LINES) return out.join("\n");
  const half = Math.ceil(words.length / 2);
  return `${words.slice(0, half).join(" ")}\n${words.slice(half).join(" ")}`;
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
  const sentences = text.split(/(?<=[.!?…;:])\s+/);
  let chunks: string[][] = [];
  for (const sentence of sentences) {
    const packed = wrap(sentence.split(" "));
    for (let i = 0; i < packed.length; i += MAX_CUE_LINES) chunks.push(packed.slice(i, i + MAX_CUE_LINES).join(" ").split(" "));
  }
  const weight = (words: string[]) => words.join(" ").length + 1;
  const seconds = (words: string[], sum: number) => (total * weight(words)) / sum;
  // A slow narration gives a short cue a long time: halve such cues until each fits on screen long enough and no longer.
  for (let changed = true; changed; ) {
    changed = false;
    const sum = chunks.reduce((n, c) => n + weight(c), 0);
    const next: string[][] = [];
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
    out.push({ start: at, end: Math.min(end, at + MAX_CUE_SECONDS), text: c.join(" ") });
    at = end;
  });
  return out;
}
