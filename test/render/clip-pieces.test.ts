import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeClip, type ClipPlan } from "../../src/render/local/clip.js";
import type { Memo } from "../../src/render/types.js";
import { countFrames, ffmpeg } from "../helpers/media.js";

let dir: string;
let still: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "storyc-clip-pieces-"));
  still = join(dir, "still.png");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180"><rect width="320" height="180" fill="#2a4060"/><circle cx="160" cy="90" r="50" fill="#e0b040"/></svg>`;
  await sharp(Buffer.from(svg)).png().toFile(still);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A memo in a folder, counting what it is asked for and given. */
function folderMemo(root: string) {
  const files = new Map<string, string>();
  const stats = { hits: 0, puts: 0 };
  const memo: Memo = {
    async get(key) {
      const file = files.get(key) ?? null;
      if (file) stats.hits++;
      return file;
    },
    async put(key, file) {
      const kept = join(root, `memo-${files.size}.mp4`);
      await copyFile(file, kept);
      files.set(key, kept);
      stats.puts++;
      return kept;
    },
  };
  return { memo, stats };
}

const plan = (frames: number): ClipPlan => ({ still, width: 320, height: 180, motion: "zoom-in", frames, transition: 12 });

describe("a clip drawn in pieces", () => {
  it("made a little longer, reuses its earlier pieces and is the same bytes as a clip made from nothing", async () => {
    const { memo, stats } = folderMemo(dir);
    const opts = { memo: { memo, prefix: "test" } };
    const first = await mkdtemp(join(dir, "first-"));
    await encodeClip(ffmpeg(), plan(76), first, opts);
    const made = stats.puts;

    // The scene grows by 8 frames (a narration a third of a second longer): only the end is drawn again.
    const second = await mkdtemp(join(dir, "second-"));
    stats.hits = 0;
    stats.puts = 0;
    const grown = await encodeClip(ffmpeg(), plan(84), second, opts);
    expect(stats.hits).toBeGreaterThanOrEqual(1);
    expect(stats.puts).toBeLessThan(made);
    // The body starts after the crossfade into it, which the video draws; each piece has the frames it says.
    for (const piece of grown.pieces) expect(countFrames(piece.path)).toBe(piece.frames);
    expect(grown.pieces.reduce((sum, p) => sum + p.frames, 0)).toBe(84 - 12);

    // Reuse changes nothing: the same clip made without a memo has the same bytes.
    const fresh = await encodeClip(ffmpeg(), plan(84), await mkdtemp(join(dir, "fresh-")));
    expect(fresh.pieces.map((p) => p.frames)).toEqual(grown.pieces.map((p) => p.frames));
    for (const [i, piece] of grown.pieces.entries()) expect((await readFile(piece.path)).equals(await readFile(fresh.pieces[i]!.path))).toBe(true);
  }, 120_000);
});
