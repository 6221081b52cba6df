import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { encodeClip, type ClipPlan } from "../../src/render/local/clip.js";
import type { Memo, SlotRequest } from "../../src/render/types.js";
import { countFrames, ffmpeg } from "../helpers/media.js";

/**
 * How many ffmpeg runs were under way at once, at most. A test can hold the
 * next run back until another run fails (`holdUntilFailure`).
 */
const runs = vi.hoisted(() => ({ now: 0, most: 0, holdUntilFailure: false, failed: () => undefined as void }));
vi.mock("../../src/render/local/ffmpeg.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/render/local/ffmpeg.js")>();
  return {
    ...real,
    runFfmpeg: async (...args: Parameters<typeof real.runFfmpeg>) => {
      runs.most = Math.max(runs.most, ++runs.now);
      try {
        if (runs.holdUntilFailure) {
          runs.holdUntilFailure = false;
          await new Promise<void>((resolve) => (runs.failed = resolve));
        }
        return await real.runFfmpeg(...args);
      } catch (error) {
        runs.failed();
        throw error;
      } finally {
        runs.now--;
      }
    },
  };
});

/** A slot request the test grants (or not) and whose releases it counts. */
function slot(grant: boolean): { request: SlotRequest; releases: () => number } {
  let released = 0;
  const request: SlotRequest = { granted: grant ? Promise.resolve() : new Promise(() => undefined), release: () => void released++ };
  return { request, releases: () => released };
}

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

describe("a clip's pieces and the engine's slots", () => {
  it("encodes its second piece beside the first in a lent slot, to the same bytes, and gives the slot back", async () => {
    // 138 frames with a crossfade of 12: pieces of 88 and 38 frames.
    const alone = await encodeClip(ffmpeg(), plan(138), await mkdtemp(join(dir, "alone-")));
    expect(alone.pieces).toHaveLength(2);
    runs.most = 0;
    const lent = slot(true);
    const beside = await encodeClip(ffmpeg(), plan(138), await mkdtemp(join(dir, "beside-")), { extraSlot: () => lent.request });
    expect(runs.most).toBe(2);
    expect(lent.releases()).toBe(1);
    for (const [i, piece] of beside.pieces.entries()) expect((await readFile(piece.path)).equals(await readFile(alone.pieces[i]!.path))).toBe(true);
  }, 120_000);

  it("withdraws its request when no slot comes before its own slot is done", async () => {
    runs.most = 0;
    const refused = slot(false);
    const made = await encodeClip(ffmpeg(), plan(138), await mkdtemp(join(dir, "refused-")), { extraSlot: () => refused.request });
    expect(runs.most).toBe(1);
    expect(refused.releases()).toBe(1);
    expect(made.pieces.map((p) => countFrames(p.path))).toEqual([88, 38]);
  }, 120_000);

  it("fails as one node when the piece in the lent slot fails, and still gives the slot back", async () => {
    const lent = slot(true);
    const broken = { ...plan(138), still: join(dir, "no-such-still.png") };
    // The node's own piece waits until the lent slot's piece has failed: that failure comes first.
    runs.holdUntilFailure = true;
    await expect(encodeClip(ffmpeg(), broken, await mkdtemp(join(dir, "broken-")), { extraSlot: () => lent.request })).rejects.toThrow();
    expect(lent.releases()).toBe(1);
  }, 120_000);

  it("asks for no slot when one piece is missing", async () => {
    let asked = 0;
    await encodeClip(ffmpeg(), plan(40), await mkdtemp(join(dir, "one-")), { extraSlot: () => (asked++, slot(true).request) });
    expect(asked).toBe(0);
  }, 120_000);
});
