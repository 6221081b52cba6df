import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeClip } from "../../src/render/local/clip.js";
import { MOTIONS, parseMotion, type Motion } from "../../src/render/local/motion.js";
import { countFrames, darkRegion, ffmpeg, frameAt } from "../helpers/media.js";
import { tempDir } from "../helpers/temp.js";

const W = 320;
const H = 180;
let still: string;

beforeAll(async () => {
  const dir = tempDir("motion-");
  still = join(dir, "pattern.png");
  // A dark square in the middle of a light frame: its size shows zoom, its centre shows pans and tilts.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="${W}" height="${H}" fill="#f0f0f0"/><rect x="${W / 2 - 30}" y="${H / 2 - 30}" width="60" height="60" fill="#101010"/></svg>`;
  await writeFile(still, await sharp(Buffer.from(svg)).png().toBuffer());
});

async function firstAndLast(motion: Motion) {
  const dir = tempDir(`${motion}-`);
  const clip = await encodeClip(ffmpeg(), { still, width: W, height: H, motion, frames: 40, transition: 0 }, dir);
  expect(clip.pieces.reduce((sum, p) => sum + countFrames(p.path), 0)).toBe(40);
  return { first: darkRegion(await frameAt(clip.pieces[0]!.path, "first")), last: darkRegion(await frameAt(clip.pieces.at(-1)!.path, "last")) };
}

describe("camera motion", () => {
  it("reads the motion from motion_description", () => {
    expect(parseMotion("camera motion: dolly in, camera angle: eye level")).toBe("dolly-in");
    expect(parseMotion("camera motion:tracking shot, camera angle:eye level, Bunny sniffs the air")).toBe("tracking");
    expect(parseMotion("camera motion:reveal shot, camera angle:low angle")).toBe("reveal");
    expect(parseMotion("camera motion: steady shot")).toBe("static");
    expect(parseMotion("camera motion: pan left, the camera zooms in later")).toBe("pan-left");
    expect(parseMotion(undefined)).toBe("static");
  });

  const grows = (m: { first: { width: number }; last: { width: number } }) => expect(m.last.width).toBeGreaterThan(m.first.width * 1.05);
  const shrinks = (m: { first: { width: number }; last: { width: number } }) => expect(m.last.width).toBeLessThan(m.first.width * 0.95);
  const expectations: Record<Motion, (m: Awaited<ReturnType<typeof firstAndLast>>) => void> = {
    "zoom-in": grows,
    "dolly-in": grows,
    "zoom-out": shrinks,
    "dolly-out": shrinks,
    reveal: shrinks,
    // Panning left, the picture slides right; panning right, it slides left.
    "pan-left": (m) => expect(m.last.cx - m.first.cx).toBeGreaterThan(8),
    "pan-right": (m) => expect(m.last.cx - m.first.cx).toBeLessThan(-8),
    tracking: (m) => expect(m.last.cx - m.first.cx).toBeLessThan(-5),
    // Tilting up, the picture slides down.
    "tilt-up": (m) => expect(m.last.cy - m.first.cy).toBeGreaterThan(4),
    "tilt-down": (m) => expect(m.last.cy - m.first.cy).toBeLessThan(-4),
    static: (m) => {
      expect(Math.abs(m.last.cx - m.first.cx)).toBeLessThan(1);
      expect(m.last.width).toBe(m.first.width);
    },
  };

  it.each(MOTIONS)("%s moves the first frame to the last in the expected direction", async (motion) => {
    expectations[motion](await firstAndLast(motion));
  });
});

describe("a slow camera move", () => {
  /**
   * Where a sharp edge, dark before it and light after it, stands in each frame
   * of a clip, to a fraction of a pixel: the dark share of each row (or column),
   * averaged over the frame.
   */
  async function edgePositions(motion: Motion, width: number, height: number, vertical: boolean): Promise<number[]> {
    const dir = tempDir(`edge-${motion}-`);
    const edged = join(dir, "edge.png");
    const [w, h] = vertical ? [width, height / 2] : [width / 2, height];
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" fill="#f0f0f0"/><rect width="${w}" height="${h}" fill="#101010"/></svg>`;
    await writeFile(edged, await sharp(Buffer.from(svg)).png().toBuffer());
    const clip = await encodeClip(ffmpeg(), { still: edged, width, height, motion, frames: 48, transition: 0 }, dir);
    const positions: number[] = [];
    for (const piece of clip.pieces) {
      const raw = spawnSync(ffmpeg(), ["-v", "error", "-i", piece.path, "-f", "rawvideo", "-pix_fmt", "gray", "-"], { maxBuffer: 256 * 1024 * 1024 }).stdout;
      for (let at = 0; at + width * height <= raw.length; at += width * height) {
        let dark = 0;
        for (let i = 0; i < width * height; i++) dark += (235 - Math.min(235, Math.max(16, raw[at + i]!))) / (235 - 16);
        positions.push(dark / (vertical ? width : height));
      }
    }
    expect(positions.length).toBe(48);
    return positions;
  }

  // Both moves run at about 0.6 pixels a frame: zoompan cutting at whole pixels of the frame stood still every other frame.
  it.each([
    ["pan-right", 320, 180, false],
    ["tilt-down", 640, 360, true],
  ] as const)("%s moves the picture at every frame, never by a pixel and a half", async (motion, width, height, vertical) => {
    const positions = await edgePositions(motion, width, height, vertical);
    const steps = positions.slice(1).map((p, i) => Math.abs(p - positions[i]!));
    expect(Math.min(...steps), steps.map((s) => s.toFixed(2)).join(" ")).toBeGreaterThan(0.2);
    expect(Math.max(...steps), steps.map((s) => s.toFixed(2)).join(" ")).toBeLessThan(1.5);
  });
});
