import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { build, plan } from "../../src/engine/build.js";
import { TestRenderer } from "../../src/render/test-renderer.js";
import { binPath, runBin } from "../helpers/cli.js";
import { editStory } from "../helpers/story-dir.js";
import { git, TempDirs } from "../helpers/story-repo.js";

const temps = new TempDirs();
afterEach(() => temps.removeAll());

async function buildAndCommit(repo: string, message: string): Promise<void> {
  const result = await build(join(repo, "promo.yaml"), { renderer: new TestRenderer(), jobs: 4 });
  expect(result.ok).toBe(true);
  await temps.commitAll(repo, message);
}

describe("storyc merge-lock (git merge driver)", () => {
  it("storyc init registers it: .gitattributes and the repository's git config", async () => {
    const dir = await temps.make("init");
    await git(dir, "init", "-q", ".");
    const r = await runBin(["init", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("registered the lockfile merge driver");
    expect(await readFile(join(dir, ".gitattributes"), "utf8")).toMatch(/^\*\.lock merge=storyc-lock$/m);
    expect((await git(dir, "config", "merge.storyc-lock.driver")).trim()).toBe("npx --no-install storyc merge-lock %O %A %B");
    expect(await readFile(join(dir, "README.md"), "utf8")).toContain('git config merge.storyc-lock.driver "npx --no-install storyc merge-lock %O %A %B"');
  });

  it("two branches that changed different scenes merge without conflict; the merged lockfile plans only what both changed", async () => {
    const repo = await temps.storyRepo("promo-vertical");
    await writeFile(join(repo, ".gitattributes"), "*.lock merge=storyc-lock\n");
    // What storyc init registers, pointed at this checkout's storyc rather than npx.
    await git(repo, "config", "merge.storyc-lock.driver", `"${process.execPath}" "${binPath}" merge-lock %O %A %B`);
    await buildAndCommit(repo, "first build");

    await git(repo, "checkout", "-q", "-b", "drum");
    await editStory(join(repo, "promo.yaml"), "Then a heartbeat joins in.", "Then a steady heartbeat joins in.");
    await buildAndCommit(repo, "drum-in: new narration");

    await git(repo, "checkout", "-q", "main");
    await git(repo, "checkout", "-q", "-b", "crowd");
    await editStory(join(repo, "promo.yaml"), "Three friends, one song,", "Three friends, one tune,");
    await buildAndCommit(repo, "crowd: new narration");

    await git(repo, "merge", "-q", "--no-edit", "drum");
    const merged = await readFile(join(repo, "promo.lock"), "utf8");
    expect(merged).not.toMatch(/^(<{7}|={7}|>{7})/m);
    expect(JSON.parse(merged).nodes.video).toBeUndefined(); // both branches changed it: dropped, to be made again

    const result = await plan(join(repo, "promo.yaml"), { renderer: new TestRenderer() });
    if (!result.ok) throw new Error(JSON.stringify(result.failure));
    const stale = result.plan.items.filter((i) => i.action !== "fresh").map((i) => `${i.action} ${i.id}`);
    expect(stale).toEqual(["create video"]);
    // Each branch's own scene came through the merge.
    const fresh = result.plan.items.filter((i) => i.action === "fresh").map((i) => i.id);
    expect(fresh).toEqual(expect.arrayContaining(["scene/drum-in/narration", "scene/crowd/narration", "scene/drum-in/clip", "scene/crowd/clip"]));
  });

  it("an entry changed differently on both sides is dropped, never left with conflict markers", async () => {
    const dir = await temps.make("merge-files");
    const entry = (key: string) => ({ key, digests: {}, outputs: [{ name: "a.txt", sha256: key.repeat(64).slice(0, 64), size: 1, cache: "x" }] });
    const lock = (nodes: Record<string, unknown>) => JSON.stringify({ lockfileVersion: 1, story: "s.yaml", renderer: "test", nodes });
    const [o, a, b] = ["o", "a", "b"].map((n) => join(dir, n));
    await writeFile(o!, lock({ music: entry("1"), title: entry("2"), video: entry("3") }));
    await writeFile(a!, lock({ music: entry("4"), title: entry("2"), video: entry("5") }));
    await writeFile(b!, lock({ music: entry("1"), title: entry("6"), video: entry("7") }));
    const r = await runBin(["merge-lock", o!, a!, b!]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("1 entry changed on both sides, dropped (the next build makes them again): video");
    const merged = JSON.parse(await readFile(a!, "utf8")) as { nodes: Record<string, { key: string }> };
    expect(Object.fromEntries(Object.entries(merged.nodes).map(([id, e]) => [id, e.key]))).toEqual({ music: "4", title: "6" });
  });

  it("another tool's *.lock (not a storyc lockfile) is merged line by line, as git would without the driver", async () => {
    const dir = await temps.make("merge-other");
    const [o, a, b] = ["o", "a", "b"].map((n) => join(dir, `${n}.lock`));
    await writeFile(o!, "alpha 1\nbeta 1\ngamma 1\n");
    await writeFile(a!, "alpha 2\nbeta 1\ngamma 1\n");
    await writeFile(b!, "alpha 1\nbeta 1\ngamma 2\n");
    expect((await runBin(["merge-lock", o!, a!, b!])).code).toBe(0);
    expect(await readFile(a!, "utf8")).toBe("alpha 2\nbeta 1\ngamma 2\n");
  });
});
