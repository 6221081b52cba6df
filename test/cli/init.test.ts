import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBin, STACK_TRACE } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

describe("storyc init", () => {
  it("creates a story that validates, a .gitignore and a README", async () => {
    const dir = join(tempDir("init-"), "harbour-tale");
    const r = await runBin(["init", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("story.yaml");
    const story = await readFile(join(dir, "story.yaml"), "utf8");
    expect(story.split("\n")[0]).toMatch(/^# yaml-language-server: \$schema=.*schemas\/story\.schema\.json$/);
    expect(story).toContain('title: "Harbour tale"');
    expect(await readFile(join(dir, ".gitignore"), "utf8")).toMatch(/^\.storyc\/$/m);
    expect(await readFile(join(dir, "README.md"), "utf8")).toContain("storyc validate");
    const v = await runBin(["validate", "--strict", join(dir, "story.yaml")]);
    expect(v.code).toBe(0);
  });

  it("writes a project config that plan reads, with a modeline to its schema", async () => {
    const dir = tempDir("init-");
    await runBin(["init", dir]);
    const config = await readFile(join(dir, "storyc.config.yaml"), "utf8");
    const ref = /\$schema=(.*)$/m.exec(config)![1]!;
    expect(JSON.parse(await readFile(join(dir, ref), "utf8")).title).toBe("storyc project configuration");
    await writeFile(join(dir, "storyc.config.yaml"), config.replace("renderer: local", "renderer: test"));
    const plan = await runBin(["plan", "--json", "story.yaml"], { cwd: dir });
    expect(JSON.parse(plan.stdout).renderer).toBe("test");
  });

  it("the schema modeline points at the schema file", async () => {
    const dir = tempDir("init-");
    await runBin(["init", dir]);
    const story = await readFile(join(dir, "story.yaml"), "utf8");
    const ref = /\$schema=(.*)$/m.exec(story)![1]!;
    const schema = JSON.parse(await readFile(join(dir, ref), "utf8"));
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });

  it("refuses to overwrite a story, and adds to an existing .gitignore", async () => {
    const dir = tempDir("init-");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, ".gitignore"), "node_modules\n");
    expect((await runBin(["init", dir])).code).toBe(0);
    expect(await readFile(join(dir, ".gitignore"), "utf8")).toBe("node_modules\n.storyc/\nout/\n");
    const again = await runBin(["init", dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
    expect(again.stderr).not.toMatch(STACK_TRACE);
  });
});
