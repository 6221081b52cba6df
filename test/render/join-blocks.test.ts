import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { joinBlocks } from "../../src/render/local/compose.js";
import { videoEncodeArgs } from "../../src/render/local/layout.js";
import type { Memo } from "../../src/render/types.js";
import { countFrames, ffmpeg } from "../helpers/media.js";
import { tempDir } from "../helpers/temp.js";

const W = 64;
const H = 36;

/** A memo in a folder that names each file by its content's hash, as the cache does; counting the blocks it is given. */
function contentMemo(root: string): { memo: Memo; puts: () => number } {
  const keys = new Map<string, string>();
  const memo: Memo = {
    async get(key) {
      return keys.get(key) ?? null;
    },
    async put(key, file) {
      const kept = join(root, createHash("sha256").update(await readFile(file)).digest("hex"));
      await rename(file, kept);
      keys.set(key, kept);
      return kept;
    },
  };
  return { memo, puts: () => keys.size };
}

/** A segment of `frames` frames in one shade of gray, encoded as the renderer encodes its segments. */
function segment(dir: string, shade: number, frames: number): string {
  const out = join(dir, `segment-${shade}-${frames}.mp4`);
  const hex = shade.toString(16).padStart(2, "0");
  const r = spawnSync(ffmpeg(), ["-v", "error", "-y", "-f", "lavfi", "-i", `color=c=0x${hex}${hex}${hex}:s=${W}x${H}:r=25`, "-frames:v", String(frames), ...videoEncodeArgs(), out]);
  expect(r.status, String(r.stderr)).toBe(0);
  return out;
}

/** The shade of each frame of a video joined from the final files, read back in order. */
function shades(files: string[], frames: number[], dir: string): number[] {
  const list = join(dir, `final-${files.length}.txt`);
  writeFileSync(list, files.map((f, i) => `file '${f}'\nduration ${(frames[i]! / 25).toFixed(6)}`).join("\n") + "\n");
  const raw = spawnSync(ffmpeg(), ["-v", "error", "-f", "concat", "-safe", "0", "-i", list, "-f", "rawvideo", "-pix_fmt", "gray", "-"], { maxBuffer: 64 * 1024 * 1024 }).stdout;
  return Array.from({ length: raw.length / (W * H) }, (_, k) => raw[k * W * H + (H / 2) * W + W / 2]!);
}

describe("joining a long story's segments", () => {
  it("joins them in blocks of blocks, so that the video opens at most eight files, and an edit joins one block per level again", async () => {
    const dir = tempDir("join-blocks-");
    // 70 segments: 9 blocks of up to 8, joined again into one of 8 blocks and the ninth as it is; a short one every third, as crossfades are.
    const lengths = Array.from({ length: 70 }, (_, i) => (i % 3 === 0 ? 2 : 4));
    const files = lengths.map((frames, i) => segment(dir, 40 + 2 * i, frames));
    const { memo, puts } = contentMemo(dir);
    const first = await joinBlocks(ffmpeg(), "test", files, lengths, dir, memo, {});
    expect(first.files.length).toBeLessThanOrEqual(8);
    expect(first.frames.reduce((a, b) => a + b, 0)).toBe(lengths.reduce((a, b) => a + b, 0));
    expect(first.files.reduce((sum, f) => sum + countFrames(f), 0)).toBe(lengths.reduce((a, b) => a + b, 0));
    // Every frame where its segment put it, in order.
    const expected = lengths.flatMap((frames, i) => Array.from({ length: frames }, () => 40 + 2 * i));
    const got = shades(first.files, first.frames, dir);
    expect(got.length).toBe(expected.length);
    got.forEach((shade, k) => expect(Math.abs(shade - expected[k]!), `frame ${k}`).toBeLessThanOrEqual(2));
    expect(puts()).toBe(9 + 1);

    // Segment 30 edited: its block and the block of blocks that holds it are joined again, nothing else.
    const edited = [...files];
    edited[30] = segment(dir, 250, lengths[30]!);
    const second = await joinBlocks(ffmpeg(), "test", edited, lengths, dir, memo, {});
    expect(puts()).toBe(9 + 1 + 2);
    expect(second.files.filter((f, i) => f !== first.files[i]).length).toBe(1);
    const again = shades(second.files, second.frames, dir);
    const expectedAgain = lengths.flatMap((frames, i) => Array.from({ length: frames }, () => (i === 30 ? 250 : 40 + 2 * i)));
    expect(again.length).toBe(expectedAgain.length);
    again.forEach((shade, k) => expect(Math.abs(shade - expectedAgain[k]!), `frame ${k}`).toBeLessThanOrEqual(2));
  }, 120_000);
});
