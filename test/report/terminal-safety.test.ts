import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { displayWidth, padEndDisplay, safe } from "../../src/report/terminal-text.js";
import { runInProcess } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

// Any C0 control but line feed, DEL, or a C1 control: what a terminal would obey.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe("user text reaches the terminal with its control characters escaped", () => {
  it("a story line that would set the title and clear the screen is shown escaped, with the caret under it", async () => {
    const dir = tempDir("ctl-");
    const file = join(dir, "story.yaml");
    await writeFile(file, 'storyc: 1\ntitle: Evil\nidea: An idea.\nsettings:\n  aspect_ratio: "\x1b]0;pwned\x07\x1b[2J"\n');
    const r = await runInProcess(["validate", "story.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(CONTROL);
    const lines = r.stdout.split("\n");
    const shown = lines.findIndex((l) => l.includes("aspect_ratio:"));
    expect(lines[shown]).toContain('"\\x1b]0;pwned\\x07\\x1b[2J"');
    // The caret starts under the opening quote and spans the value as shown.
    const caretLine = lines[shown + 1]!;
    const valueAt = lines[shown]!.indexOf('"\\x1b');
    expect(caretLine.indexOf("^")).toBe(valueAt);
    expect(caretLine.trim().replace(/^\|\s*/, "")).toBe("^".repeat('"\\x1b]0;pwned\\x07\\x1b[2J"'.length));
  });

  it("a name with control characters is escaped in the plan and in --force errors", async () => {
    const dir = tempDir("ctl-");
    await writeFile(
      join(dir, "story.yaml"),
      'storyc: 1\ntitle: T\nidea: I.\ncharacters:\n  - name: "Bad\\u001b[2JCat"\n    description: A cat.\nscenes:\n  - description: "**Bad\\u001b[2JCat** sits."\n    narrator: Hello there.\n',
    );
    const plan = await runInProcess(["plan", "--renderer", "test", "story.yaml"], { cwd: dir });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("Bad\\x1b[2JCat");
    expect(plan.stdout).not.toMatch(CONTROL);
    const forced = await runInProcess(["plan", "--renderer", "test", "--force", "x\x1b[2J", "story.yaml"], { cwd: dir });
    expect(forced.stderr).toContain("--force x\\x1b[2J matches no node");
    expect(forced.stderr).not.toMatch(CONTROL);
  });

  it("validate on a binary file reports once that it is not a text story", async () => {
    const dir = tempDir("bin-");
    const bytes = Buffer.alloc(172 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    await writeFile(join(dir, "movie.yaml"), bytes);
    const r = await runInProcess(["validate", "movie.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^movie\.yaml:1:1: error\[not-text\]: not a text story/);
    expect(r.stdout.match(/not a text story/g)).toHaveLength(1);
    expect(r.stdout).not.toMatch(CONTROL);
    expect(r.stdout.length).toBeLessThan(400);
  });

  it("safe() escapes controls, line breaks and bidirectional overrides, and leaves other text alone", () => {
    expect(safe("a\x1b[31mb\x07\u202ec\nd")).toBe("a\\x1b[31mb\\x07\\u202ec\\nd");
    expect(safe("Zoë 東京 🐰")).toBe("Zoë 東京 🐰");
  });

  it("display width counts wide characters and emoji as two columns", () => {
    expect(displayWidth("abc")).toBe(3);
    expect(displayWidth("東京")).toBe(4);
    expect(displayWidth("🐰 bunny")).toBe(8);
    expect(displayWidth("e\u0301")).toBe(1);
    expect(padEndDisplay("東京", 6)).toBe("東京  ");
  });
});

describe("commander's usage errors quote the user's argument escaped", () => {
  it("a flag value holding an escape sequence", async () => {
    const r = await runInProcess(["build", "--renderer", "\x1b]0;pwned\x07", "story.yaml"], { cwd: "/nonexistent-storyc" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("\\x1b]0;pwned\\x07");
    expect(r.stderr).not.toMatch(CONTROL);
  });
});
