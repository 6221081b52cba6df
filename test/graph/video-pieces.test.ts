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

describe("the video's pieces as nodes of their own", () => {
  it("fade into each scene from the title card or the scene before, reading their stills and narrations, not their clips", async () => {
    const graph = await buildGraph(await bunny(), storyFile, { renderer, videoPieces: true });
    const fades = graph.nodes.filter((n) => n.kind === "crossfade");
    expect(fades.map((n) => n.id)).toEqual(["scene/hop/crossfade", "scene/scent/crossfade", "scene/discovery/crossfade", "scene/taste/crossfade"]);
    expect(fades[0]!.deps).toEqual({ title: "title", image: "scene/hop/image", narration: "scene/hop/narration" });
    expect(fades[1]!.deps).toEqual({ previousImage: "scene/hop/image", previousNarration: "scene/hop/narration", image: "scene/scent/image", narration: "scene/scent/narration" });
    expect(graph.byId.get("video")!.deps.crossfades).toEqual(fades.map((n) => n.id));
    // Listed after what they read, as the engine requires.
    const at = new Map(graph.nodes.map((n, i) => [n.id, i]));
    for (const fade of fades) for (const dep of Object.values(fade.deps).flat()) expect(at.get(dep)!).toBeLessThan(at.get(fade.id)!);
  });

  it("give each scene, and the title card, a piece of sound made from its narration and the music, which the video joins", async () => {
    const graph = await buildGraph(await bunny(), storyFile, { renderer, videoPieces: true });
    const sounds = graph.nodes.filter((n) => n.kind === "sound");
    expect(sounds.map((n) => [n.id, n.deps])).toEqual([
      ["title/sound", { music: "music" }],
      ["scene/hop/sound", { narration: "scene/hop/narration", music: "music" }],
      ["scene/scent/sound", { narration: "scene/scent/narration", music: "music" }],
      ["scene/discovery/sound", { narration: "scene/discovery/narration", music: "music" }],
      ["scene/taste/sound", { narration: "scene/taste/narration", music: "music" }],
    ]);
    expect(graph.byId.get("video")!.deps.sounds).toEqual(sounds.map((n) => n.id));
    // The video reads the music only through them.
    expect(graph.byId.get("video")!.deps.music).toBeUndefined();
  });

  it("an edited narration changes the keys of its scene's sound, the crossfades on either side of its scene and no other", async () => {
    const before = await buildGraph(await bunny(), storyFile, { renderer, videoPieces: true });
    const after = await buildGraph(await bunny((t) => t.replace("A sweet aroma teases", "A sweet scent teases")), storyFile, { renderer, videoPieces: true });
    const changed = before.nodes.filter((n) => n.key !== after.byId.get(n.id)!.key).map((n) => n.id);
    expect(changed.sort()).toEqual(["scene/discovery/crossfade", "scene/scent/clip", "scene/scent/crossfade", "scene/scent/narration", "scene/scent/sound", "video"]);
  });

  it("make no crossfades for cuts, and nothing for a renderer that makes crossfades and sound with the video", async () => {
    const cuts = await buildGraph(await bunny((t) => t.replace("transitions: crossfade", "transitions: cut")), storyFile, { renderer, videoPieces: true });
    expect(cuts.nodes.filter((n) => n.kind === "crossfade")).toEqual([]);
    expect(cuts.byId.get("video")!.deps.crossfades).toBeUndefined();
    const joined = await buildGraph(await bunny(), storyFile, { renderer });
    expect(joined.nodes.filter((n) => n.kind === "crossfade" || n.kind === "sound")).toEqual([]);
    expect(joined.byId.get("video")!.deps.music).toBe("music");
  });
});
