import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { buildGraph } from "../../src/graph/build-graph.js";
import type { Story } from "../../src/story/types.js";
import { repoRoot } from "../helpers/cli.js";

const storyFile = join(repoRoot, "examples", "bunny", "bunny.yaml");
const renderer = { name: "local", version: "test" };

async function bunny(edit: (text: string) => string = (t) => t): Promise<Story> {
  return parse(edit(await readFile(storyFile, "utf8"))) as Story;
}

describe("crossfades as nodes of their own", () => {
  it("fade into each scene from the title card or the scene before, reading their stills and narrations, not their clips", async () => {
    const graph = await buildGraph(await bunny(), storyFile, { renderer, transitionNodes: true });
    const fades = graph.nodes.filter((n) => n.kind === "crossfade");
    expect(fades.map((n) => n.id)).toEqual(["scene/hop/crossfade", "scene/scent/crossfade", "scene/discovery/crossfade", "scene/taste/crossfade"]);
    expect(fades[0]!.deps).toEqual({ title: "title", image: "scene/hop/image", narration: "scene/hop/narration" });
    expect(fades[1]!.deps).toEqual({ previousImage: "scene/hop/image", previousNarration: "scene/hop/narration", image: "scene/scent/image", narration: "scene/scent/narration" });
    expect(graph.byId.get("video")!.deps.crossfades).toEqual(fades.map((n) => n.id));
    // Listed after what they read, as the engine requires.
    const at = new Map(graph.nodes.map((n, i) => [n.id, i]));
    for (const fade of fades) for (const dep of Object.values(fade.deps).flat()) expect(at.get(dep)!).toBeLessThan(at.get(fade.id)!);
  });

  it("an edited narration changes the keys of the crossfades on either side of its scene and no other", async () => {
    const before = await buildGraph(await bunny(), storyFile, { renderer, transitionNodes: true });
    const after = await buildGraph(await bunny((t) => t.replace("A sweet aroma teases", "A sweet scent teases")), storyFile, { renderer, transitionNodes: true });
    const changed = before.nodes.filter((n) => n.key !== after.byId.get(n.id)!.key).map((n) => n.id);
    expect(changed.sort()).toEqual(["scene/discovery/crossfade", "scene/scent/clip", "scene/scent/crossfade", "scene/scent/narration", "video"]);
  });

  it("are not made for cuts, nor for a renderer that draws crossfades when it joins the video", async () => {
    const cuts = await buildGraph(await bunny((t) => t.replace("transitions: crossfade", "transitions: cut")), storyFile, { renderer, transitionNodes: true });
    expect(cuts.nodes.filter((n) => n.kind === "crossfade")).toEqual([]);
    expect(cuts.byId.get("video")!.deps.crossfades).toBeUndefined();
    const joined = await buildGraph(await bunny(), storyFile, { renderer });
    expect(joined.nodes.filter((n) => n.kind === "crossfade")).toEqual([]);
  });
});
