import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { build } from "../../src/engine/build.js";
import { LocalRenderer } from "../../src/render/local/index.js";
import { binPath } from "../helpers/cli.js";
import { copyExample } from "../helpers/story-dir.js";

const dirs: string[] = [];
/** Each test builds a story two or three times from a cold cache. */
const BUILDS_TIMEOUT = 300_000;
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface Built {
  dir: string;
  story: string;
  /** Each node's outputs, as name=sha256, from the lockfile. */
  nodes: Record<string, string[]>;
  video: string;
  rendered: string[];
}

async function buildIn(dir: string, story: string, name: string): Promise<Built> {
  const result = await build(story, { renderer: new LocalRenderer(), jobs: 2 });
  if (!result.ok) throw new Error(`build failed: ${JSON.stringify(result.failure).slice(0, 800)}`);
  return { ...(await builtOutputs(dir, name)), story, rendered: result.summary.rendered };
}

/** What a finished build left: each node's outputs from the lockfile, and the video's hash. */
async function builtOutputs(dir: string, name: string): Promise<Omit<Built, "story" | "rendered">> {
  const lock = JSON.parse(await readFile(join(dir, `${name}.lock`), "utf8")) as { nodes: Record<string, { outputs: Array<{ name: string; sha256: string }> }> };
  const nodes = Object.fromEntries(Object.entries(lock.nodes).map(([id, e]) => [id, e.outputs.map((o) => `${o.name}=${o.sha256}`)]));
  const video = createHash("sha256").update(await readFile(join(dir, "out", name, `${name}.mp4`))).digest("hex");
  return { dir, nodes, video };
}

async function fresh(example: string, file: string): Promise<Built> {
  const { dir, story } = await copyExample(example, file);
  dirs.push(dir);
  return buildIn(dir, story, file.replace(/\.yaml$/, ""));
}

describe("the same key gives the same bytes", () => {
  it.each([
    ["bunny", "bunny.yaml"],
    ["suited-man", "suited-man.yaml"],
    ["promo-vertical", "promo.yaml"],
    ["lighthouse", "lighthouse.yaml"],
  ])("%s built in two fresh folders: every node's hash and the MP4 are identical", async (example, file) => {
    const [a, b] = [await fresh(example, file), await fresh(example, file)];
    expect(Object.keys(a.nodes).length).toBeGreaterThan(5);
    expect(b.nodes).toEqual(a.nodes);
    expect(b.video).toBe(a.video);
  }, BUILDS_TIMEOUT);

  // A machine with fewer cores must make the same bytes: x264 takes its thread count from the
  // cores it may use, and its bitstream depends on that number. taskset gives the build one core.
  it.skipIf(availableParallelism() < 2)("bunny built on one core gives the bytes of a build on two", async () => {
    const two = await fresh("bunny", "bunny.yaml");
    const { dir, story } = await copyExample("bunny", "bunny.yaml");
    dirs.push(dir);
    const run = spawnSync("taskset", ["-c", "0", process.execPath, binPath, "build", story, "--jobs", "2"], { encoding: "utf8", timeout: BUILDS_TIMEOUT - 30_000, env: { ...process.env, NO_COLOR: "1" } });
    expect(run.status, run.stderr).toBe(0);
    const one = await builtOutputs(dir, "bunny");
    expect(one.nodes).toEqual(two.nodes);
    expect(one.video).toBe(two.video);
  }, BUILDS_TIMEOUT);

  it("reordering two scenes and inserting one, built incrementally, gives the video of a clean build", async () => {
    const edit = async (story: string) => {
      const doc = parseDocument(await readFile(story, "utf8"));
      const scenes = doc.get("scenes") as { items: unknown[] };
      const [first, second] = scenes.items as [unknown, unknown];
      scenes.items[0] = second;
      scenes.items[1] = first;
      scenes.items.splice(2, 0, doc.createNode({ id: "pause", description: "**Bunny** sits still under the trees, listening.", narrator: "For a moment, Bunny listens.", motion_description: "camera motion: static" }));
      await writeFile(story, doc.toString());
    };
    const incremental = await fresh("bunny", "bunny.yaml");
    await edit(incremental.story);
    const after = await buildIn(incremental.dir, incremental.story, "bunny");
    // Only the new scene, the crossfades between scenes that were not neighbours before and the
    // video are made again: the moved scenes keep their outputs, and so does the crossfade into taste.
    expect(after.rendered.sort()).toEqual([
      "scene/discovery/crossfade",
      "scene/hop/crossfade",
      "scene/pause/clip",
      "scene/pause/crossfade",
      "scene/pause/image",
      "scene/pause/narration",
      "scene/pause/sound",
      "scene/scent/crossfade",
      "video",
    ]);

    const { dir, story } = await copyExample("bunny", "bunny.yaml");
    dirs.push(dir);
    await edit(story);
    const clean = await buildIn(dir, story, "bunny");
    expect(after.nodes).toEqual(clean.nodes);
    expect(after.video).toBe(clean.video);
  }, BUILDS_TIMEOUT);
});
