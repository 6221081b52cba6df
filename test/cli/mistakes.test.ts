import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBin, runInProcess, STACK_TRACE } from "../helpers/cli.js";
import { copyExample } from "../helpers/story-dir.js";
import { tempDir } from "../helpers/temp.js";

describe("a newcomer's mistakes get a clear answer", () => {
  it.each(["plan", "build"])("%s --force with a pattern that matches nothing is an error naming the nearest node ids", async (command) => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    const r = await runInProcess([command, "--renderer", "test", "--force", "scene/introduction/imag", "--force", "scene/nope/*", "suited-man.yaml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--force scene/introduction/imag matches no node of this story");
    expect(r.stderr).toContain("did you mean --force 'scene/introduction/image'");
    expect(r.stderr).toContain("--force scene/nope/* matches no node");
    expect(r.stdout).toBe("");
    expect(existsSync(join(dir, "suited-man.lock"))).toBe(false);
  });

  it("a --force pattern that matches still forces its nodes, and only those", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    expect((await runBin(["build", "--renderer", "test", "suited-man.yaml"], { cwd: dir })).code).toBe(0);
    const r = await runInProcess(["plan", "--json", "--renderer", "test", "--force", "scene/introduction/*", "suited-man.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    const items = (JSON.parse(r.stdout) as { items: Array<{ id: string; action: string }> }).items;
    expect(items.find((i) => i.id === "scene/introduction/image")!.action).not.toBe("fresh");
    expect(items.find((i) => i.id === "scene/focused-walk/image")!.action).toBe("fresh");
  });

  it.each([[""], ["   "]])("new refuses an empty idea (%j) and writes nothing", async (idea) => {
    const dir = tempDir("new-");
    const r = await runInProcess(["new", "--renderer", "local", "--idea", idea, "-o", "s.yaml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--idea is empty");
    expect(existsSync(join(dir, "s.yaml"))).toBe(false);
  });

  it("new --renderer vimmerse without VIMMERSE_API_KEY refuses, and says how to go on", async () => {
    const dir = tempDir("new-");
    const r = await runInProcess(["new", "--renderer", "vimmerse", "--idea", "A fox learns to fly", "-o", "s.yaml"], { cwd: dir, env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("needs VIMMERSE_API_KEY");
    expect(r.stderr).toContain("--renderer local");
    expect(existsSync(join(dir, "s.yaml"))).toBe(false);
  });

  it("gc refuses a folder that does not exist", async () => {
    const r = await runBin(["gc", "/nonexistent-storyc-folder"], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("/nonexistent-storyc-folder: no such folder");
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });

  it("gc refuses a folder that is not a storyc project, and removes nothing", async () => {
    const dir = tempDir("not-a-project-");
    await mkdir(join(dir, "cache"));
    await writeFile(join(dir, "cache", "keep.bin"), "data");
    const r = await runBin(["gc", dir], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not in a storyc project");
    expect(existsSync(join(dir, "cache", "keep.bin"))).toBe(true);
  });

  it("gc in a project that storyc has built still runs", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    expect((await runBin(["build", "--renderer", "test", "suited-man.yaml"], { cwd: dir })).code).toBe(0);
    const r = await runBin(["gc"], { cwd: dir, timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 lockfile read");
  });
});
