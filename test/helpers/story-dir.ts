import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./cli.js";

/** A copy of an example story in a fresh temporary folder (its own project, cache and lockfile). */
export async function copyExample(example: string, file: string): Promise<{ dir: string; story: string }> {
  const dir = await mkdtemp(join(tmpdir(), `storyc-${example}-`));
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
