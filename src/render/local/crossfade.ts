import { copyFile } from "node:fs/promises";
import { basename } from "node:path";
import { hashJson } from "../../graph/hash.js";
import type { Memo } from "../types.js";
import { runFfmpeg } from "./ffmpeg.js";
import { videoEncodeArgs } from "./layout.js";
import { moveFilters, type Motion } from "./motion.js";

/** A clip's camera move on its still, drawn from frame `start` of the move on. */
export interface MoveAt {
  still: string;
  motion: Motion;
  /** Frames the whole move spans (clip.ts moveSpan). */
  span: number;
  start: number;
}

export interface CrossfadePlan {
  /** The move faded out of; none before the first scene without a title card. */
  from?: MoveAt;
  to: MoveAt;
  frames: number;
  width: number;
  height: number;
}

export interface CrossfadeMemo {
  memo: Memo;
  /** What makes the bytes besides the moves and the size: the ffmpeg build, the x264 settings and how moves are drawn. */
  encoder: string;
}

/**
 * A crossfade from the end of one clip's move into the start of the next,
 * drawn from both stills, each moving as in its clip, the incoming one faded
 * in over the outgoing one (with nothing before, the next clip's first frames
 * alone). No clip encodes frames only to have them decoded here, and no clip
 * encodes a handle that nothing fades out of. Memoised by the two moves: an
 * edit that keeps both scenes' lengths (a reworded narration of the same
 * length) finds it.
 */
export async function encodeCrossfade(ffmpeg: string, plan: CrossfadePlan, out: string, options: { signal?: AbortSignal; memo?: CrossfadeMemo } = {}): Promise<void> {
  const named = (m: MoveAt | undefined) => (m ? [basename(m.still), m.motion, m.span, m.start] : null);
  const key = options.memo && `local-crossfade/v4/${options.memo.encoder}/${hashJson([named(plan.from), named(plan.to)])}/${plan.frames}/${plan.width}x${plan.height}`;
  const known = key ? await options.memo!.memo.get(key) : null;
  if (known) {
    await copyFile(known, out);
    return;
  }
  const inputs: string[] = [];
  const draw = (m: MoveAt, output: string) => {
    inputs.push("-i", m.still);
    return moveFilters(m.motion, m.span, m.start, plan.frames, plan.width, plan.height, String(inputs.length / 2 - 1), output);
  };
  // An alpha fade of the incoming clip over the outgoing one: far cheaper than a per-pixel blend expression.
  const graph = plan.from
    ? `${draw(plan.from, "out")};${draw(plan.to, "next")};[next]format=yuva420p,fade=t=in:s=0:n=${plan.frames + 1}:alpha=1[in];[out][in]overlay=format=yuv420,format=yuv420p[v]`
    : draw(plan.to, "v");
  await runFfmpeg(ffmpeg, [...inputs, "-filter_complex", graph, "-map", "[v]", "-frames:v", String(plan.frames), ...videoEncodeArgs(), out], options.signal ? { signal: options.signal } : {});
  if (key) {
    // The node's outputs are moved into the cache; the memo keeps a copy of its own.
    const copy = `${out}.memo`;
    await copyFile(out, copy);
    await options.memo!.memo.put(key, copy);
  }
}
