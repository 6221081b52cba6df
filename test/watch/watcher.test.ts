import { spawn } from "node:child_process";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixedBuild, StoryWatcher, type WatcherEvent } from "../../src/watch/watcher.js";
import { binPath } from "../helpers/cli.js";
import { copyExample } from "../helpers/story-dir.js";
import { RenderControl } from "../helpers/render-control.js";
import { Changes } from "../helpers/wait.js";

function recorder() {
  const events: WatcherEvent[] = [];
  const changes = new Changes();
  const builds = () => events.filter((e): e is Extract<WatcherEvent, { type: "built" }> => e.type === "built");
  const until = (pred: () => boolean, what: string) => changes.until(pred, what);
  const rendered = (b: Extract<WatcherEvent, { type: "built" }>) => (b.result.ok ? b.result.summary.rendered : "summary" in b.result.failure ? b.result.failure.summary.rendered : []);
  return {
    events,
    builds,
    until,
    rendered,
    onEvent: (e: WatcherEvent) => {
      events.push(e);
      changes.notify();
    },
  };
}

describe("StoryWatcher", () => {
  it("a save during a build cancels it, keeps what finished, and builds again", async () => {
    const { story } = await copyExample("promo-vertical", "promo.yaml");
    const r = recorder();
    const control = await new RenderControl().listen();
    const watcher = new StoryWatcher(story, { prepare: fixedBuild({ renderer: "test", env: { STORYC_TEST_CONTROL: control.address }, jobs: 1 }, true), debounceMs: 30, onEvent: r.onEvent });
    try {
      control.releaseAll(true);
      await watcher.start();
      await r.until(() => r.builds().length === 1, "the first build");
      control.releaseAll(false);
      await writeFile(story, (await readFile(story, "utf8")).replace("Then a heartbeat joins in.", "Then a drum joins in."));
      // The second build finishes one node, and is saved over while it holds the next.
      (await control.next()).go();
      const held = await control.next();
      await writeFile(story, (await readFile(story, "utf8")).replace("And a bright voice calls everyone near.", "And a trumpet calls."));
      await held.aborted;
      control.releaseAll(true);
      held.go();
      await r.until(() => r.builds().length === 3, "the cancelled build and the next one");
    } finally {
      await watcher.stop();
      await control.close();
    }
    const [, cancelled, last] = r.builds();
    expect(!cancelled!.result.ok && cancelled!.result.failure.reason).toBe("cancelled");
    expect(r.events.some((e) => e.type === "state" && e.state === "cancelling")).toBe(true);
    expect(last!.result.ok).toBe(true);
    // What the cancelled build finished is not made again.
    const again = r.rendered(last!).filter((id) => r.rendered(cancelled!).includes(id));
    expect(again).toEqual([]);
    expect(r.rendered(last!)).toContain("scene/brass/narration");
  }, 60_000);

  it("a save during a build that cannot be cancelled (a paid job) lets it finish, then builds once more", async () => {
    const { story } = await copyExample("promo-vertical", "promo.yaml");
    const r = recorder();
    const watcher = new StoryWatcher(story, { prepare: fixedBuild({ renderer: "test", env: { STORYC_TEST_RENDER_MS: "20" }, jobs: 2 }, false), debounceMs: 30, onEvent: r.onEvent });
    await watcher.start();
    await r.until(() => r.events.some((e) => e.type === "build" && e.event.type === "node-done"), "the first build to start");
    await writeFile(story, (await readFile(story, "utf8")).replace("Then a heartbeat joins in.", "Then a drum joins in."));
    await writeFile(story, (await readFile(story, "utf8")).replace("And a bright voice calls everyone near.", "And a trumpet calls."));
    await r.until(() => r.builds().length === 2, "the queued build");
    await watcher.stop();
    expect(r.builds().map((b) => b.result.ok)).toEqual([true, true]);
    expect(r.events.some((e) => e.type === "state" && e.state === "queued")).toBe(true);
    expect(r.events.some((e) => e.type === "state" && e.state === "cancelling")).toBe(false);
  }, 60_000);

  it("rebuilds when a reference image the story names is saved, and reports an invalid save without stopping", async () => {
    const { story, dir } = await copyExample("lighthouse", "lighthouse.yaml");
    const r = recorder();
    const watcher = new StoryWatcher(story, { prepare: fixedBuild({ renderer: "test", jobs: 2 }, true), debounceMs: 30, onEvent: r.onEvent });
    await watcher.start();
    await r.until(() => r.builds().length === 1, "the first build");
    await appendFile(join(dir, "refs", "keeper.png"), Buffer.from([0]));
    await r.until(() => r.builds().length === 2, "a build after the image changed");
    expect(r.rendered(r.builds()[1]!)).toContain("element/characters/Keeper");
    const good = await readFile(story, "utf8");
    await writeFile(story, good.replace("storyc: 1", "storyc: 7"));
    await r.until(() => r.events.some((e) => e.type === "invalid"), "the diagnostics");
    await writeFile(story, good.replace("One more night of light", "One last night of light"));
    await r.until(() => r.builds().length === 3, "the build after the fix");
    await watcher.stop();
    expect(r.builds()[2]!.result.ok).toBe(true);
  }, 60_000);
});

describe("storyc watch", () => {
  it("exits 130 on Ctrl-C", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    const child = spawn(process.execPath, [binPath, "watch", "suited-man.yaml", "--renderer", "test"], { cwd: dir });
    let out = "";
    const changes = new Changes();
    child.stdout.on("data", (d) => {
      out += d;
      changes.notify();
    });
    await changes.until(() => out.includes("waiting for changes"), "the first build", 20_000, () => out);
    child.kill("SIGINT");
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(130);
  }, 30_000);
});
