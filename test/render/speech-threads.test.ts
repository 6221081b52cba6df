import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { espeakVoice, speechModule, synthesize } from "../../src/render/local/speech.js";
import { encodeWav } from "../../src/render/local/wav.js";
import { repoRoot, runBin } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

const LINES = ["In the dawn-lit forest, our young adventurer bounds forward.", "A sweet aroma teases the senses.", "Golden honey flows between the roots.", "Bunny tastes it, and his eyes grow wide."];

describe("narration from the built CLI", () => {
  it("is spoken in worker threads with the same samples as in the calling thread", async () => {
    // The built CLI has the worker's entry, so its lines go to the threads.
    expect(existsSync(join(repoRoot, "dist/render/local/speech-worker.js"))).toBe(true);
    const dir = tempDir("speech-threads-");
    const story = join(dir, "story.yaml");
    const scenes = LINES.map((line, i) => `  - id: s${i}\n    description: a forest at dawn\n    narrator: ${JSON.stringify(line)}`).join("\n");
    await writeFile(story, `storyc: 1\ntitle: Threads\nsettings: { narrator: Roger, show_title: false, background_music: false }\nscenes:\n${scenes}\n`);
    const built = await runBin(["build", story, "--jobs", "4"], { cwd: dir, timeoutMs: 120_000 });
    expect(built.code, built.stderr).toBe(0);
    const lock = JSON.parse(await readFile(join(dir, "story.lock"), "utf8")) as { nodes: Record<string, { outputs: Array<{ cache: string }> }> };
    const module = await speechModule();
    for (const [i, line] of LINES.entries()) {
      const made = await readFile(join(dir, lock.nodes[`scene/s${i}/narration`]!.outputs[0]!.cache));
      const here = encodeWav(await synthesize(module, line, espeakVoice("Roger", "en")));
      expect(made.length, line).toBe(here.length);
      expect(made.equals(here), line).toBe(true);
    }
  }, 180_000);
});
