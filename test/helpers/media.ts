import { spawnSync } from "node:child_process";
import sharp from "sharp";
import { locateFfmpeg } from "../../src/render/local/ffmpeg.js";

export const ffmpeg = () => locateFfmpeg().path;

export interface Probe {
  durationSeconds: number;
  video?: { codec: string; pixelFormat: string; width: number; height: number; fps: number };
  audio?: { codec: string; sampleRate: number };
}

/** What `ffmpeg -i` says of a file (the bundled ffmpeg comes without ffprobe). */
export function probe(file: string): Probe {
  const out = spawnSync(ffmpeg(), ["-hide_banner", "-i", file], { encoding: "utf8" }).stderr;
  const d = /Duration: (\d+):(\d+):([\d.]+)/.exec(out);
  const v = /Stream #\S+: Video: (\w+)[^,]*, (\w+)(?:\([^)]*\))?, (\d+)x(\d+)[^\n]*?, ([\d.]+) fps/.exec(out);
  const a = /Stream #\S+: Audio: (\w+)[^,]*, (\d+) Hz/.exec(out);
  const result: Probe = { durationSeconds: d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : NaN };
  if (v) result.video = { codec: v[1]!, pixelFormat: v[2]!, width: Number(v[3]), height: Number(v[4]), fps: Number(v[5]) };
  if (a) result.audio = { codec: a[1]!, sampleRate: Number(a[2]) };
  return result;
}

/** The number of video frames, counted by reading the stream. */
export function countFrames(file: string): number {
  const out = spawnSync(ffmpeg(), ["-hide_banner", "-i", file, "-map", "0:v:0", "-c", "copy", "-f", "null", "-"], { encoding: "utf8" }).stderr;
  const all = [...out.matchAll(/frame=\s*(\d+)/g)];
  return Number(all.at(-1)?.[1] ?? NaN);
}

/** Integrated loudness in LUFS, measured with ffmpeg's ebur128 filter. */
export function integratedLoudness(file: string): number {
  const out = spawnSync(ffmpeg(), ["-hide_banner", "-nostats", "-i", file, "-map", "0:a:0", "-af", "ebur128", "-f", "null", "-"], { encoding: "utf8" }).stderr;
  const summary = out.slice(out.lastIndexOf("Integrated loudness:"));
  return Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]);
}

/** One frame of a video as raw RGB pixels. */
export async function frameAt(file: string, index: "first" | "last"): Promise<{ width: number; height: number; data: Buffer }> {
  const args = index === "first" ? ["-i", file, "-frames:v", "1"] : ["-sseof", "-0.2", "-i", file, "-update", "1"];
  const out = spawnSync(ffmpeg(), ["-hide_banner", "-loglevel", "error", ...args, "-f", "image2pipe", "-vcodec", "png", "-"], { maxBuffer: 64 * 1024 * 1024 });
  const { data, info } = await sharp(out.stdout).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

/** Width and centre of the dark pixels of a frame: where the test pattern's square is, and how big. */
export function darkRegion(frame: { width: number; height: number; data: Buffer }): { width: number; height: number; cx: number; cy: number } {
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity, sx = 0, sy = 0, n = 0;
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const i = (y * frame.width + x) * 3;
      if (frame.data[i]! + frame.data[i + 1]! + frame.data[i + 2]! < 150) {
        minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
        sx += x; sy += y; n++;
      }
    }
  }
  return { width: maxX - minX + 1, height: maxY - minY + 1, cx: sx / n, cy: sy / n };
}

/**
 * SSIM of a video against frames drawn by an ffmpeg filter graph from a
 * still (the same pictures before compression): overall, and the worst frame.
 * The graph reads the still at pad [1] and draws to [ref].
 */
export function ssimAgainst(video: string, still: string, graph: string): { all: number; worst: number } {
  const out = spawnSync(
    ffmpeg(),
    ["-hide_banner", "-nostats", "-i", video, "-i", still, "-filter_complex", `${graph};[0][ref]ssim=stats_file=-`, "-f", "null", "-"],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  const frames = [...out.stdout.matchAll(/All:([\d.]+)/g)].map((m) => Number(m[1]));
  const all = Number(/SSIM .*All:([\d.]+)/.exec(out.stderr)?.[1]);
  return { all, worst: frames.length ? Math.min(...frames) : NaN };
}
