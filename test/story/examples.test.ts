import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateFile } from "../../src/story/validate.js";
import { repoRoot } from "../helpers/cli.js";

const examples = readdirSync(join(repoRoot, "examples"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(repoRoot, "examples", d.name))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => join("examples", d.name, f)),
  );

describe("examples", () => {
  it("ship at least four stories", () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it.each(examples)("%s validates without errors or warnings", async (file) => {
    const result = await validateFile(join(repoRoot, file), { strict: true });
    expect(result.diagnostics).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("include a vertical story with six or more scenes and one with reference images in its folder", async () => {
    const stories = await Promise.all(examples.map((f) => validateFile(join(repoRoot, f))));
    expect(stories.some((s) => s.story?.settings?.aspect_ratio === "9:16" && (s.story.scenes?.length ?? 0) >= 6)).toBe(true);
    expect(stories.some((s) => s.story?.characters?.some((c) => c.image_url && !/^https?:/.test(c.image_url)))).toBe(true);
  });
});
