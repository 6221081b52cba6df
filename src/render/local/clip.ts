import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Memo } from "../types.js";
import { runFfmpeg } from "./ffmpeg.js";
import { FPS, videoEncodeArgs, type Quality } from "./layout.js";
import { moveFilters, type Motion } from "./motion.js";

export interface ClipPlan {
  still: string;
  width: number;
  height: number;
  motion: Motion;
  /** Frames the scene is on screen. */
  frames: number;
  /** Frames of each crossfade (0 for cuts): the move runs this far past the clip's end, and its first frames are drawn by the crossfade into it. */
  transition: number;
  /** Whether something fades into this clip (a title card has nothing before it, so its body starts at its first frame). */
  head?: boolean;
  /** The encoder's settings (layout.ts); standard when absent. */
  quality?: Quality;
  /** Encoded as one piece: for a clip whose length never changes (the title card), pieces would only add keyframes and processes. */
  whole?: boolean;
}

/**
 * Clips are drawn and encoded in pieces, each starting on a keyframe at a
 * multiple of CHUNK_FRAMES (2 s) from the clip's start. The camera's move
 * spans the clip and its handle rounded up to a whole chunk, so that a scene
 * made a little longer or shorter (its narration edited) keeps the same move:
 * its earlier piece is found in the memo and only the last piece is encoded
 * again. The move then ends within two seconds of its full range, which a slow
 * Ken Burns move does not show.
 */
export const CHUNK_FRAMES = 2 * FPS;

/** Frames the camera's move spans for a clip of `frames` with a handle of `transition`. */
export function moveSpan(frames: number, transition: number): number {
  return Math.ceil((frames + transition) / CHUNK_FRAMES) * CHUNK_FRAMES;
}

interface Part {
  /** First frame, counted from the clip's start. */
  start: number;
  count: number;
}

/**
 * The pieces of the body: up to the last whole chunk, then the rest. An edit
 * that moves the end within its chunk keeps the first; few pieces keep the
 * keyframes (and encoders) few. The crossfades on either side are not the
 * clip's: the video draws them from both stills (compose.ts), so the clip
 * encodes no frame that is not shown as it is.
 */
function partsOf(plan: ClipPlan): Part[] {
  const from = plan.transition > 0 && (plan.head ?? true) ? plan.transition : 0;
  if (plan.whole) return [{ start: from, count: plan.frames - from }];
  const cut = Math.floor((plan.frames - 1) / CHUNK_FRAMES) * CHUNK_FRAMES;
  const parts: Part[] = [];
  if (cut > from) parts.push({ start: from, count: cut - from });
  parts.push({ start: Math.max(from, cut), count: plan.frames - Math.max(from, cut) });
  return parts;
}

export interface ClipMemo {
  memo: Memo;
  /** Names everything the pictures are made from but the frames, motion, size and quality: ffmpeg build, still. */
  prefix: string;
}

/**
 * Encodes the body of a scene's clip: its still with its camera motion, from
 * the end of the crossfade into it to its last frame. The missing pieces are
 * encoded one encoder per ffmpeg run, one after the other (an encoder and its
 * frames cost a hundred MB at 720p, and a build runs clips side by side), and
 * joined by stream copy.
 */
export async function encodeClip(
  ffmpeg: string,
  plan: ClipPlan,
  dir: string,
  options: { signal?: AbortSignal; onProgress?: (fraction: number) => void; memo?: ClipMemo } = {},
): Promise<{ body: string; span: number }> {
  const span = moveSpan(plan.frames, plan.transition);
  const parts = partsOf(plan);
  const quality = plan.quality ?? "standard";
  const keyOf = (p: Part) => `${options.memo!.prefix}/${plan.motion}/${span}/${p.start}/${p.count}/${plan.width}x${plan.height}/${quality}`;
  const files: string[] = await Promise.all(parts.map(async (p) => (options.memo ? ((await options.memo.memo.get(keyOf(p))) ?? "") : "")));
  const missing = parts.filter((_, i) => !files[i]);
  const drawn = missing.reduce((s, p) => s + p.count, 0);
  let done = 0;
  for (const p of missing) {
    const out = join(dir, `part-${p.start}-${p.count}.mp4`);
    const progress = options.onProgress ? { onProgress: (s: number) => options.onProgress!(Math.min(1, (done + s * FPS) / drawn)) } : {};
    const filters = moveFilters(plan.motion, span, p.start, p.count, plan.width, plan.height);
    await runFfmpeg(ffmpeg, ["-i", plan.still, "-filter_complex", `[0]${filters}[v]`, "-map", "[v]", "-frames:v", String(p.count), ...videoEncodeArgs(quality), out], {
      ...(options.signal ? { signal: options.signal } : {}),
      ...progress,
    });
    done += p.count;
    files[parts.indexOf(p)] = out;
    if (options.memo) {
      const copy = `${out}.memo`;
      await copyFile(out, copy);
      await options.memo.memo.put(keyOf(p), copy);
    }
  }
  const body = join(dir, "clip-body.mp4");
  if (files.length === 1) await copyFile(files[0]!, body);
  else {
    const list = join(dir, "body.txt");
    await writeFile(list, files.map((f, n) => `file '${f.replace(/'/g, "'\\''")}'\nduration ${(parts[n]!.count / FPS).toFixed(6)}`).join("\n") + "\n");
    await runFfmpeg(ffmpeg, ["-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-fflags", "+bitexact", body], options.signal ? { signal: options.signal } : {});
  }
  return { body, span };
}
