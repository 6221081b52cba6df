import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256 } from "../graph/hash.js";
import { packageVersion } from "../paths.js";
import type { Diagnostic } from "./diagnostics.js";
import { MAX_STORY_BYTES } from "./limits.js";
import type { Story } from "./types.js";

export type LoadedStory = { ok: true; story: Story; fromCache: boolean } | { ok: false; diagnostics: Diagnostic[] };

/**
 * Loads a story for a build. A story whose exact text already validated with
 * this version of storyc is read from a JSON copy instead of being parsed and
 * checked again (as tsc and eslint do with their caches): a no-op build then
 * costs little more than Node's start. Files the story names are still
 * located and hashed by the graph, which falls back to full validation when
 * one has gone missing.
 */
export async function loadValidStory(storyFile: string, cacheDir: string, options: { useCache?: boolean } = {}): Promise<LoadedStory> {
  const useCache = options.useCache ?? true;
  let digest: string | null = null;
  if (useCache) {
    try {
      if ((await stat(storyFile)).size <= MAX_STORY_BYTES) {
        digest = sha256(`storyc ${packageVersion()}\n${await readFile(storyFile, "utf8")}`);
        const cached = await readFile(join(cacheDir, "valid", `${digest}.json`), "utf8").catch(() => null);
        if (cached !== null) return { ok: true, story: JSON.parse(cached) as Story, fromCache: true };
      }
    } catch {
      digest = null;
    }
  }
  // The parser and checkers load only when they are needed.
  const { validateFile } = await import("./validate.js");
  const result = await validateFile(storyFile);
  if (!result.valid || !result.story) return { ok: false, diagnostics: result.diagnostics };
  if (digest) await remember(cacheDir, digest, result.story);
  return { ok: true, story: result.story, fromCache: false };
}

/**
 * Records that a story's text is valid, for a caller that has just validated
 * it in full (storyc watch validates each save before building): the build
 * that follows then reads the story from the cache instead of checking it twice.
 */
export async function rememberValidStory(cacheDir: string, text: string, story: Story): Promise<void> {
  await remember(cacheDir, sha256(`storyc ${packageVersion()}\n${text}`), story);
}

async function remember(cacheDir: string, digest: string, story: Story): Promise<void> {
  // Best effort: a cache that cannot be written only costs the next build a parse.
  await mkdir(join(cacheDir, "valid"), { recursive: true })
    .then(() => writeFile(join(cacheDir, "valid", `${digest}.json`), JSON.stringify(story)))
    .catch(() => undefined);
}
