import { execFile } from "node:child_process";
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { schemaPath } from "../../src/paths.js";
import { repoRoot, runBin } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

const exec = promisify(execFile);
const modeline = (text: string) => /^# yaml-language-server: \$schema=(.*)$/m.exec(text)![1]!;

describe("a story repo's $schema reference works for every collaborator", () => {
  it("init writes a copy of the schema into the repo, and the modeline still resolves in another clone", async () => {
    const dir = join(tempDir("repo-"), "tale");
    expect((await runBin(["init", dir])).code).toBe(0);
    const ref = modeline(await readFile(join(dir, "story.yaml"), "utf8"));
    expect(ref).toBe("schemas/story.schema.json");
    expect(await readFile(join(dir, ref), "utf8")).toBe(await readFile(schemaPath(), "utf8"));
    // A collaborator's clone lives somewhere else on another machine: the reference is inside the repo.
    const clone = join(tempDir("clone-"), "elsewhere");
    await cp(dir, clone, { recursive: true });
    expect(JSON.parse(await readFile(join(clone, ref), "utf8")).$id).toBe("https://storyc.dev/schemas/story.schema.json");
    const config = modeline(await readFile(join(clone, "storyc.config.yaml"), "utf8"));
    expect(JSON.parse(await readFile(join(clone, config), "utf8")).title).toBe("storyc project configuration");
  });

  it("new in a sub-folder of the repo points to the repo's copy", async () => {
    const dir = tempDir("repo-");
    await runBin(["init", dir]);
    const r = await runBin(["new", "--renderer", "local", "--idea", "A fox learns to fly", "-o", "drafts/fox.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    const ref = modeline(await readFile(join(dir, "drafts", "fox.yaml"), "utf8"));
    expect(ref).toBe("../schemas/story.schema.json");
    expect(JSON.parse(await readFile(join(dir, "drafts", ref), "utf8")).$id).toContain("story.schema.json");
  });

  it("validate brings an outdated copy up to date and says so; a foreign file there is left alone", async () => {
    const dir = tempDir("repo-");
    await runBin(["init", dir]);
    const copy = join(dir, "schemas", "story.schema.json");
    const old = JSON.parse(await readFile(copy, "utf8"));
    old.description = "an older storyc's schema";
    await writeFile(copy, JSON.stringify(old));
    const r = await runBin(["validate", "story.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("updated schemas/story.schema.json");
    expect(await readFile(copy, "utf8")).toBe(await readFile(schemaPath(), "utf8"));

    await writeFile(copy, JSON.stringify({ $id: "https://example.com/mine.json" }));
    const again = await runBin(["validate", "story.yaml"], { cwd: dir });
    expect(again.stderr).toBe("");
    expect(JSON.parse(await readFile(copy, "utf8")).$id).toBe("https://example.com/mine.json");
  });

  it("the README's commands install storyc into a fresh story repo and run it with npx", async () => {
    const readme = await readFile(join(repoRoot, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Use storyc in your own story repo"));
    expect(section).toContain("npm install --save-dev ../storyc");
    const dir = join(tempDir("fresh-"), "my-story");
    await exec("mkdir", ["-p", dir]);
    await exec("git", ["init", "-q"], { cwd: dir });
    await exec("npm", ["init", "-y"], { cwd: dir });
    await exec("npm", ["install", "--save-dev", "--no-audit", "--no-fund", "--offline", repoRoot], { cwd: dir, timeout: 120_000 });
    await exec("npx", ["--no-install", "storyc", "init", "."], { cwd: dir, timeout: 60_000 });
    const { stdout } = await exec("npx", ["--no-install", "storyc", "validate", "story.yaml"], { cwd: dir, timeout: 60_000 });
    expect(stdout).toContain("✓ 1 story valid");
  }, 180_000);

  it("the README names the licence of each bundled component and how to swap it", async () => {
    const readme = await readFile(join(repoRoot, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Bundled components and their licences"));
    expect(section).toMatch(/eSpeak NG.*GPL-3\.0/);
    expect(section).toMatch(/ffmpeg.*GPL/);
    expect(section).toContain("STORYC_FFMPEG");
    expect(section).toContain("MIT");
  });
});
