import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildStories } from "../../src/engine/stories.js";
import { TestRenderer } from "../../src/render/test-renderer.js";
import type { RenderInput, RenderResult } from "../../src/render/types.js";
import { repoRoot, runBin } from "../helpers/cli.js";
import { git, TempDirs } from "../helpers/story-repo.js";

const temps = new TempDirs();
afterEach(() => temps.removeAll());

/** A story repo with two stories that differ in one scene's narration, and a CI workflow that is not a story. */
async function twoStoryRepo(): Promise<string> {
  const dir = await temps.make("story-repo");
  await git(dir, "init", "-q", ".");
  await mkdir(join(dir, "stories"));
  const promo = await readFile(join(repoRoot, "examples", "promo-vertical", "promo.yaml"), "utf8");
  await writeFile(join(dir, "stories", "summer.yaml"), promo);
  await writeFile(join(dir, "stories", "winter.yaml"), promo.replace("Then a heartbeat joins in.", "Then a frosty heartbeat joins in."));
  await mkdir(join(dir, ".github", "workflows"), { recursive: true });
  await writeFile(join(dir, ".github", "workflows", "storyc.yml"), "name: storyc\non: [push]\njobs: {}\n");
  return dir;
}

/** Counts how many renders run at once, across every story using it. */
class CountingRenderer extends TestRenderer {
  running = 0;
  maxRunning = 0;
  override async render(input: RenderInput): Promise<RenderResult> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await super.render(input);
    } finally {
      this.running--;
    }
  }
}

describe("the story repo as a whole", () => {
  it("builds every story in one pool of jobs; a node two stories share is rendered once", async () => {
    const dir = await twoStoryRepo();
    const renderer = new CountingRenderer({ delayMs: 5 });
    const files = ["summer", "winter"].map((n) => join(dir, "stories", `${n}.yaml`));
    const outcome = await buildStories(files, { renderer, jobs: 3 });
    expect(outcome.ok).toBe(true);
    const times = new Map<string, number>();
    for (const id of renderer.calls) times.set(id, (times.get(id) ?? 0) + 1);
    // Only what differs is rendered for both stories: the changed narration, its clip, and each video.
    expect([...times].filter(([, n]) => n > 1).map(([id]) => id).sort()).toEqual(["scene/drum-in/clip", "scene/drum-in/narration", "video"]);
    expect(renderer.calls).toHaveLength(29 + 3);
    expect(renderer.maxRunning).toBeLessThanOrEqual(3);
    const [summer, winter] = outcome.builds.map((b) => (b.result.ok ? b.result.summary : null));
    expect(summer!.rendered.length + winter!.rendered.length).toBe(32);
    expect(summer!.restored.length + winter!.restored.length).toBe(26);
  });

  it("storyc plan with no story plans every story of the project, as a Markdown table for a pull request", async () => {
    const dir = await twoStoryRepo();
    const r = await runBin(["plan", "--renderer", "test", "--format", "markdown"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("**2 stories**: 58 to generate, 0 to regenerate, 0 to remove, 0 fresh");
    expect(r.stdout).toContain("### `stories/summer.yaml`");
    expect(r.stdout).toContain("| `+` | `video` | generate | new |");
    expect(r.stdout).not.toContain("storyc.yml");

    const built = await runBin(["build", "--renderer", "test", "stories/*.yaml"], { cwd: dir });
    expect(built.code).toBe(0);
    expect(built.stdout).toContain("Built 2 stories: 32 rendered, 26 restored from the cache, 0 fresh");
    const again = await runBin(["plan", "--renderer", "test", "--detailed-exitcode", "stories"], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("stories/winter.yaml");
  });

  it("a name that matches no story is a usage error", async () => {
    const dir = await twoStoryRepo();
    const r = await runBin(["build", "--renderer", "test", "nope/*.yaml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no story matches "nope/*.yaml"');
  });
});
