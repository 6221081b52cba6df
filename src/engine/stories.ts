import { build, plan, type BuildOptions, type BuildResult, type PlanResult, type StoryOptions } from "./build.js";
import type { BuildEvent } from "./events.js";
import { JobPool } from "./pool.js";

export interface StoryBuild {
  file: string;
  result: BuildResult;
}

export interface StoriesOptions extends Omit<BuildOptions, "onEvent" | "pool"> {
  /** Options that differ per story (its output folder, its project's settings). */
  optionsFor?: (file: string) => Partial<BuildOptions>;
  onEvent?: (file: string, event: BuildEvent) => void;
}

/**
 * Builds several stories (a story repo) at once: each with its own graph,
 * lockfile and writer lock, all in one pool of `jobs` render slots, and a
 * node whose key two stories share is rendered once. The executor stays the
 * only scheduler: this module only shares the pool between its runs.
 */
export async function buildStories(files: readonly string[], options: StoriesOptions = {}): Promise<{ ok: boolean; builds: StoryBuild[] }> {
  const { optionsFor, onEvent, ...shared } = options;
  const pool = new JobPool(Math.max(1, options.jobs ?? 2));
  const builds = await Promise.all(
    files.map(async (file) => ({
      file,
      result: await build(file, { ...shared, ...optionsFor?.(file), jobs: pool.size, pool, ...(onEvent ? { onEvent: (e: BuildEvent) => onEvent(file, e) } : {}) }),
    })),
  );
  return { ok: builds.every((b) => b.result.ok), builds };
}

/** Plans several stories; each plan is independent (nothing is rendered), so they run side by side. */
export async function planStories(
  files: readonly string[],
  options: StoryOptions & { force?: string[]; optionsFor?: (file: string) => Partial<StoryOptions> } = {},
): Promise<Array<{ file: string; result: PlanResult }>> {
  const { optionsFor, ...shared } = options;
  return Promise.all(files.map(async (file) => ({ file, result: await plan(file, { ...shared, ...optionsFor?.(file) }) })));
}
