import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { mergeLockfiles } from "../lock/merge.js";
import { LOCKFILE_VERSION, writeLockfile, type Lockfile } from "../lock/lockfile.js";

const exec = promisify(execFile);

/** The git merge driver's name, in .gitattributes and git config. */
export const MERGE_DRIVER = "storyc-lock";
export const GITATTRIBUTES_LINE = `*.lock merge=${MERGE_DRIVER}`;
export const DRIVER_COMMAND = "npx --no-install storyc merge-lock %O %A %B";

export type MergeDriverResult =
  | { merged: true; dropped: string[] }
  /** Not storyc lockfiles (another tool's *.lock): git's own line merge ran; `conflicts` as git merge-file counts them. */
  | { merged: false; conflicts: number };

/**
 * `storyc merge-lock %O %A %B`: merges the lockfiles into %A, as git asks of
 * a merge driver. A file that is not a storyc lockfile is merged by
 * `git merge-file`, as git would have without the driver.
 */
export async function runMergeDriver(base: string, ours: string, theirs: string): Promise<MergeDriverResult> {
  const [o, a, b] = await Promise.all([readLock(base), readLock(ours), readLock(theirs)]);
  if (a === undefined || b === undefined) {
    try {
      await exec("git", ["merge-file", ours, base, theirs]);
      return { merged: false, conflicts: 0 };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return { merged: false, conflicts: typeof code === "number" && code > 0 ? code : 1 };
    }
  }
  // An empty side (a lockfile added on one branch only) merges as a lockfile with no entries.
  const empty = (other: Lockfile | null): Lockfile => ({ lockfileVersion: LOCKFILE_VERSION, story: other?.story ?? "", renderer: other?.renderer ?? "", nodes: {} });
  const result = mergeLockfiles(o ?? null, a ?? empty(b), b ?? empty(a));
  await writeLockfile(ours, result.lock);
  return { merged: true, dropped: result.dropped };
}

/** A storyc lockfile, null for an empty or absent one (no common ancestor), undefined for anything else. */
async function readLock(file: string): Promise<Lockfile | null | undefined> {
  const text = await readFile(file, "utf8").catch(() => "");
  if (!text.trim()) return null;
  try {
    const data = JSON.parse(text) as Lockfile;
    return data?.lockfileVersion === LOCKFILE_VERSION && typeof data.nodes === "object" && data.nodes !== null ? data : undefined;
  } catch {
    return undefined;
  }
}

export type RegisterResult = "registered" | "not-a-git-repo";

/** Registers the driver in a repository's git config (which clones do not copy: the README says how). */
export async function registerMergeDriver(dir: string): Promise<RegisterResult> {
  try {
    await exec("git", ["rev-parse", "--git-dir"], { cwd: dir });
  } catch {
    return "not-a-git-repo";
  }
  await exec("git", ["config", `merge.${MERGE_DRIVER}.name`, "storyc lockfile merge"], { cwd: dir });
  await exec("git", ["config", `merge.${MERGE_DRIVER}.driver`, DRIVER_COMMAND], { cwd: dir });
  return "registered";
}
