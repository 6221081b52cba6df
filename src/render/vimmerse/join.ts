import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { FfmpegError, runFfmpeg } from "../local/ffmpeg.js";
import { ENCODER_THREADS, FPS, TRANSITION_FRAMES } from "../local/layout.js";
import type { Memo } from "../types.js";
import { inPool } from "../in-pool.js";

/** The join's sound: the rate and layout every clip's audio is brought to, and the level the whole is brought to. */
export const JOIN_RATE = 48000;
const SAMPLES_PER_FRAME = JOIN_RATE / FPS;
const LOUDNESS = "I=-16:TP=-1.5:LRA=11";
/** The music under the clips' own sound, before the narration ducks it. */
const BED_LEVEL = 0.3;
const AUDIO_FORMAT = `aformat=sample_fmts=fltp:sample_rates=${JOIN_RATE}:channel_layouts=stereo`;

export interface JoinPlan {
  /** The scene clips in play order: cached files whose names are their sha256. */
  clips: string[];
  /** The music, looped under the clips' sound. */
  music?: string;
  width: number;
  height: number;
  /** What identifies the ffmpeg build, for the memo of clip probes. */
  encoder: string;
}

/** A clip as the join sees it: its length at FPS once normalised, and whether it has sound. */
export interface ClipShape {
  frames: number;
  audio: boolean;
}

/** A join that ffmpeg could not make, with what the user can do about it. */
export class JoinError extends Error {
  readonly hint = "build again with --force video to retry the join; if a clip is at fault, --force its scene's clip, or write transitions: cut to let the Story API join the clips";
}

export interface Joined {
  file: string;
  frames: number;
  seconds: number;
}

/**
 * Joins cloud clips into the final video with crossfades: each clip normalised
 * to one size, FPS and sound format (silence where a clip has none), cut into
 * head, body and tail, each tail crossfaded into the next head (an alpha fade
 * over it: ffmpeg 4.1 has no xfade), the pieces concatenated; the sound
 * crossfaded alike, the music looped under it and ducked by it, the whole
 * brought to -16 LUFS. Every format is stated so that newer ffmpegs negotiate
 * the same graph, and the output carries no metadata, clock or path: the same
 * clips and ffmpeg give the same bytes.
 *
 * Pictures and sound are made by two processes side by side, then muxed by
 * stream copy: in one graph the sound's crossfades read every clip ahead of
 * the pictures, and each clip's decoded frames waited in memory (about 160 MB
 * per 1080p clip); apart, the pictures' graph decodes a clip when it is shown.
 */
export async function joinCrossfade(ffmpeg: string, plan: JoinPlan, dir: string, memo: Memo, options: { signal?: AbortSignal; progress?: (fraction: number) => void } = {}): Promise<Joined> {
  try {
    return await joinPasses(ffmpeg, plan, dir, memo, options);
  } catch (error) {
    if (error instanceof FfmpegError) throw new JoinError(`joining the clips with crossfades failed: ${error.message}`);
    throw error;
  }
}

async function joinPasses(ffmpeg: string, plan: JoinPlan, dir: string, memo: Memo, options: { signal?: AbortSignal; progress?: (fraction: number) => void }): Promise<Joined> {
  if (plan.clips.length === 0) throw new FfmpegError("there are no clips to join");
  const opts = options.signal ? { signal: options.signal } : {};
  const shapes = await inPool(plan.clips, 2, (clip) => clipShape(ffmpeg, clip, plan.encoder, dir, memo, options.signal));
  const fades = shapes.slice(1).map((s, i) => Math.min(TRANSITION_FRAMES, Math.floor((shapes[i]!.frames - 1) / 2), Math.floor((s.frames - 1) / 2)));
  const frames = shapes.reduce((sum, s) => sum + s.frames, 0) - fades.reduce((sum, x) => sum + x, 0);
  const picture = join(dir, "picture.mp4");
  const sound = join(dir, "sound.m4a");
  const bitexact = ["-map_metadata", "-1", "-map_chapters", "-1", "-flags", "+bitexact", "-fflags", "+bitexact"];
  await Promise.all([
    runFfmpeg(
      ffmpeg,
      [
        // One decoding thread per clip: a clip is decoded only while it is shown, and frame threads would hold more frames per clip.
        ...plan.clips.flatMap((c) => ["-threads", "1", "-i", c]),
        ...["-filter_complex", pictureGraph(plan, shapes, fades), "-map", "[vout]", "-an"],
        // x264's threads are pinned, as the local renderer's are (see ENCODER_THREADS).
        ...["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-threads:v", String(ENCODER_THREADS), "-pix_fmt", "yuv420p", "-profile:v", "high", "-r", String(FPS), "-g", String(FPS * 2)],
        ...bitexact,
        picture,
      ],
      { ...opts, ...(options.progress ? { onProgress: (s: number) => options.progress!(Math.min(0.95, (s * FPS) / frames)) } : {}) },
    ),
    runFfmpeg(
      ffmpeg,
      [
        ...plan.clips.flatMap((c) => ["-i", c]),
        ...(plan.music ? ["-stream_loop", "-1", "-i", plan.music] : []),
        ...["-filter_complex", soundGraph(plan, shapes, fades, frames), "-map", "[aout]", "-vn"],
        ...["-c:a", "aac", "-b:a", "160k", "-ar", String(JOIN_RATE), "-ac", "2"],
        ...bitexact,
        ...["-f", "mp4", sound],
      ],
      opts,
    ),
  ]);
  const out = join(dir, "video.mp4");
  await runFfmpeg(ffmpeg, ["-i", picture, "-i", sound, "-map", "0:v", "-map", "1:a", "-c", "copy", ...bitexact, "-movflags", "+faststart", out], opts);
  options.progress?.(1);
  return { file: out, frames, seconds: frames / FPS };
}

function pictureGraph(plan: JoinPlan, shapes: ClipShape[], fades: number[]): string {
  const { width, height } = plan;
  const parts: string[] = [];
  const segments: string[] = [];
  for (const [i, shape] of shapes.entries()) {
    const head = i > 0 ? fades[i - 1]! : 0;
    const tail = i < shapes.length - 1 ? fades[i]! : 0;
    const outs = [head ? `[h${i}]` : "", `[b${i}]`, tail ? `[t${i}]` : ""].filter(Boolean);
    // Fitted inside the frame, centred on black: a clip of another shape keeps its own.
    const fit = `scale=w='if(gt(a,${width}/${height}),${width},-2)':h='if(gt(a,${width}/${height}),-2,${height})',pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:color=black`;
    parts.push(`[${i}:v:0]setpts=PTS-STARTPTS,fps=${FPS},${fit},setsar=1,format=yuv420p,trim=end_frame=${shape.frames}${outs.length > 1 ? `,split=${outs.length}` : ""}${outs.join("")}`);
    if (head) parts.push(`[h${i}]trim=end_frame=${head},setpts=PTS-STARTPTS,format=yuva420p,fade=t=in:s=0:n=${head + 1}:alpha=1[in${i}]`);
    parts.push(`[b${i}]trim=start_frame=${head}:end_frame=${shape.frames - tail},setpts=PTS-STARTPTS[body${i}]`);
    if (tail) parts.push(`[t${i}]trim=start_frame=${shape.frames - tail},setpts=PTS-STARTPTS[out${i}]`);
    if (head) {
      parts.push(`[out${i - 1}][in${i}]overlay=format=yuv420,format=yuv420p[x${i}]`);
      segments.push(`[x${i}]`);
    }
    segments.push(`[body${i}]`);
  }
  parts.push(`${segments.join("")}concat=n=${segments.length}:v=1:a=0,format=yuv420p[vout]`);
  return parts.join(";");
}

function soundGraph(plan: JoinPlan, shapes: ClipShape[], fades: number[], frames: number): string {
  const parts: string[] = [];
  const sounds: string[] = [];
  for (const [i, shape] of shapes.entries()) {
    const samples = shape.frames * SAMPLES_PER_FRAME;
    const source = shape.audio ? `[${i}:a:0]asetpts=PTS-STARTPTS,aresample=${JOIN_RATE},${AUDIO_FORMAT}` : `anullsrc=channel_layout=stereo:sample_rate=${JOIN_RATE},${AUDIO_FORMAT}`;
    parts.push(`${source},apad,atrim=end_sample=${samples}[a${i}]`);
    sounds.push(`[a${i}]`);
  }
  let speech = sounds[0]!;
  for (let i = 1; i < sounds.length; i++) {
    parts.push(`${speech}${sounds[i]}acrossfade=ns=${fades[i - 1]! * SAMPLES_PER_FRAME}:c1=tri:c2=tri[s${i}]`);
    speech = `[s${i}]`;
  }
  const total = frames * SAMPLES_PER_FRAME;
  const seconds = frames / FPS;
  let mixed = speech;
  if (plan.music) {
    const fadeOut = Math.max(0, seconds - 1).toFixed(3);
    parts.push(`${speech}asplit=2[speech][key]`);
    parts.push(`[${shapes.length}:a:0]asetpts=PTS-STARTPTS,aresample=${JOIN_RATE},${AUDIO_FORMAT},atrim=end_sample=${total},volume=${BED_LEVEL},afade=t=in:d=0.5,afade=t=out:st=${fadeOut}:d=1[bed]`);
    // The narration ducks the music: it stays under the voice instead of competing with it.
    parts.push(`[bed][key]sidechaincompress=threshold=0.03:ratio=6:attack=20:release=400[ducked]`);
    parts.push(`[speech][ducked]amix=inputs=2:duration=first:dropout_transition=0,${AUDIO_FORMAT}[mixed]`);
    mixed = "[mixed]";
  }
  // Padded before the loudness filter, which looks three seconds ahead, then cut to the picture's length.
  parts.push(`${mixed}apad,loudnorm=${LOUDNESS},aresample=${JOIN_RATE},${AUDIO_FORMAT},atrim=end_sample=${total},asetpts=PTS-STARTPTS[aout]`);
  return parts.join(";");
}

/**
 * A clip's length in frames at FPS and whether it has sound, found by decoding
 * it through the same filters the join uses (a cloud clip's container may say
 * otherwise), and memoised by the clip's bytes and the ffmpeg build.
 */
async function clipShape(ffmpeg: string, clip: string, encoder: string, dir: string, memo: Memo, signal?: AbortSignal): Promise<ClipShape> {
  const key = `vimmerse-clip-shape/v1/${encoder}/${basename(clip)}`;
  const known = await memo.get(key);
  if (known) return JSON.parse(await readFile(known, "utf8")) as ClipShape;
  const { stdout, stderr } = await capture(ffmpeg, ["-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", "-i", clip, "-map", "0:v:0", "-vf", `setpts=PTS-STARTPTS,fps=${FPS}`, "-f", "null", "-"], signal);
  const frames = Number([...stdout.matchAll(/^frame=(\d+)$/gm)].at(-1)?.[1] ?? NaN);
  if (!Number.isFinite(frames) || frames < 1) throw new FfmpegError(`${basename(clip)} has no video frames ffmpeg can read`);
  const shape: ClipShape = { frames, audio: /Stream #0:\d+.*: Audio: /.test(stderr) };
  const file = join(dir, `shape-${basename(clip)}.json`);
  await writeFile(file, JSON.stringify(shape));
  await memo.put(key, file);
  return shape;
}

/** Runs ffmpeg for what it prints at the default log level (runFfmpeg keeps it to errors). */
function capture(ffmpeg: string, args: string[], signal?: AbortSignal): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const child = spawn(ffmpeg, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 256_000) stderr = stderr.slice(0, 128_000);
    });
    const onAbort = () => child.kill("SIGTERM");
    signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (error) => reject(new FfmpegError(`ffmpeg could not start: ${error.message}`)));
    child.on("close", (code) => {
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
      if (code === 0) return resolve({ stdout, stderr });
      reject(new FfmpegError(`ffmpeg could not read a clip (exit ${code}): ${stderr.trim().split("\n").slice(-2).join(" / ")}`));
    });
  });
}
