import { readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import sharp from "sharp";
import { runFfmpeg } from "./ffmpeg.js";
import { integratedLoudness } from "./loudness.js";
import { applyGainLimited, duck } from "./mix.js";
import { FPS, NARRATION_LEAD_IN, videoEncodeArgs } from "./layout.js";
import { MUSIC_RATE } from "./music.js";
import { escapeXml } from "./stills.js";
import { splitCues, toSrt, toVtt, type Cue } from "./subtitles.js";
import { decodeWav, encodeWav, type Pcm } from "./wav.js";
import type { Memo } from "../types.js";

export interface ComposeScene {
  label: string;
  frames: number;
  head?: string;
  body: string;
  tail?: string;
  still: string;
  narration: string;
  narrationText: string;
}

export interface ComposePlan {
  width: number;
  height: number;
  transition: number;
  title?: { frames: number; body: string; tail?: string; still: string };
  music?: string;
  scenes: ComposeScene[];
}

export const LOUDNESS_TARGET = -16;

/**
 * The final video: segments joined by stream copy (only crossfades are
 * encoded here), narration placed at each scene's start, music looped and
 * ducked under the narration, loudness brought to -16 LUFS, and subtitles, a poster and a contact sheet beside it.
 * Pictures, sound and stills are independent until the last mux, so they are
 * made side by side.
 */
export async function composeVideo(
  ffmpeg: string,
  plan: ComposePlan,
  dir: string,
  memo: Memo,
  signal?: AbortSignal,
  progress?: (f: number, m: string) => void,
): Promise<Array<{ name: string; path: string }>> {
  const opts = signal ? { signal } : {};
  const timeline = layOut(plan, dir);
  progress?.(0.05, "crossfades and sound");
  const poster = join(dir, "video-poster.jpg");
  const sheet = join(dir, "video-contact-sheet.png");
  const [joined, sound] = await Promise.all([
    joinPictures(ffmpeg, plan, timeline, dir, memo, opts),
    mixSound(plan, timeline, dir),
    sharp(plan.scenes[0]!.still).resize(plan.width, plan.height, { fit: "cover" }).jpeg({ quality: 86 }).toFile(poster),
    contactSheet(plan.scenes, plan.width, plan.height, sheet),
  ]);

  progress?.(0.6, "encoding sound and muxing");
  const video = join(dir, "video.mp4");
  await runFfmpeg(
    ffmpeg,
    [
      ...["-i", joined, "-i", sound.mix, "-map", "0:v", "-map", "1:a", "-c:v", "copy"],
      // The mix is mono (one narrator, a mono bed): a mono AAC track carries all of it, and at 96 kb/s
      // (as good as 192 kb/s stereo) it encodes in a third of the time of the stereo track at 160.
      // Formats are stated, not negotiated, so that every ffmpeg from 4.1 to 7 builds the same graph.
      ...["-af", "aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=mono", "-c:a", "aac", "-b:a", "96k"],
      ...["-t", timeline.seconds.toFixed(3), "-movflags", "+faststart", "-fflags", "+bitexact", "-flags:a", "+bitexact", video],
    ],
    opts,
  );

  const srt = join(dir, "video.srt");
  const vtt = join(dir, "video.vtt");
  // A narration is split into readable cues (two short lines, a few seconds each) timed within it.
  const cues = sound.cues.flatMap(splitCues);
  await writeFile(srt, toSrt(cues));
  await writeFile(vtt, toVtt(cues));
  return [
    { name: "video.mp4", path: video },
    { name: "video.srt", path: srt },
    { name: "video.vtt", path: vtt },
    { name: "video-poster.jpg", path: poster },
    { name: "video-contact-sheet.png", path: sheet },
  ];
}

interface Crossfade {
  from: string;
  to: string;
  out: string;
  /** Its place among the segments. */
  index: number;
}

interface Timeline {
  /** The files joined in order; a crossfade's place holds its output path until it is made or found. */
  segments: string[];
  /** Frames in each segment, to state each one's duration to the concat demuxer. */
  segmentFrames: number[];
  crossfades: Crossfade[];
  /** Each scene's first frame. */
  starts: number[];
  seconds: number;
}

function layOut(plan: ComposePlan, dir: string): Timeline {
  const segments: string[] = [];
  const segmentFrames: number[] = [];
  const starts: number[] = [];
  const crossfades: Crossfade[] = [];
  let frame = 0;
  let previousTail: string | undefined;
  if (plan.title) {
    segments.push(plan.title.body);
    segmentFrames.push(plan.title.frames);
    frame += plan.title.frames;
    previousTail = plan.title.tail;
  }
  for (const [i, scene] of plan.scenes.entries()) {
    starts.push(frame);
    if (scene.head) {
      if (previousTail) {
        const out = join(dir, `fade-${i}.mp4`);
        crossfades.push({ from: previousTail, to: scene.head, out, index: segments.length });
        segments.push(out);
        segmentFrames.push(plan.transition);
      } else {
        segments.push(scene.head);
        segmentFrames.push(plan.transition);
      }
    }
    segments.push(scene.body);
    segmentFrames.push(scene.head ? scene.frames - plan.transition : scene.frames);
    frame += scene.frames;
    previousTail = scene.tail;
  }
  return { segments, segmentFrames, crossfades, starts, seconds: frame / FPS };
}

/** The picture track: crossfades encoded (or found in the memo), then every segment joined by stream copy. */
async function joinPictures(ffmpeg: string, plan: ComposePlan, timeline: Timeline, dir: string, memo: Memo, opts: { signal?: AbortSignal }): Promise<string> {
  const segments = [...timeline.segments];
  const x = plan.transition;
  // A crossfade depends only on the two clips it joins (cached blobs named by their sha256):
  // after a one-scene edit only the two around that scene are encoded again.
  await inPool(timeline.crossfades, 2, async (c) => {
    const key = `local-crossfade/v1/${basename(c.from)}/${basename(c.to)}/${x}/${plan.width}x${plan.height}`;
    const known = await memo.get(key);
    if (known) {
      segments[c.index] = known;
      return;
    }
    await runFfmpeg(
      ffmpeg,
      [
        "-i",
        c.from,
        "-i",
        c.to,
        "-filter_complex",
        // An alpha fade of the incoming clip over the outgoing one: far cheaper than a per-pixel blend expression.
        `[1]format=yuva420p,fade=t=in:s=0:n=${x + 1}:alpha=1[in];[0][in]overlay=format=yuv420,format=yuv420p[v]`,
        "-map",
        "[v]",
        "-frames:v",
        String(x),
        ...videoEncodeArgs(),
        c.out,
      ],
      opts,
    );
    segments[c.index] = await memo.put(key, c.out);
  });
  const list = join(dir, "segments.txt");
  // Each segment's duration is stated: newer ffmpegs otherwise take it from the container and leave gaps between segments.
  const entries = segments.map((s, i) => `file '${s.replace(/'/g, "'\\''")}'\nduration ${(timeline.segmentFrames[i]! / FPS).toFixed(6)}`);
  await writeFile(list, entries.join("\n") + "\n");
  const joined = join(dir, "joined.mp4");
  await runFfmpeg(ffmpeg, ["-f", "concat", "-safe", "0", "-i", list, "-c", "copy", joined], opts);
  return joined;
}

/**
 * The sound track: narration placed at each scene's start, the music looped
 * under it with a fade at each end and ducked while the narration speaks,
 * then brought to the loudness target (EBU R128, measured here) with a
 * limiter against clipping. All in JS; ffmpeg only encodes the result.
 */
async function mixSound(plan: ComposePlan, timeline: Timeline, dir: string): Promise<{ mix: string; cues: Cue[] }> {
  const rate = MUSIC_RATE;
  const totalSeconds = timeline.seconds;
  const total = Math.round(totalSeconds * rate);
  const mix = new Float32Array(total);
  const cues: Cue[] = [];
  for (const [i, scene] of plan.scenes.entries()) {
    const pcm = resample(decodeWav(await readFile(scene.narration)), rate);
    const at = Math.round((timeline.starts[i]! / FPS + NARRATION_LEAD_IN) * rate);
    mix.set(pcm.samples.subarray(0, Math.max(0, total - at)), at);
    cues.push({ start: at / rate, end: Math.min(totalSeconds, (at + pcm.samples.length) / rate), text: scene.narrationText });
  }
  if (plan.music) {
    const loop = resample(decodeWav(await readFile(plan.music)), rate).samples;
    const bed = new Float32Array(total);
    const fadeIn = rate * 0.5;
    const fadeOut = rate * 1.5;
    for (let i = 0; i < total; i++) {
      const env = Math.min(1, i / fadeIn, (total - i) / fadeOut);
      bed[i] = 0.3 * env * (loop.length ? loop[i % loop.length]! : 0);
    }
    duck(bed, mix, rate);
    for (let i = 0; i < total; i++) mix[i]! += bed[i]!;
  }
  const loudness = integratedLoudness(mix, rate);
  const gain = Number.isFinite(loudness) ? LOUDNESS_TARGET - loudness : 0;
  const file = join(dir, "mix.wav");
  await writeFile(file, encodeWav({ sampleRate: rate, samples: applyGainLimited(mix, gain, rate) }));
  return { mix: file, cues };
}

/** Every scene's still in a grid, numbered, to review a story at a glance. */
async function contactSheet(scenes: readonly ComposeScene[], width: number, height: number, out: string): Promise<void> {
  const columns = Math.min(4, scenes.length);
  const thumbW = 320;
  const thumbH = Math.round((thumbW * height) / width);
  const labelH = 28;
  const pad = 12;
  const rows = Math.ceil(scenes.length / columns);
  const sheetW = columns * (thumbW + pad) + pad;
  const sheetH = rows * (thumbH + labelH + pad) + pad;
  const tiles = await Promise.all(
    scenes.map(async (scene, i) => {
      const left = pad + (i % columns) * (thumbW + pad);
      const top = pad + Math.floor(i / columns) * (thumbH + labelH + pad);
      const thumb = await sharp(scene.still).resize(thumbW, thumbH, { fit: "cover" }).png().toBuffer();
      const label = Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${thumbW}" height="${labelH}"><text x="4" y="20" font-family="DejaVu Sans, sans-serif" font-size="16" fill="#e8e8e8">${escapeXml(`${i + 1}. ${scene.label}`)}</text></svg>`,
      );
      return [
        { input: thumb, left, top },
        { input: label, left, top: top + thumbH },
      ];
    }),
  );
  await sharp({ create: { width: sheetW, height: sheetH, channels: 3, background: "#1b1c20" } })
    .composite(tiles.flat())
    .png()
    .toFile(out);
}

function resample(pcm: Pcm, rate: number): Pcm {
  if (pcm.sampleRate === rate) return pcm;
  const ratio = pcm.sampleRate / rate;
  const n = Math.floor(pcm.samples.length / ratio);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const pos = i * ratio;
    const j = Math.floor(pos);
    const f = pos - j;
    out[i] = (pcm.samples[j] ?? 0) * (1 - f) + (pcm.samples[j + 1] ?? pcm.samples[j] ?? 0) * f;
  }
  return { sampleRate: rate, samples: out };
}

async function inPool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}
