import { chmod, copyFile, readFile, writeFile } from "node:fs/promises";
import { hashJson } from "../../graph/hash.js";
import { basename, join } from "node:path";
import sharp from "sharp";
import { runFfmpeg } from "./ffmpeg.js";
import { FPS, NARRATION_LEAD_IN } from "./layout.js";
import type { ClipPiece } from "./clip.js";
import { escapeXml } from "./stills.js";
import { splitCues, toSrt, toVtt, type Cue } from "./subtitles.js";
import type { Memo } from "../types.js";
import { inPool } from "../in-pool.js";

export interface ComposeScene {
  label: string;
  frames: number;
  /** The crossfade into the scene, when scenes crossfade (crossfade.ts). */
  fade?: ClipPiece;
  /** The clip from the end of the crossfade into it (or from its start after a cut), in its pieces. */
  pieces: ClipPiece[];
  still: string;
  /** The narration's length in seconds, for its subtitle cue. */
  narrationSeconds: number;
  narrationText: string;
}

export interface ComposePlan {
  width: number;
  height: number;
  title?: { frames: number; pieces: ClipPiece[] };
  scenes: ComposeScene[];
  /** The sound track's pieces in play order, the title card's first (sound.ts): ADTS files joined as they are. */
  sounds: string[];
  /** What identifies the ffmpeg build: memoised encodes are only reused from the same one. */
  encoder: string;
  /** What identifies the drawing stack and fonts, likewise for the poster and the contact sheet. */
  stills: string;
}

/**
 * The final video: the title's, clips' and crossfades' pieces joined by stream
 * copy, and the sound track's pieces joined packet for packet: nothing is
 * encoded here, so an edit's video costs the same whatever the story's length.
 * Pictures, sound and stills are independent until the one mux that copies
 * both tracks, so they are made side by side.
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
  const timeline = layOut(plan);
  progress?.(0.05, "joining");
  const poster = join(dir, "video-poster.jpg");
  const sheet = join(dir, "video-contact-sheet.png");
  const [blocks, sound] = await Promise.all([
    joinBlocks(ffmpeg, plan.encoder, timeline.segments, timeline.segmentFrames, dir, memo, opts),
    soundTrack(plan, timeline, dir),
    memoised(memo, `local-poster/v1/${plan.stills}/${basename(plan.scenes[0]!.still)}/${plan.width}x${plan.height}`, poster, () =>
      sharp(plan.scenes[0]!.still).resize(plan.width, plan.height, { fit: "cover" }).jpeg({ quality: 86 }).toFile(poster),
    ),
    // The sheet depends on the stills and the labels alone: a narration edit leaves it as it was.
    memoised(memo, `local-contact-sheet/v1/${plan.stills}/${hashJson([plan.width, plan.height, plan.scenes.map((s) => [basename(s.still), s.label])])}`, sheet, () =>
      contactSheet(plan.scenes, plan.width, plan.height, sheet, memo, plan.stills),
    ),
  ]);

  progress?.(0.6, "muxing");
  const list = join(dir, "segments.txt");
  await writeConcatList(list, blocks.files, blocks.frames);
  const video = join(dir, "video.mp4");
  // One pass: both tracks copied as they are; bitexact so that the same pieces make the same bytes.
  await runFfmpeg(
    ffmpeg,
    [
      ...["-f", "concat", "-safe", "0", "-i", list, "-f", "aac", "-i", sound.track],
      ...["-map", "0:v", "-map", "1:a", "-c", "copy", "-movflags", "+faststart", "-fflags", "+bitexact", video],
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

interface Timeline {
  /** The files joined in order. */
  segments: string[];
  /** Frames in each segment, to state each one's duration to the concat demuxer. */
  segmentFrames: number[];
  /** Each scene's first frame. */
  starts: number[];
}

function layOut(plan: ComposePlan): Timeline {
  const segments: string[] = [];
  const segmentFrames: number[] = [];
  const starts: number[] = [];
  const add = (piece: ClipPiece) => {
    segments.push(piece.path);
    segmentFrames.push(piece.frames);
  };
  let frame = 0;
  if (plan.title) {
    plan.title.pieces.forEach(add);
    frame += plan.title.frames;
  }
  for (const scene of plan.scenes) {
    starts.push(frame);
    if (scene.fade) add(scene.fade);
    scene.pieces.forEach(add);
    frame += scene.frames;
  }
  return { segments, segmentFrames, starts };
}

/**
 * Each segment's duration is stated: newer ffmpegs otherwise take it from the
 * container and leave gaps between segments.
 */
async function writeConcatList(list: string, files: readonly string[], frames: readonly number[]): Promise<void> {
  const entries = files.map((f, i) => `file '${f.replace(/'/g, "'\\''")}'\nduration ${(frames[i]! / FPS).toFixed(6)}`);
  await writeFile(list, entries.join("\n") + "\n");
}

/** Files per join: see joinBlocks. */
const BLOCK = 8;

/**
 * The concat demuxer opens and probes every file it joins, a few milliseconds
 * each: joining a long story's hundreds of segments at every save would grow
 * with the story. The segments are joined in blocks of BLOCK instead, each
 * block memoised by the files in it (their hashes and lengths), and the blocks
 * in blocks again, until the video joins at most BLOCK files: after an edit,
 * one block is joined again at each level, a level for every eightfold of the
 * story's length (a 60-scene story has two), and the final join opens at most
 * BLOCK files.
 */
export async function joinBlocks(
  ffmpeg: string,
  encoder: string,
  segments: readonly string[],
  frames: readonly number[],
  dir: string,
  memo: Memo,
  opts: { signal?: AbortSignal },
): Promise<{ files: string[]; frames: number[] }> {
  let level = segments.map((file, i) => ({ file, frames: frames[i]! }));
  for (let depth = 0; level.length > BLOCK; depth++) {
    const groups = batches(level, BLOCK);
    const joined: Array<{ file: string; frames: number }> = [];
    // Four at a time: joining is mostly reading and writing files.
    await inPool(groups, 4, async (group, b) => {
      joined[b] = { file: await joinBlock(ffmpeg, encoder, group, join(dir, `block-${depth}-${b}`), memo, opts), frames: group.reduce((sum, x) => sum + x.frames, 0) };
    });
    level = joined;
  }
  return { files: level.map((x) => x.file), frames: level.map((x) => x.frames) };
}

/** One block: its files joined by stream copy, or the same block memoised (its files' names are their contents' hashes). */
async function joinBlock(ffmpeg: string, encoder: string, group: ReadonlyArray<{ file: string; frames: number }>, name: string, memo: Memo, opts: { signal?: AbortSignal }): Promise<string> {
  if (group.length === 1) return group[0]!.file;
  const key = `local-block/v1/${encoder}/${hashJson(group.map((g) => [basename(g.file), g.frames]))}`;
  const known = await memo.get(key);
  if (known) return known;
  await writeConcatList(`${name}.txt`, group.map((g) => g.file), group.map((g) => g.frames));
  await runFfmpeg(ffmpeg, ["-f", "concat", "-safe", "0", "-i", `${name}.txt`, "-c", "copy", "-fflags", "+bitexact", `${name}.mp4`], opts);
  return memo.put(key, `${name}.mp4`);
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  if (size < 1) return out;
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The sound track: each segment's piece (sound.ts), the title card's and then
 * each scene's, joined packet for packet; and the subtitle cues, each scene's
 * narration from where that scene starts.
 */
async function soundTrack(plan: ComposePlan, timeline: Timeline, dir: string): Promise<{ track: string; cues: Cue[] }> {
  const track = join(dir, "sound.aac");
  await writeFile(track, Buffer.concat(await Promise.all(plan.sounds.map((piece) => readFile(piece)))));
  const cues: Cue[] = plan.scenes.map((scene, i) => {
    const start = timeline.starts[i]! / FPS + NARRATION_LEAD_IN;
    const end = Math.min((timeline.starts[i]! + scene.frames) / FPS, start + scene.narrationSeconds);
    return { start, end, text: scene.narrationText };
  });
  return { track, cues };
}

/** Every scene's still in a grid, numbered, to review a story at a glance. Thumbnails are memoised by the still's hash. */
async function contactSheet(scenes: readonly ComposeScene[], width: number, height: number, out: string, memo: Memo, stills: string): Promise<void> {
  const columns = Math.min(4, scenes.length);
  const thumbW = 320;
  const thumbH = Math.round((thumbW * height) / width);
  const labelH = 28;
  const pad = 12;
  const rows = Math.ceil(scenes.length / columns);
  const sheetW = columns * (thumbW + pad) + pad;
  const sheetH = rows * (thumbH + labelH + pad) + pad;
  const thumbnail = async (still: string, i: number): Promise<Buffer> => {
    const key = `local-thumbnail/v1/${stills}/${basename(still)}/${thumbW}x${thumbH}`;
    const known = await memo.get(key);
    if (known) return readFile(known);
    const png = await sharp(still).resize(thumbW, thumbH, { fit: "cover" }).png().toBuffer();
    const file = `${out}.thumb-${i}.png`;
    await writeFile(file, png);
    await memo.put(key, file);
    return png;
  };
  const tiles = await Promise.all(
    scenes.map(async (scene, i) => {
      const left = pad + (i % columns) * (thumbW + pad);
      const top = pad + Math.floor(i / columns) * (thumbH + labelH + pad);
      const thumb = await thumbnail(scene.still, i);
      const label = Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${thumbW}" height="${labelH}"><text x="4" y="20" font-family="DejaVu Sans, sans-serif" font-size="16" fill="#e8e8e8">${escapeXml(`${i + 1}. ${scene.label}`)}</text></svg>`,
      );
      return [
        { input: thumb, left, top },
        { input: label, left, top: top + thumbH },
      ];
    }),
  );
  // A light compression: the sheet is remade after every edit and is for looking at, not for keeping small.
  await sharp({ create: { width: sheetW, height: sheetH, channels: 3, background: "#1b1c20" } })
    .composite(tiles.flat())
    .png({ compressionLevel: 3 })
    .toFile(out);
}

/** Copies the file memoised under `key` to `out`, or makes it with `make` and memoises a copy. */
async function memoised(memo: Memo, key: string, out: string, make: () => Promise<unknown>): Promise<void> {
  const known = await memo.get(key);
  if (known) {
    await copyFile(known, out);
    await chmod(out, 0o644);
    return;
  }
  await make();
  const copy = `${out}.memo`;
  await copyFile(out, copy);
  await memo.put(key, copy);
}
