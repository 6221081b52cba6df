import { describe, expect, it } from "vitest";
import type { BuildGraph, GraphNode, NodeKind } from "../../src/graph/nodes.js";
import { criticalPathOrder } from "../../src/engine/priority.js";

/** A two-scene story's graph, in the dependency order buildGraph gives. */
function storyGraph(): BuildGraph {
  const node = (id: string, kind: NodeKind, deps: Record<string, string | string[]> = {}) => ({ id, kind, label: id, inputs: {}, deps, key: id, digests: {} }) as unknown as GraphNode;
  const nodes = [
    node("element/characters/Bunny", "element"),
    node("music", "music"),
    node("title", "title", { elements: ["element/characters/Bunny"] }),
    node("scene/a/image", "scene-image", { elements: ["element/characters/Bunny"] }),
    node("scene/a/narration", "scene-narration"),
    node("scene/a/clip", "scene-clip", { image: "scene/a/image", narration: "scene/a/narration" }),
    node("scene/b/image", "scene-image", { elements: ["element/characters/Bunny"] }),
    node("scene/b/narration", "scene-narration"),
    node("scene/b/clip", "scene-clip", { image: "scene/b/image", narration: "scene/b/narration" }),
    node("video", "video", { title: "title", music: "music", clips: ["scene/a/clip", "scene/b/clip"] }),
  ];
  return { nodes, byId: new Map(nodes.map((n) => [n.id, n])), renderer: { name: "local", version: "test" } };
}

const ids = (nodes: GraphNode[]) => nodes.map((n) => n.id);

describe("the engine's order of ready nodes", () => {
  it("starts what unlocks the clip encodes before the music, which only the video reads", () => {
    const weights: Record<NodeKind, number> = { element: 1, "scene-image": 1, "scene-narration": 2, music: 4, title: 10, "scene-clip": 16, crossfade: 3, sound: 1, video: 2 };
    const order = ids(criticalPathOrder(storyGraph(), (k) => weights[k]));
    expect(order.indexOf("scene/b/narration")).toBeLessThan(order.indexOf("music"));
    expect(order.indexOf("scene/a/image")).toBeLessThan(order.indexOf("title"));
    expect(order.at(-1)).toBe("video");
    // Every node still comes after the nodes it reads.
    for (const n of storyGraph().nodes) for (const d of Object.values(n.deps).flat()) expect(order.indexOf(d)).toBeLessThan(order.indexOf(n.id));
  });

  it("keeps the graph's order where the chains weigh the same", () => {
    const graph = storyGraph();
    const order = ids(criticalPathOrder(graph, () => 1));
    // With equal weights the element (four deep) leads, and each scene keeps its image before its narration.
    expect(order[0]).toBe("element/characters/Bunny");
    expect(order.indexOf("scene/a/image")).toBeLessThan(order.indexOf("scene/a/narration"));
    expect(order.indexOf("scene/a/narration")).toBeLessThan(order.indexOf("scene/b/image"));
  });
});
