import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { locateFfmpeg } from "../../src/render/local/ffmpeg.js";

/**
 * Real media for the fake Story API, made with ffmpeg on demand: small H.264 +
 * AAC clips of one solid colour per scene look, MP3 audio, PNGs. What takes
 * ffmpeg time is made once per process and shared by every fake; the identity
 * text a test checks by content (which image a clip was made from) is written
 * into each file's metadata.
 */

/** Colours far apart in every channel, so that a frame's colour names its scene even after compression. */
export const LOOK_COLOURS: ReadonlyArray<readonly [number, number, number]> = [
  [220, 40, 40],
  [40, 180, 60],
  [40, 80, 220],
  [230, 200, 40],
  [200, 50, 200],
  [40, 200, 210],
];

/** How the clips of a look differ, as cloud clips do: in size, frame rate, and whether they have sound. */
export interface ClipLook {
  colour: readonly [number, number, number];
  width: number;
  height: number;
  fps: number;
  audio: boolean;
  tone: number;
}

export function clipLook(index: number): ClipLook {
  const sizes = [[160, 90], [120, 90], [90, 160]] as const;
  const [width, height] = sizes[index % sizes.length]!;
  return { colour: LOOK_COLOURS[index % LOOK_COLOURS.length]!, width, height, fps: [25, 30, 24][index % 3]!, audio: index % 3 !== 2, tone: 330 + 110 * (index % 6) };
}

const made = new Map<string, Promise<Buffer>>();
const ffmpeg = () => locateFfmpeg().path;
const run = promisify(execFile);

function hex([r, g, b]: readonly [number, number, number]): string {
  return `0x${[r, g, b].map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

/** Runs ffmpeg with `out` in a temp folder of its own, and returns the bytes it wrote. */
async function make(args: (dir: string) => string[], out: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "storyc-fake-media-"));
  try {
    await run(ffmpeg(), ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args(dir), join(dir, out)], { maxBuffer: 16 * 1024 * 1024 });
    return await readFile(join(dir, out));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function once(key: string, produce: () => Promise<Buffer>): Promise<Buffer> {
  let bytes = made.get(key);
  if (!bytes) {
    bytes = produce();
    made.set(key, bytes);
    bytes.catch(() => made.delete(key));
  }
  return bytes;
}

/** The same bytes with `comment` set: a stream copy, so the pictures and sound stay those of the shared base. */
async function withComment(base: Buffer, ext: string, comment: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "storyc-fake-media-"));
  try {
    await writeFile(join(dir, `in.${ext}`), base);
    return await make(() => ["-i", join(dir, `in.${ext}`), "-map", "0", "-c", "copy", "-metadata", `comment=${comment}`, "-fflags", "+bitexact"], `out.${ext}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A clip of a look, `seconds` long, that says in its metadata what it is. */
export async function clipBytes(look: ClipLook, seconds: number, identity: string): Promise<Buffer> {
  const base = await once(`clip/${JSON.stringify(look)}/${seconds}`, () =>
    make(
      () => [
        ...["-f", "lavfi", "-i", `color=c=${hex(look.colour)}:s=${look.width}x${look.height}:r=${look.fps}:d=${seconds}`],
        ...(look.audio ? ["-f", "lavfi", "-i", `sine=frequency=${look.tone}:sample_rate=44100:duration=${seconds}`] : []),
        ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", ...(look.audio ? ["-c:a", "aac", "-b:a", "64k"] : [])],
        ...["-fflags", "+bitexact", "-flags", "+bitexact"],
      ],
      "clip.mp4",
    ),
  );
  return withComment(base, "mp4", identity);
}

/** Audio (music or narration): a few seconds of a tone, as MP3. */
export async function audioBytes(tone: number, seconds: number, identity: string): Promise<Buffer> {
  const base = await once(`audio/${tone}/${seconds}`, () =>
    make(() => ["-f", "lavfi", "-i", `sine=frequency=${tone}:sample_rate=44100:duration=${seconds}`, "-c:a", "libmp3lame", "-b:a", "64k", "-fflags", "+bitexact", "-flags", "+bitexact"], "audio.mp3"),
  );
  return withComment(base, "mp3", identity);
}

/** A small PNG of one colour. */
export function pngBytes(colour: readonly [number, number, number]): Promise<Buffer> {
  return once(`png/${colour.join(",")}`, () => sharp({ create: { width: 32, height: 18, channels: 3, background: { r: colour[0], g: colour[1], b: colour[2] } } }).png().toBuffer());
}
