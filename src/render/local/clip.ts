import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Memo } from "../types.js";
import { runFfmpeg } from "./ffmpeg.js";
import { FPS, videoEncodeArgs, type Quality } from "./layout.js";
import { zoompanExpressions, type Motion } from "./motion.js";

export interface ClipPlan {
  still: string;
  width: number;
  height: number;
  motion: Motion;
  /** Frames the scene is on screen. */
  frames: number;
  /** Frames of each crossfade (0 for cuts): the clip gets a head of this length and a tail after its end. */
  transition: number;
  /** Whether something fades into this clip (a title card has nothing before it, so no head). */
  head?: boolean;
  /** The encoder's settings (layout.ts); standard when absent. */
  quality?: Quality;
}

export interface ClipFiles {
  head?: string;
  body: string;
  tail?: string;
}

/**
 * Clips are drawn and encoded in pieces of CHUNK_FRAMES frames (1 s), each
 * starting on a keyframe at a multiple of CHUNK_FRAMES from the clip's start.
 * The camera's move spans the clip's length rounded up to a whole chunk, so
 * that a scene made a little longer or shorter (its narration edited) keeps
 * the same move: its earlier pieces are found in the memo and only the last
 * piece and the tail are encoded again. The move then ends within a second
 * of its full range, which a slow Ken Burns move does not show.
 */
export const CHUNK_FRAMES = 2 * FPS;

interface Part {
  /** First frame, counted from the clip's start. */
  start: number;
  count: number;
  role: "head" | "body" | "tail";
}

/** The pieces a clip is drawn in: head, body cut at whole chunks, tail. */
function partsOf(plan: ClipPlan): Part[] {
  const withHead = plan.transition > 0 && (plan.head ?? true);
  const parts: Part[] = [];
  if (withHead) parts.push({ start: 0, count: plan.transition, role: "head" });
  // Two pieces of body: up to the last whole chunk, then the rest. An edit that moves the end
  // within its chunk keeps the first; few pieces keep the keyframes (and encoders) few.
  const from = withHead ? plan.transition : 0;
  const cut = Math.floor((plan.frames - 1) / CHUNK_FRAMES) * CHUNK_FRAMES;
  if (cut > from) parts.push({ start: from, count: cut - from, role: "body" });
  parts.push({ start: Math.max(from, cut), count: plan.frames - Math.max(from, cut), role: "body" });
  if (plan.transition > 0) parts.push({ start: plan.frames, count: plan.transition, role: "tail" });
  return parts;
}

export interface ClipMemo {
  memo: Memo;
  /** Names everything the pictures are made from but the frames, motion, size and quality: ffmpeg build, still. */
  prefix: string;
}

/**
 * Encodes a scene's still with its camera motion. With crossfades the clip
 * runs `transition` frames past its end (a handle, as editors say): it comes
 * as head, body and tail, so that the video joins untouched bodies by stream
 * copy and re-encodes only the short crossfades between them. The missing
 * pieces are encoded one encoder per ffmpeg run; the body's pieces are then
 * joined by stream copy.
 */
export async function encodeClip(
  ffmpeg: string,
  plan: ClipPlan,
  dir: string,
  options: { signal?: AbortSignal; onProgress?: (fraction: number) => void; memo?: ClipMemo } = {},
): Promise<ClipFiles> {
  const total = plan.frames + plan.transition;
  const span = Math.ceil(total / CHUNK_FRAMES) * CHUNK_FRAMES;
  const parts = partsOf(plan);
  const quality = plan.quality ?? "standard";
  const keyOf = (p: Part) => `${options.memo!.prefix}/${plan.motion}/${span}/${p.start}/${p.count}/${plan.width}x${plan.height}/${quality}`;
  const files: string[] = await Promise.all(parts.map(async (p) => (options.memo ? ((await options.memo.memo.get(keyOf(p))) ?? "") : "")));
  const missing = parts.map((p, i) => ({ p, i })).filter(({ i }) => !files[i]);
  if (missing.length) {
    // Twice the frame size in, so that slow moves advance by half pixels instead of jumping whole ones.
    // The still is converted to yuv420p once, before the move: zoompan then scales 1.5 bytes a pixel
    // instead of 4 for every frame (a quarter less CPU in the filter, the same pictures).
    const still = plan.motion === "static" ? `[0]scale=${plan.width}:${plan.height},format=yuv420p` : `[0]scale=${plan.width * 2}:${plan.height * 2},format=yuv420p`;
    const drawn = missing.reduce((s, m) => s + m.p.count, 0);
    let done = 0;
    // One process per piece, each with one encoder: an encoder and its frames cost a hundred MB at
    // 720p, so a cold build (every piece missing) encodes them one after the other, as one encode
    // would; an edit's one or two pieces are encoded side by side, one per core.
    await inPool(missing, missing.length <= 2 ? 2 : 1, async ({ p, i }) => {
      const chain =
        plan.motion === "static"
          ? `loop=loop=${p.count - 1}:size=1:start=0,setpts=N/${FPS}/TB`
          : (({ z, x, y }) => `zoompan=z='${z}':x='${x}':y='${y}':d=${p.count}:s=${plan.width}x${plan.height}:fps=${FPS},format=yuv420p`)(zoompanExpressions(plan.motion, span, p.start));
      const out = join(dir, `part-${p.start}-${p.count}.mp4`);
      const progress = options.onProgress ? { onProgress: (s: number) => options.onProgress!(Math.min(1, (done + s * FPS) / drawn)) } : {};
      await runFfmpeg(ffmpeg, ["-i", plan.still, "-filter_complex", `${still},${chain}[v]`, "-map", "[v]", "-frames:v", String(p.count), ...videoEncodeArgs(quality), out], {
        ...(options.signal ? { signal: options.signal } : {}),
        ...progress,
      });
      done += p.count;
      files[i] = out;
    });
    if (options.memo) {
      for (const { p, i } of missing) {
        const copy = `${files[i]}.memo`;
        await copyFile(files[i]!, copy);
        await options.memo.memo.put(keyOf(p), copy);
      }
    }
  }
  const pick = (role: Part["role"]) => parts.flatMap((p, i) => (p.role === role ? [files[i]!] : []));
  const bodies = pick("body");
  const body = join(dir, "clip-body.mp4");
  if (bodies.length === 1) await copyFile(bodies[0]!, body);
  else {
    const list = join(dir, "body.txt");
    const counts = parts.filter((p) => p.role === "body").map((p) => p.count);
    await writeFile(list, bodies.map((f, n) => `file '${f.replace(/'/g, "'\\''")}'\nduration ${(counts[n]! / FPS).toFixed(6)}`).join("\n") + "\n");
    await runFfmpeg(ffmpeg, ["-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-fflags", "+bitexact", body], options.signal ? { signal: options.signal } : {});
  }
  const copyTo = async (role: "head" | "tail") => {
    const [file] = pick(role);
    if (!file) return undefined;
    const out = join(dir, `clip-${role}.mp4`);
    await copyFile(file, out);
    return out;
  };
  const head = await copyTo("head");
  const tail = await copyTo("tail");
  return { body, ...(head ? { head } : {}), ...(tail ? { tail } : {}) };
}

async function inPool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}
