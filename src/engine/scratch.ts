import { readdirSync, rmSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/*
 * Renderers work in scratch folders under <cache>/tmp, named
 * `<node>-<pid>-<random>` (Cache.scratch). Only this process's are removed:
 * another build of another story may share the cache.
 */

const mine = (name: string) => name.includes(`-${process.pid}-`);

/** Removes the scratch folders this process left, e.g. after a cancelled build. */
export async function removeOwnScratch(cacheDir: string): Promise<void> {
  const dir = join(cacheDir, "tmp");
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter(mine).map((n) => rm(join(dir, n), { recursive: true, force: true })));
}

/** The same, synchronously, for the moment before an immediate exit (a second Ctrl-C). */
export function removeOwnScratchSync(cacheDir: string): void {
  const dir = join(cacheDir, "tmp");
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names.filter(mine)) rmSync(join(dir, n), { recursive: true, force: true });
}
