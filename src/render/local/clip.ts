import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import type { Memo, SlotRequest } from "../types.js";
import { runFfmpeg } from "./ffmpeg.js";
import { FPS, videoEncodeArgs } from "./layout.js";
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
  /** Names everything the pictures are made from but the frames, motion and size: ffmpeg build, x264 settings, how moves are drawn, still. */
  prefix: string;
}

/** One keyframe-started piece of a clip's body, as a file of its own. */
export interface ClipPiece {
  path: string;
  frames: number;
}

/**
 * Encodes the body of a scene's clip: its still with its camera motion, from
 * the end of the crossfade into it to its last frame. Each missing piece is
 * encoded by an ffmpeg run of its own (an encoder and its frames cost a
 * hundred MB at 720p), in the node's job slot, one after the other; with
 * `extraSlot` the engine may lend a second slot, which encodes the pieces
 * left beside it (an edit that moves the clip's end past a chunk boundary
 * changes its whole move: its pieces then take half the time). The pieces
 * stay files of their own, `clip-1.mp4`, `clip-2.mp4`: the video joins every
 * segment by stream copy anyway, so joining them here would only cost a
 * process and a copy of the clip.
 */
export async function encodeClip(
  ffmpeg: string,
  plan: ClipPlan,
  dir: string,
  options: { signal?: AbortSignal; onProgress?: (fraction: number) => void; memo?: ClipMemo; extraSlot?: () => SlotRequest } = {},
): Promise<{ pieces: ClipPiece[]; span: number }> {
  const span = moveSpan(plan.frames, plan.transition);
  const parts = partsOf(plan);
  const keyOf = (p: Part) => `${options.memo!.prefix}/${plan.motion}/${span}/${p.start}/${p.count}/${plan.width}x${plan.height}`;
  const found: string[] = await Promise.all(parts.map(async (p) => (options.memo ? ((await options.memo.memo.get(keyOf(p))) ?? "") : "")));
  const drawn = parts.reduce((s, p, i) => s + (found[i] ? 0 : p.count), 0);
  const pieces = parts.map((p, i) => ({ path: join(dir, `clip-${i + 1}.mp4`), frames: p.count }));
  // Found pieces are copied: the node's outputs are moved into the cache, the memo keeps its own.
  await Promise.all(parts.map((_, i) => (found[i] ? copyFile(found[i]!, pieces[i]!.path) : undefined)));
  const missing = parts.flatMap((p, i) => (found[i] ? [] : [{ part: p, out: pieces[i]!.path }]));
  // Frames encoded so far, by missing piece: two pieces may be encoding at once.
  const encoded = missing.map(() => 0);
  const encode = async ({ part, out }: { part: Part; out: string }, index: number) => {
    const report = (frames: number) => {
      encoded[index] = frames;
      options.onProgress?.(Math.min(1, encoded.reduce((a, b) => a + b, 0) / drawn));
    };
    const progress = options.onProgress ? { onProgress: (s: number) => report(Math.min(part.count, s * FPS)) } : {};
    const filters = moveFilters(plan.motion, span, part.start, part.count, plan.width, plan.height, "0", "v");
    await runFfmpeg(ffmpeg, ["-i", plan.still, "-filter_complex", filters, "-map", "[v]", "-frames:v", String(part.count), ...videoEncodeArgs(), out], {
      ...(options.signal ? { signal: options.signal } : {}),
      ...progress,
    });
    if (options.onProgress) report(part.count);
    if (options.memo) {
      const copy = `${out}.memo`;
      await copyFile(out, copy);
      await options.memo.memo.put(keyOf(part), copy);
    }
  };
  // Each slot takes the next missing piece until none is left; a failure leaves none for the other.
  const queue = missing.map((piece, index) => ({ piece, index }));
  const work = async () => {
    try {
      for (let next = queue.shift(); next; next = queue.shift()) await encode(next.piece, next.index);
    } catch (error) {
      queue.length = 0;
      throw error;
    }
  };
  const lent = missing.length > 1 ? options.extraSlot?.() : undefined;
  // The lent slot's work settles to its failure, if any: it may fail while the node's own slot still
  // encodes, and a rejection nothing waits for yet would end the process.
  let beside: Promise<{ error: unknown } | undefined> | undefined;
  void lent?.granted.then(() => {
    beside = work().then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
  });
  let failure: { error: unknown } | undefined;
  try {
    await work();
  } catch (error) {
    failure = { error };
  }
  // The node's own slot found nothing left: an encode in the lent slot is waited for, a slot not yet lent is withdrawn.
  try {
    failure ??= await beside;
  } finally {
    lent?.release();
  }
  if (failure) throw failure.error;
  return { pieces, span };
}
