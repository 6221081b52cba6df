import { join } from "node:path";
import { runFfmpeg } from "./ffmpeg.js";
import { FPS, videoEncodeArgs } from "./layout.js";
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
}

export interface ClipFiles {
  head?: string;
  body: string;
  tail?: string;
}

/**
 * Encodes a scene's still with its camera motion. With crossfades the clip
 * runs `transition` frames past its end (a handle, as editors say) and is cut,
 * in the same encode, into head, body and tail at forced keyframes, so that
 * the video joins untouched bodies by stream copy and re-encodes only the
 * short crossfades between them.
 */
export async function encodeClip(ffmpeg: string, plan: ClipPlan, dir: string, options: { signal?: AbortSignal; onProgress?: (fraction: number) => void } = {}): Promise<ClipFiles> {
  const total = plan.frames + plan.transition;
  const { z, x, y } = zoompanExpressions(plan.motion, total);
  // Twice the frame size in, so that slow moves advance by half pixels instead of jumping whole ones.
  // The still is converted to yuv420p once, before the move: zoompan then scales 1.5 bytes a pixel
  // instead of 4 for every frame (a quarter less CPU in the filter, the same pictures).
  const filter =
    plan.motion === "static"
      ? `[0]scale=${plan.width}:${plan.height},format=yuv420p,loop=loop=${total - 1}:size=1:start=0,setpts=N/${FPS}/TB[v]`
      : `[0]scale=${plan.width * 2}:${plan.height * 2},format=yuv420p,zoompan=z='${z}':x='${x}':y='${y}':d=${total}:s=${plan.width}x${plan.height}:fps=${FPS},format=yuv420p[v]`;
  const common = ["-i", plan.still, "-filter_complex", filter, "-map", "[v]", "-frames:v", String(total), ...videoEncodeArgs()];
  const progress = options.onProgress ? { onProgress: (s: number) => options.onProgress!(Math.min(1, (s * FPS) / total)) } : {};
  if (plan.transition === 0) {
    const body = join(dir, "clip-body.mp4");
    await runFfmpeg(ffmpeg, [...common, "-movflags", "+faststart", body], { ...(options.signal ? { signal: options.signal } : {}), ...progress });
    return { body };
  }
  const withHead = plan.head ?? true;
  const cuts = withHead ? [plan.transition, plan.frames] : [plan.frames];
  await runFfmpeg(
    ffmpeg,
    [
      ...common,
      "-force_key_frames",
      `expr:${cuts.map((c) => `eq(n,${c})`).join("+")}`,
      "-f",
      "segment",
      "-segment_frames",
      cuts.join(","),
      "-reset_timestamps",
      "1",
      "-segment_format",
      "mp4",
      join(dir, "part%d.mp4"),
    ],
    { ...(options.signal ? { signal: options.signal } : {}), ...progress },
  );
  return withHead
    ? { head: join(dir, "part0.mp4"), body: join(dir, "part1.mp4"), tail: join(dir, "part2.mp4") }
    : { body: join(dir, "part0.mp4"), tail: join(dir, "part1.mp4") };
}
