import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { build, plan } from "../../src/engine/build.js";
import { TestRenderer } from "../../src/render/test-renderer.js";
import { copyExample, editStory } from "../helpers/story-dir.js";

async function buildWith(story: string, options: { failOn?: string[] } = {}) {
  const renderer = new TestRenderer(options);
  const result = await build(story, { renderer, jobs: 4 });
  return { result, calls: [...renderer.calls].sort() };
}

async function builtPromo() {
  const { dir, story } = await copyExample("promo-vertical", "promo.yaml");
  const first = await buildWith(story);
  expect(first.result.ok).toBe(true);
  return { dir, story, all: first.calls };
}

describe("incremental builds", () => {
  it("a first build renders every node once; a no-op build renders nothing", async () => {
    const { story, all } = await builtPromo();
    // 3 characters, 2 environments, 3 objects, music, title, 6 scenes x 3, video
    expect(all).toHaveLength(3 + 2 + 3 + 1 + 1 + 18 + 1);
    const again = await buildWith(story);
    expect(again.result.ok).toBe(true);
    expect(again.calls).toEqual([]);
    if (again.result.ok) expect(again.result.summary.fresh).toHaveLength(all.length);
  });

  it("changing one scene's narration renders exactly that narration, its clip and the video", async () => {
    const { story } = await builtPromo();
    await editStory(story, "Then a heartbeat joins in.", "Then a steady heartbeat joins in.");
    expect((await buildWith(story)).calls).toEqual(["scene/drum-in/clip", "scene/drum-in/narration", "video"]);
  });

  it("changing a character renders it, exactly the scene images that show it, their clips and the video", async () => {
    const { story } = await builtPromo();
    await editStory(story, "A tiny orange fox kit", "A tiny red fox kit");
    expect((await buildWith(story)).calls).toEqual(
      [
        "element/characters/Pip",
        "scene/tune-up/image",
        "scene/tune-up/clip",
        "scene/crowd/image",
        "scene/crowd/clip",
        "scene/bow/image",
        "scene/bow/clip",
        "video",
      ].sort(),
    );
  });

  it("reordering scenes renders only the video", async () => {
    const { story } = await builtPromo();
    const text = await readFile(story, "utf8");
    const start = text.indexOf("  - id: tune-up");
    const middle = text.indexOf("  - id: drum-in");
    const end = text.indexOf("  - id: brass");
    await writeFile(story, text.slice(0, start) + text.slice(middle, end) + text.slice(start, middle) + text.slice(end));
    expect((await buildWith(story)).calls).toEqual(["video"]);
  });

  it("reordering scenes without ids renders only the video, from the cache", async () => {
    const { story } = await builtPromo();
    await writeFile(story, (await readFile(story, "utf8")).replace(/^ {2}- id: [a-z-]+\n {4}description/gm, "  - description"));
    await buildWith(story);
    const text = await readFile(story, "utf8");
    const first = text.indexOf("  - description");
    const second = text.indexOf("  - description", first + 1);
    const third = text.indexOf("  - description", second + 1);
    await writeFile(story, text.slice(0, first) + text.slice(second, third) + text.slice(first, second) + text.slice(third));
    const { result, calls } = await buildWith(story);
    expect(calls).toEqual(["video"]);
    if (result.ok) expect(result.summary.restored.length).toBeGreaterThan(0);
  });

  it("reverting an edit renders nothing: the outputs come from the cache", async () => {
    const { story } = await builtPromo();
    const original = await readFile(story, "utf8");
    await editStory(story, "A big brown bear cub", "A big black bear cub");
    expect((await buildWith(story)).calls.length).toBeGreaterThan(0);
    await writeFile(story, original);
    const { result, calls } = await buildWith(story);
    expect(calls).toEqual([]);
    expect(result.ok && result.summary.restored).toContain("element/characters/Bruno");
  });

  it("keeps the lockfile byte-identical on a no-op build, and changes only the edited nodes' entries", async () => {
    const { story, dir } = await builtPromo();
    const lockPath = join(dir, "promo.lock");
    const before = await readFile(lockPath, "utf8");
    await buildWith(story);
    expect(await readFile(lockPath, "utf8")).toBe(before);
    await editStory(story, "And a bright voice calls everyone near.", "And a bright voice calls the meadow near.");
    await buildWith(story);
    const after = JSON.parse(await readFile(lockPath, "utf8"));
    const old = JSON.parse(before);
    const changed = Object.keys(after.nodes).filter((id) => JSON.stringify(after.nodes[id]) !== JSON.stringify(old.nodes[id]));
    expect(changed.sort()).toEqual(["scene/brass/clip", "scene/brass/narration", "video"]);
    expect(Object.keys(after.nodes)).toEqual([...Object.keys(after.nodes)].sort());
  });

  it("drops removed scenes from the lockfile and plans them as removals", async () => {
    const { story, dir } = await builtPromo();
    const text = await readFile(story, "utf8");
    await writeFile(story, text.slice(0, text.indexOf("  - id: bow")));
    const planned = await plan(story, { renderer: new TestRenderer() });
    expect(planned.ok && planned.plan.items.filter((i) => i.action === "delete").map((i) => i.id)).toEqual(["scene/bow/clip", "scene/bow/image", "scene/bow/narration"]);
    expect((await buildWith(story)).calls).toEqual(["video"]);
    const lock = JSON.parse(await readFile(join(dir, "promo.lock"), "utf8"));
    expect(Object.keys(lock.nodes).some((id) => id.startsWith("scene/bow/"))).toBe(false);
  });

  it("a corrupted or missing cache blob makes its node stale, never a crash", async () => {
    const { story, dir } = await builtPromo();
    const lock = JSON.parse(await readFile(join(dir, "promo.lock"), "utf8"));
    const blob = join(dir, lock.nodes["scene/brass/image"].outputs[0].cache);
    await chmod(blob, 0o644);
    await writeFile(blob, "garbage");
    const planned = await plan(story, { renderer: new TestRenderer() });
    expect(planned.ok && planned.plan.items.find((i) => i.id === "scene/brass/image")).toMatchObject({ action: "update", reasons: ["output missing from the cache"] });
    // Same key, so nothing downstream changes: only the damaged output is made again.
    expect((await buildWith(story)).calls).toEqual(["scene/brass/image"]);
  });

  it("a failed node keeps every finished one; the rerun renders only what is left", async () => {
    const { story } = await copyExample("promo-vertical", "promo.yaml");
    const failed = await buildWith(story, { failOn: ["scene/night-set/clip"] });
    expect(failed.result.ok).toBe(false);
    if (!failed.result.ok) expect(failed.result.failure).toMatchObject({ reason: "nodes-failed" });
    const rerun = await buildWith(story);
    expect(rerun.calls).toContain("scene/night-set/clip");
    expect(rerun.calls.filter((id) => failed.calls.includes(id))).toEqual([]);
    expect(rerun.calls.length + failed.calls.length).toBe(29);
  });

  it("with keepGoing, a failure stops only what depends on it", async () => {
    const { story } = await copyExample("promo-vertical", "promo.yaml");
    const renderer = new TestRenderer({ failOn: ["scene/night-set/clip"] });
    const result = await build(story, { renderer, jobs: 4, keepGoing: true });
    expect(!result.ok && result.failure.reason === "nodes-failed" && result.failure.summary.skipped).toEqual(["video"]);
    expect((await buildWith(story)).calls).toEqual(["scene/night-set/clip", "video"]);
  });

  it("--force renders a node again with everything downstream", async () => {
    const { story } = await builtPromo();
    const renderer = new TestRenderer();
    await build(story, { renderer, force: ["scene/bow/narration"] });
    expect([...renderer.calls].sort()).toEqual(["scene/bow/clip", "scene/bow/narration", "video"]);
  });

  it("a different renderer makes every node stale, and plans say why", async () => {
    const { story } = await builtPromo();
    const other = new TestRenderer();
    Object.assign(other, { identity: { name: "test", version: "2" } });
    const planned = await plan(story, { renderer: other });
    expect(planned.ok && planned.plan.counts).toMatchObject({ update: 29, fresh: 0 });
    expect(planned.ok && planned.plan.items[0]!.reasons).toEqual(["renderer changed"]);
  });

  it("an invalid story builds nothing and says why", async () => {
    const { story, dir } = await copyExample("promo-vertical", "promo.yaml");
    await editStory(story, "**Pip** tunes", "**Pipp** tunes");
    const { result, calls } = await buildWith(story);
    expect(calls).toEqual([]);
    expect(!result.ok && result.failure).toMatchObject({ reason: "invalid-story" });
    await expect(readFile(join(dir, "promo.lock"))).rejects.toThrow();
  });

  it("a referenced file that vanished after a build is reported at its line, not a crash", async () => {
    const { story, dir } = await copyExample("lighthouse", "lighthouse.yaml");
    expect((await buildWith(story)).result.ok).toBe(true);
    const { rm } = await import("node:fs/promises");
    await rm(join(dir, "refs", "keeper.png"));
    const { result } = await buildWith(story);
    expect(!result.ok && result.failure).toMatchObject({ reason: "invalid-story", diagnostics: [{ code: "missing-file", start: { line: 18, column: 16 } }] });
  });

  it("a changed reference image makes its element and what shows it stale", async () => {
    const { story, dir } = await copyExample("lighthouse", "lighthouse.yaml");
    await buildWith(story);
    const { appendFile } = await import("node:fs/promises");
    await appendFile(join(dir, "refs", "lantern.png"), Buffer.from([0]));
    expect((await buildWith(story)).calls).toEqual(
      ["element/objects/Lantern", "scene/climb/image", "scene/climb/clip", "scene/lamp/image", "scene/lamp/clip", "video"].sort(),
    );
  });

  it("a damaged lockfile is reported with its position", async () => {
    const { story, dir } = await builtPromo();
    await writeFile(join(dir, "promo.lock"), '{\n  "lockfileVersion": 1,\n  "nodes": {\n<<<<<<< HEAD\n');
    const { result } = await buildWith(story);
    expect(!result.ok && result.failure).toMatchObject({ reason: "lockfile", message: "the lockfile has unresolved merge conflict markers", line: 4 });
  });
});
