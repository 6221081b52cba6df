import type { AspectRatio } from "../../story/types.js";

export const FPS = 25;
/** Length of a crossfade, in frames (0.48 s). */
export const TRANSITION_FRAMES = 12;
/**
 * Scenes and the title last a multiple of this many frames (160 ms): the span
 * after which video frames and the sound track's AAC frames line up again
 * (see sound.ts), so that each scene's sound is a piece of its own.
 */
export const FRAME_ALIGN = 4;
/** A length in frames, rounded up to the alignment. */
export function alignFrames(frames: number): number {
  return Math.ceil(frames / FRAME_ALIGN) * FRAME_ALIGN;
}
/** Length of the title card, in frames (about 3 s). */
export const TITLE_FRAMES = alignFrames(3 * FPS);
/** Silence before a scene's narration starts, and after it ends, in seconds. */
export const NARRATION_LEAD_IN = 0.3;
export const NARRATION_TAIL = 0.5;

/** How the local renderer draws and encodes: `draft` trades pictures for speed in the edit loop. */
export type Quality = "standard" | "high" | "draft";

const SHORT_SIDE: Record<Quality, number> = { draft: 360, standard: 720, high: 1080 };

/** Frame size for an aspect ratio: the short side is 360 (draft), 720 (standard) or 1080 (high) pixels. */
export function frameSize(aspect: AspectRatio, quality: Quality): { width: number; height: number } {
  const short = SHORT_SIDE[quality];
  const [w, h] = aspect.split(":").map(Number) as [number, number];
  const even = (n: number) => Math.round(n / 2) * 2;
  return w >= h ? { width: even((short * w) / h), height: short } : { width: short, height: even((short * h) / w) };
}

/** Frames a scene lasts: its set duration, or its narration with a pause around it when that is longer, rounded up to the alignment. */
export function sceneFrames(durationSeconds: number, narrationSeconds: number): number {
  const seconds = Math.max(durationSeconds, NARRATION_LEAD_IN + narrationSeconds + NARRATION_TAIL);
  return alignFrames(Math.ceil(seconds * FPS));
}

/**
 * Threads of each x264 encoder: one, on every machine. x264's bitstream depends
 * on its thread count, which it would take from the machine's cores, and
 * Debian's x264 with frame threads now and then gives other bytes for the same
 * frames when the machine is busy (1 run in 8 with 3 threads, 2 in 8 with 2).
 * One thread is deterministic by construction; builds keep the cores busy by
 * running several encoders side by side.
 */
export const ENCODER_THREADS = 1;

/**
 * The x264 settings every segment shares, so that segments concatenate without
 * re-encoding. Tuned for what the frames are, stills and slow camera moves:
 * `stillimage` (stronger psychovisual and adaptive quantisation, which keeps
 * gradients from banding) and a diamond search with the cheapest subpixel
 * refinement, since a slow zoom or pan is not motion a wider search finds
 * better. Measured on a Ken Burns zoom: a third less CPU than plain veryfast,
 * SSIM 0.9954 against 0.9956, at CRF 23 as before. Macroblocks are not split
 * into smaller partitions: a slow move shifts a whole 16x16 block alike, so
 * the search for finer ones found nothing (the bunny's frames: a tenth less
 * CPU, the same size, SSIM 0.99759 against 0.99781). A draft takes the same
 * settings at a quarter of the pixels: x264's superfast preset, which it took
 * before, has no macroblock tree, and on the bunny's frames at 360p made a
 * file twice the size for 10% more CPU.
 */
export function videoEncodeArgs(): string[] {
  return [
    // Pinned (see ENCODER_THREADS): a laptop, CI and a farm worker make the same bytes for the same key.
    ...["-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-x264-params", "subme=1:me=dia:partitions=none", "-crf", "23", "-threads:v", String(ENCODER_THREADS)],
    ...["-pix_fmt", "yuv420p", "-profile:v", "high", "-r", String(FPS), "-g", String(FPS * 2), "-an"],
  ];
}
