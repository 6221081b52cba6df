import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "./cli.js";
import { tempDir } from "./temp.js";

/** A copy of an example story in a fresh temporary folder (its own project, cache and lockfile). */
export async function copyExample(example: string, file: string): Promise<{ dir: string; story: string }> {
  const dir = tempDir(`${example}-`);
  await cp(join(repoRoot, "examples", example), dir, { recursive: true });
  return { dir, story: join(dir, file) };
}

/** Rewrites a story file with a text replacement that must apply. */
export async function editStory(story: string, from: string | RegExp, to: string): Promise<void> {
  const text = await readFile(story, "utf8");
  const next = text.replace(from, to);
  if (next === text) throw new Error(`edit did not apply: ${String(from)}`);
  await writeFile(story, next);
}
