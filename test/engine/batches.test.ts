import { rm } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { build } from "../../src/engine/build.js";
import { TestRenderer } from "../../src/render/test-renderer.js";
import type { BatchInput, RenderNode, RenderResult } from "../../src/render/types.js";
import { copyExample, editStory } from "../helpers/story-dir.js";

/**
 * A renderer that makes all scene clips with one piece of work, as a cloud
 * renderer makes one request for several nodes: the engine, not the
 * renderer, decides when that batch runs.
 */
class BatchingRenderer extends TestRenderer {
  readonly batches: Array<{ key: string; ids: string[]; peers: string[]; depsDone: boolean }> = [];

  batchOf(node: RenderNode): string | undefined {
    return node.kind === "scene-clip" ? "clips" : undefined;
  }

  async renderBatch(batch: BatchInput): Promise<Array<RenderResult | Error>> {
    // Every member's dependencies are handed over finished, with their files.
    const depsDone = batch.inputs.every((i) => Object.values(i.deps).flat().every((d) => Object.keys(d.files).length > 0));
    this.batches.push({ key: batch.key, ids: batch.inputs.map((i) => i.node.id), peers: batch.peers.map((p) => p.id), depsDone });
    return Promise.all(batch.inputs.map((i) => (i.node.id.includes("focused") && this.failFocused ? Promise.resolve(new Error("told to fail")) : this.render(i))));
  }

  failFocused = false;
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("batches are scheduled by the engine", () => {
  it("runs a batch once, with all its members, after their dependencies; unchanged members come as peers", async () => {
    const { dir, story } = await copyExample("suited-man", "suited-man.yaml");
    dirs.push(dir);
    const renderer = new BatchingRenderer();
    expect((await build(story, { renderer, jobs: 4 })).ok).toBe(true);
    expect(renderer.batches).toEqual([{ key: "clips", ids: ["scene/introduction/clip", "scene/focused-walk/clip"], peers: [], depsDone: true }]);

    await editStory(story, "He knows exactly where he is going, and why.", "He knows where he is going.");
    const again = new BatchingRenderer();
    expect((await build(story, { renderer: again, jobs: 4 })).ok).toBe(true);
    expect(again.batches).toEqual([{ key: "clips", ids: ["scene/focused-walk/clip"], peers: ["scene/introduction/clip"], depsDone: true }]);
  });

  it("a member's error fails that member alone; the others are stored", async () => {
    const { dir, story } = await copyExample("suited-man", "suited-man.yaml");
    dirs.push(dir);
    const renderer = new BatchingRenderer();
    renderer.failFocused = true;
    const result = await build(story, { renderer, jobs: 4, keepGoing: true });
    const summary = !result.ok && result.failure.reason === "nodes-failed" ? result.failure.summary : null;
    expect(summary?.failed).toEqual([{ id: "scene/focused-walk/clip", error: "told to fail" }]);
    expect(summary?.rendered).toContain("scene/introduction/clip");
    expect(summary?.skipped).toContain("video");
  });
});
