import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { binPath, runBin, STACK_TRACE } from "../helpers/cli.js";
import { copyExample } from "../helpers/story-dir.js";
import { Changes } from "../helpers/wait.js";

const planRenderer = async (dir: string, args: string[] = []) => {
  const r = await runBin(["plan", "--json", "suited-man.yaml", ...args], { cwd: dir });
  expect(r.stderr).toBe("");
  return (JSON.parse(r.stdout) as { renderer: string }).renderer;
};

describe("storyc.config.yaml", () => {
  it("sets the renderer and the output folder of plan and build; a flag wins over it", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    expect(await planRenderer(dir)).toBe("local");
    await writeFile(join(dir, "storyc.config.yaml"), "# project defaults\nrenderer: test\nout: renders\njobs: 1\n");
    expect(await planRenderer(dir)).toBe("test");
    expect(await planRenderer(dir, ["--renderer", "local"])).toBe("local");

    const built = await runBin(["build", "suited-man.yaml"], { cwd: dir });
    expect(built.code).toBe(0);
    expect(await readdir(join(dir, "renders", "suited-man"))).toContain("suited-man.txt");
    expect(existsSync(join(dir, "out"))).toBe(false);
  }, 60_000);

  it.each([
    ["jobs: 0\n", "storyc.config.yaml:1:7: error[out-of-range]", "`jobs` must be >= 1"],
    ["renderer: test\nrendrer: local\n", "storyc.config.yaml:2:1: error[unknown-field]", "did you mean `renderer`?"],
    ["quality: ultra\n", "storyc.config.yaml:1:10: error[invalid-value]", "write one of: standard, high"],
    ["renderer: [local\n", "storyc.config.yaml:", "error[yaml-syntax]"],
    ["- local\n", "storyc.config.yaml:1:1: error[not-a-mapping]", "the project config is a YAML mapping"],
  ])("an invalid config (%j) stops the build with its position and a way out, and writes nothing", async (text, where, what) => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    await writeFile(join(dir, "storyc.config.yaml"), text);
    for (const command of ["build", "plan"]) {
      const r = await runBin([command, "suited-man.yaml", "--renderer", "test"], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(where);
      expect(r.stderr).toContain(what);
      expect(r.stderr).toContain("the project config is invalid");
      expect(r.stderr).not.toMatch(STACK_TRACE);
    }
    expect(existsSync(join(dir, "suited-man.lock"))).toBe(false);
  });

  it("a --quality that is not one of the config's values is a usage error, as in the config", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    const r = await runBin(["plan", "suited-man.yaml", "--quality", "ultra"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("expected one of: standard, high");
  });

  it("a config of comments only changes nothing", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    await writeFile(join(dir, "storyc.config.yaml"), "# renderer: vimmerse\n");
    expect(await planRenderer(dir)).toBe("local");
  });

  it("storyc watch builds again when the config is saved, and shows an invalid config without stopping", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    await writeFile(join(dir, "storyc.config.yaml"), "renderer: test\n");
    const child = spawn(process.execPath, [binPath, "watch", "suited-man.yaml"], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    const changes = new Changes();
    child.stdout.on("data", (d) => {
      out += d;
      changes.notify();
    });
    const until = (pred: () => boolean, what: string) => changes.until(pred, what, 30_000, () => out);
    const waits = () => out.split("waiting for changes").length - 1;
    try {
      await until(() => waits() === 1, "the first build");
      expect(existsSync(join(dir, "out", "suited-man", "suited-man.txt"))).toBe(true);

      await writeFile(join(dir, "storyc.config.yaml"), "renderer: test\njobs: -2\n");
      await until(() => out.includes("fix the project config and save; still watching"), "the config's diagnostics");
      expect(out).toContain("storyc.config.yaml:2:7: error[out-of-range]");

      await writeFile(join(dir, "storyc.config.yaml"), "renderer: test\nout: renders\n");
      await until(() => waits() === 2, "the build after the fix");
      expect(await readdir(join(dir, "renders", "suited-man"))).toContain("suited-man.txt");
    } finally {
      child.kill("SIGINT");
      await new Promise((resolve) => child.on("close", resolve));
    }
  }, 60_000);
});
