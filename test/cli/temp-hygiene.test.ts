import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { removeTempDirs, tempDir } from "../helpers/temp.js";
import { copyExample } from "../helpers/story-dir.js";

describe("test temp folders", () => {
  it("every folder the helpers make is removed, with what is inside it", async () => {
    const plain = tempDir("hygiene-");
    await writeFile(join(plain, "file.txt"), "x");
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    expect(existsSync(plain) && existsSync(dir)).toBe(true);
    removeTempDirs();
    expect(existsSync(plain)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
