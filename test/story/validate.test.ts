import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { validateFile, validateText } from "../../src/story/validate.js";
import { MAX_STORY_BYTES } from "../../src/story/source.js";
import { repoRoot, runBin, runInProcess, STACK_TRACE } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

const minimal = `storyc: 1
title: Test
characters:
  - name: Bunny
    description: A white rabbit.
  - name: Fox
    description: A red fox.
scenes:
  - description: "**Bunny** hops."
    narrator: Bunny hops.
`;

let dir: string;
beforeAll(async () => {
  dir = tempDir("validate-");
});

describe("validate", () => {
  it("accepts a story with only an idea", async () => {
    const r = await validateText("idea.yaml", "storyc: 1\nidea: A fox learns to fly.\n");
    expect(r.diagnostics).toEqual([]);
    expect(r.valid).toBe(true);
  });

  it("accepts a story with scenes and no idea", async () => {
    const r = await validateText("s.yaml", "storyc: 1\nscenes:\n  - description: A sunrise.\n    narrator: Morning comes.\n");
    expect(r.valid).toBe(true);
  });

  it("warns about an element no scene shows, and fails on it only when strict", async () => {
    const loose = await validateText("w.yaml", minimal);
    expect(loose.valid).toBe(true);
    expect(loose.diagnostics).toMatchObject([{ severity: "warning", code: "unused-element", start: { line: 6, column: 11 } }]);
    const strict = await validateText("w.yaml", minimal, { strict: true });
    expect(strict.valid).toBe(false);
  });

  it("reports every problem of a file in one run", async () => {
    const text = minimal.replace("title: Test", "title: Test\nsettings: { aspect_ratio: wide }").replace("**Bunny** hops.", "**Bunyy** hops.").replace("narrator: Bunny hops.", 'narrator: ""');
    const r = await validateText("many.yaml", text);
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.code).sort()).toEqual(["empty-narration", "invalid-value", "unknown-reference"]);
  });

  it("suggests the element a misspelt mention meant", async () => {
    const r = await validateText("typo.yaml", minimal.replace("**Bunny** hops.", "**bunyy** hops with **Fox**."));
    expect(r.diagnostics.find((d) => d.code === "unknown-reference")?.hint).toBe("did you mean **Bunny**?");
  });

  it("resolves mentions without case and with a possessive", async () => {
    const r = await validateText("case.yaml", minimal.replace("**Bunny** hops.", "**bunny** hops to **Fox’s** den."));
    expect(r.diagnostics).toEqual([]);
  });

  it("refuses a file above the size cap before parsing it", async () => {
    const file = join(dir, "huge.yaml");
    await writeFile(file, "storyc: 1\nidea: x\n" + "# padding\n".repeat(MAX_STORY_BYTES / 10 + 1));
    const r = await validateFile(file);
    expect(r.diagnostics).toMatchObject([{ code: "file-too-large", start: { line: 1, column: 1 } }]);
  });

  it("rejects an alias bomb instead of expanding it", async () => {
    const levels = ["x-a: &a [1,1,1,1,1,1,1,1,1,1]"];
    for (let i = 1; i < 9; i++) levels.push(`x-${i}: &l${i} [${Array(10).fill(i === 1 ? "*a" : `*l${i - 1}`).join(",")}]`);
    const r = await validateText("bomb.yaml", `storyc: 1\nidea: boom\n${levels.join("\n")}\n`);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["alias-limit"]);
  });

  it("says a missing file cannot be read", async () => {
    const r = await validateFile(join(dir, "nope.yaml"));
    expect(r.diagnostics).toMatchObject([{ code: "file-unreadable", message: "cannot read the file: no such file" }]);
  });

  it("refuses an image reached through a symbolic link that leaves the story's folder", async () => {
    const story = join(dir, "linked");
    await mkdir(join(story, "refs"), { recursive: true });
    await writeFile(join(dir, "outside.png"), "png");
    await symlink(join(dir, "outside.png"), join(story, "refs", "sneaky.png"));
    await writeFile(join(story, "s.yaml"), minimal.replace("description: A white rabbit.", "description: A white rabbit.\n    image_url: refs/sneaky.png"));
    const r = await validateFile(join(story, "s.yaml"));
    expect(r.diagnostics.find((d) => d.severity === "error")).toMatchObject({ code: "path-escape", start: { line: 6, column: 16 } });
  });

  it("accepts a file inside the story's folder and https URLs", async () => {
    const story = join(dir, "ok");
    await mkdir(join(story, "refs"), { recursive: true });
    await sharp({ create: { width: 32, height: 32, channels: 3, background: "#ffffff" } }).png().toFile(join(story, "refs", "bunny.png"));
    const text = minimal
      .replace("description: A white rabbit.", "description: A white rabbit.\n    image_url: refs/bunny.png")
      .replace("description: A red fox.", "description: A red fox.\n    image_url: https://example.com/fox.png")
      .replace("**Bunny** hops.", "**Bunny** meets **Fox**.");
    await writeFile(join(story, "s.yaml"), text);
    expect((await validateFile(join(story, "s.yaml"))).diagnostics).toEqual([]);
  });
});

describe("storyc validate", () => {
  it("exits 0 on valid stories and prints a summary", async () => {
    const r = await runBin(["validate", "examples/bunny/bunny.yaml", "examples/suited-man/suited-man.yaml"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toBe("✓ 2 stories valid\n");
  });

  it("exits 2 on a usage error", async () => {
    const r = await runBin(["validate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required argument 'files'");
    expect((await runBin(["validate", "--bogus", "x.yaml"])).code).toBe(2);
  });

  it("prints the source line with a caret under the offending node, and the hint", async () => {
    const r = await runBin(["validate", "test/fixtures/invalid/36-unknown-reference-typo.yaml"]);
    const lines = r.stdout.split("\n");
    const at = lines.findIndex((l) => l.startsWith("test/fixtures/invalid/36-unknown-reference-typo.yaml:10:61: error[unknown-reference]"));
    expect(at).toBeGreaterThanOrEqual(0);
    const source = lines[at + 1]!;
    const caret = lines[at + 2]!;
    expect(source).toContain('description: "lighting: sun, **Bunny** hops through the **Forrest**."');
    const column = caret.indexOf("^") - source.indexOf("|") - 2 + 1;
    expect(column).toBe(61);
    expect(caret.trimEnd()).toMatch(/ \^{11}$/);
    expect("**Forrest**".length).toBe(11);
    expect(lines[at + 3]).toContain("hint: did you mean **Forest**?");
  });

  it("prints JSON with --json", async () => {
    const r = await runBin(["validate", "--json", "test/fixtures/invalid/40-duplicate-scene-id.yaml"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ valid: false, errors: 1, warnings: 0 });
    expect(report.files[0].diagnostics[0]).toMatchObject({
      code: "duplicate-scene-id",
      severity: "error",
      file: "test/fixtures/invalid/40-duplicate-scene-id.yaml",
      start: { line: 16, column: 9 },
      pointer: "/scenes/2/id",
    });
  });

  it("colours only on a terminal, and never with NO_COLOR", async () => {
    const file = "test/fixtures/invalid/40-duplicate-scene-id.yaml";
    const tty = await runInProcess(["validate", file], { tty: true });
    expect(tty.stdout).toContain("\u001b[31m");
    const pipe = await runInProcess(["validate", file], { tty: false });
    expect(pipe.stdout).not.toContain("\u001b[");
    const noColor = await runInProcess(["validate", file], { tty: true, env: { NO_COLOR: "1" } });
    expect(noColor.stdout).not.toContain("\u001b[");
  });

  it("--strict fails on warnings", async () => {
    const file = join(dir, "warn.yaml");
    await writeFile(file, minimal);
    expect((await runBin(["validate", file])).code).toBe(0);
    const strict = await runBin(["validate", "--strict", file]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain("warning[unused-element]");
  });

  it("--help and --version answer with exit code 0", async () => {
    const help = await runBin(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("validate");
    const version = await runBin(["--version"]);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(repoRoot).toBeTruthy();
  });

  it("never prints a stack trace for a broken file", async () => {
    const file = join(dir, "binary.yaml");
    await writeFile(file, Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x3a, 0x0a, 0x2d, 0x2d]));
    const r = await runBin(["validate", file]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(STACK_TRACE);
  });
});
