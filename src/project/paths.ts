import { existsSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import { sha256 } from "../graph/hash.js";

/** Where a story's lockfile, cache, lock and outputs live. */
export interface StoryPaths {
  story: string;
  /** The story's name: its file name without extension. */
  name: string;
  /** The nearest folder above the story holding .git, .storyc or storyc.config.yaml, else the story's folder. */
  projectRoot: string;
  lockfile: string;
  cacheDir: string;
  writerLock: string;
  outDir: string;
}

export function storyPaths(storyFile: string, overrides: { cacheDir?: string; outDir?: string } = {}): StoryPaths {
  const story = resolve(storyFile);
  const name = basename(story, extname(story));
  const projectRoot = findProjectRoot(dirname(story));
  const id = sha256(relative(projectRoot, story)).slice(0, 10);
  return {
    story,
    name,
    projectRoot,
    lockfile: join(dirname(story), `${name}.lock`),
    cacheDir: overrides.cacheDir ? resolve(overrides.cacheDir) : join(projectRoot, ".storyc", "cache"),
    writerLock: join(projectRoot, ".storyc", "locks", `${name}-${id}.lock`),
    outDir: overrides.outDir ? resolve(overrides.outDir) : join(projectRoot, "out", name),
  };
}

export function findProjectRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    // storyc.config.yaml marks a root too: `storyc init` writes it in a folder that may not be a git repo yet.
    if (existsSync(join(dir, ".git")) || existsSync(join(dir, ".storyc")) || existsSync(join(dir, "storyc.config.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(start);
    dir = parent;
  }
}
