import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/engine/build.js";
import { LocalRenderer } from "../../src/render/local/index.js";
import { countFrames, integratedLoudness, probe } from "../helpers/media.js";

const STORY = `storyc: 1
title: Draft
settings:
  narrator: Rachel
characters:
  - name: Bunny
    description: A small white rabbit.
music:
  description: A gentle tune.
scenes:
  - id: one
    description: "**Bunny** runs across a meadow."
    narrator: Bunny runs.
    motion_description: "camera motion: zoom in"
    duration: 2
  - id: two
    description: "**Bunny** rests under a tree."
    narrator: Then she rests.
    motion_description: "camera motion: pan left"
    duration: 2
`;

interface Built {
  video: string;
  keys: Record<string, string>;
}

let root: string;
const builds: Record<"standard" | "draft", Built> = {} as Record<"standard" | "draft", Built>;

/** The settings x264 wrote into the stream: what anyone can read back from a video. */
async function encoderSettings(video: string): Promise<string> {
  const text = (await readFile(video)).toString("latin1");
  const at = text.indexOf("x264 - core");
  expect(at).toBeGreaterThanOrEqual(0);
  return text.slice(at, text.indexOf("\0", at));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "storyc-draft-"));
  for (const quality of ["standard", "draft"] as const) {
    const dir = await mkdtemp(join(root, `${quality}-`));
    const story = join(dir, "draft.yaml");
    await writeFile(story, STORY);
    const result = await build(story, { renderer: new LocalRenderer({ quality }), jobs: 2 });
    if (!result.ok) throw new Error(`build failed: ${JSON.stringify(result.failure).slice(0, 800)}`);
    const lock = JSON.parse(await readFile(join(dir, "draft.lock"), "utf8")) as { nodes: Record<string, { key: string }> };
    builds[quality] = { video: join(dir, "out", "draft", "draft.mp4"), keys: Object.fromEntries(Object.entries(lock.nodes).map(([id, n]) => [id, n.key])) };
  }
}, 180_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("quality draft", () => {
  it("renders the same story at 360p, as long and as loud as the standard one, in a smaller file", async () => {
    const { standard, draft } = builds;
    expect(probe(standard.video).video).toMatchObject({ width: 1280, height: 720, fps: 25 });
    expect(probe(draft.video).video).toMatchObject({ width: 640, height: 360, fps: 25 });
    expect(countFrames(draft.video)).toBe(countFrames(standard.video));
    expect(Math.abs(integratedLoudness(draft.video) + 16)).toBeLessThanOrEqual(1);
    expect((await stat(draft.video)).size).toBeLessThan((await stat(standard.video)).size);
  });

  it("encodes with the standard's x264 settings, at a quarter of the pixels", async () => {
    // Veryfast tuned for stills (diamond search, subpixel refinement 1, no sub-partitions), mb-tree on, CRF 23.
    for (const quality of ["standard", "draft"] as const) {
      const settings = await encoderSettings(builds[quality].video);
      expect(settings, quality).toMatch(/ analyse=0x3:0 me=dia subme=1 /);
      expect(settings, quality).toMatch(/ mbtree=1 crf=23\.0 /);
    }
  });

  it("has keys of its own: no output of one quality stands in for the other", () => {
    const { standard, draft } = builds;
    expect(Object.keys(draft.keys).sort()).toEqual(Object.keys(standard.keys).sort());
    for (const id of Object.keys(standard.keys)) expect(draft.keys[id], id).not.toBe(standard.keys[id]);
  });
});
