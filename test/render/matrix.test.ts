import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/engine/build.js";
import { LocalRenderer } from "../../src/render/local/index.js";
import { frameSize, TITLE_FRAMES } from "../../src/render/local/layout.js";
import { synthesizeMusic } from "../../src/render/local/music.js";
import { SOUND_RATE } from "../../src/render/local/sound.js";
import { encodeWav } from "../../src/render/local/wav.js";
import type { AspectRatio } from "../../src/story/types.js";
import { countFrames, integratedLoudness, probe } from "../helpers/media.js";

/** The settings a story can vary, each with the values it takes. */
const FACTORS = {
  aspect: ["16:9", "4:3", "1:1", "3:4", "9:16"],
  picture: ["none", "character", "environment", "object", "scene"],
  music: ["generated", "file", "off"],
  title: ["on", "off"],
  transitions: ["crossfade", "cut"],
  quality: ["standard", "high"],
} as const;
type Factor = keyof typeof FACTORS;
type Case = { [F in Factor]: (typeof FACTORS)[F][number] };

/**
 * Cases that together hold every pair of values of every two factors
 * (pairwise coverage): each pick is the combination that covers the most
 * pairs not yet covered, first in order on a tie, so the set is the same on every run.
 */
function pairwise(): Case[] {
  const names = Object.keys(FACTORS) as Factor[];
  const all: Case[] = [{} as Case];
  for (const name of names) {
    const next: Case[] = [];
    for (const partial of all) for (const value of FACTORS[name]) next.push({ ...partial, [name]: value });
    all.splice(0, all.length, ...next);
  }
  const pairsOf = (c: Case) => names.flatMap((a, i) => names.slice(i + 1).map((b) => `${a}=${c[a]}&${b}=${c[b]}`));
  const uncovered = new Set(all.flatMap(pairsOf));
  const cases: Case[] = [];
  while (uncovered.size > 0) {
    let best = all[0]!;
    let bestCount = -1;
    for (const c of all) {
      const count = pairsOf(c).filter((p) => uncovered.has(p)).length;
      if (count > bestCount) [best, bestCount] = [c, count];
    }
    for (const p of pairsOf(best)) uncovered.delete(p);
    cases.push(best);
  }
  return cases;
}

const CASES = pairwise();
const MAGENTA = "#c814c8";
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "storyc-matrix-"));
  await mkdir(join(root, "refs"));
  // A picture no drawn card looks like, whatever part of it a crop keeps: saturated magenta.
  await sharp({ create: { width: 640, height: 360, channels: 3, background: MAGENTA } }).png().toFile(join(root, "refs", "magenta.png"));
  await writeFile(join(root, "refs", "tune.wav"), encodeWav(synthesizeMusic("a slow calm piano waltz")));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function storyText(c: Case): string {
  const picture = (where: Case["picture"]) => (c.picture === where ? "\n    image_url: refs/magenta.png" : "");
  return `storyc: 1
title: Matrix ${c.aspect} ${c.quality}
settings:
  aspect_ratio: "${c.aspect}"
  background_music: ${c.music !== "off"}
  show_title: ${c.title === "on"}
  transitions: ${c.transitions}
characters:
  - name: Bunny
    description: A small white rabbit.${picture("character")}
environments:
  - name: Meadow
    description: A green meadow in the morning sun.${picture("environment")}
objects:
  - name: Kite
    description: A yellow kite.${picture("object")}
music:
  description: A gentle tune.${c.music === "file" ? "\n  music_url: refs/tune.wav" : ""}
scenes:
  - id: one
    description: "**Bunny** flies a **Kite** in the **Meadow**."
    narrator: Bunny runs.
    motion_description: "camera motion: dolly in"
    duration: 2${c.picture === "scene" ? "\n    image_url: refs/magenta.png" : ""}
  - id: two
    description: "**Bunny** rests in the **Meadow**."
    narrator: Then she rests.
    motion_description: "camera motion: pan left"
    duration: 2
`;
}

/** A band across a picture is the reference's magenta: the reference reached this picture. */
async function showsReference(file: string, band: { top: number; height: number }): Promise<void> {
  const { width } = await sharp(file).metadata();
  const { data, info } = await sharp(file).extract({ left: 0, top: band.top, width: width!, height: band.height }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const mean = [0, 1, 2].map((c) => {
    let sum = 0;
    for (let i = c; i < data.length; i += info.channels) sum += data[i]!;
    return sum / (data.length / info.channels);
  });
  expect(mean[0]).toBeGreaterThan(170);
  expect(mean[1]).toBeLessThan(60);
  expect(mean[2]).toBeGreaterThan(170);
}

describe("every combination of settings renders a valid video (pairwise)", () => {
  it("covers every pair of values with a small set of cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
    expect(CASES.length).toBeLessThanOrEqual(32);
  });

  it.each(CASES.map((c, i) => [`${i + 1}: ${Object.values(c).join(", ")}`, c] as const))("%s", async (_name, c) => {
    const dir = join(root, `case-${CASES.indexOf(c)}`);
    await mkdir(dir);
    const story = join(dir, "story.yaml");
    await writeFile(story, storyText(c));
    await mkdir(join(dir, "refs"));
    await writeFile(join(dir, "refs", "magenta.png"), await readFile(join(root, "refs", "magenta.png")));
    await writeFile(join(dir, "refs", "tune.wav"), await readFile(join(root, "refs", "tune.wav")));
    const result = await build(story, { renderer: new LocalRenderer({ quality: c.quality }), jobs: 2 });
    if (!result.ok) throw new Error(`build failed: ${JSON.stringify(result.failure).slice(0, 800)}`);

    const video = join(dir, "out", "story", "story.mp4");
    const lock = JSON.parse(await readFile(join(dir, "story.lock"), "utf8")) as { nodes: Record<string, { meta?: Record<string, number | string>; outputs: Array<{ name: string; sha256: string }> }> };
    const { width, height } = frameSize(c.aspect as AspectRatio, c.quality);
    const p = probe(video);
    expect(p.video).toMatchObject({ codec: "h264", pixelFormat: "yuv420p", width, height, fps: 25 });
    expect(p.audio).toMatchObject({ codec: "aac", sampleRate: SOUND_RATE });
    const frames = (c.title === "on" ? TITLE_FRAMES : 0) + Number(lock.nodes["scene/one/clip"]!.meta!.frames) + Number(lock.nodes["scene/two/clip"]!.meta!.frames);
    expect(countFrames(video)).toBe(frames);
    expect(Math.abs(p.durationSeconds - frames / 25)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(integratedLoudness(video) + 16)).toBeLessThanOrEqual(1);
    expect("title" in lock.nodes).toBe(c.title === "on");
    expect("music" in lock.nodes).toBe(c.music !== "off");
    if (c.music !== "off") expect(lock.nodes.music!.meta?.source).toBe(c.music === "file" ? "file" : "generated");

    // The reference picture reaches what a viewer sees.
    const cache = join(dir, ".storyc", "cache", "cas");
    const blob = (id: string, name: string) => {
      const sha = lock.nodes[id]!.outputs.find((o) => o.name === name)!.sha256;
      return join(cache, sha.slice(0, 2), sha);
    };
    if (c.picture === "environment" || c.picture === "scene") {
      // The top tenth of a scene's still is its ground alone: nothing is drawn over it there.
      await showsReference(blob("scene/one/image", "scene.png"), { top: 0, height: Math.round(height * 0.08) });
    }
    if (c.picture === "character" || c.picture === "object") {
      const id = c.picture === "character" ? "element/characters/Bunny" : "element/objects/Kite";
      await showsReference(blob(id, "element.png"), { top: 100, height: 200 });
    }
  }, 180_000);
});
