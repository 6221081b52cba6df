import { execFile } from "node:child_process";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./cli.js";

const exec = promisify(execFile);

/** Runs git in a folder with a fixed identity (a test machine may have none). */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec("git", ["-c", "user.name=storyc test", "-c", "user.email=test@storyc.invalid", "-c", "init.defaultBranch=main", ...args], { cwd });
  return stdout;
}

/**
 * Temporary folders for one test file, removed in afterEach/afterAll:
 * story repos, their clones, and whatever else a test makes.
 */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(label: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `storyc-${label}-`));
    this.dirs.push(dir);
    return dir;
  }

  /** A git repo holding an example story, as a user keeps one: .storyc/ and out/ ignored. */
  async storyRepo(example: string): Promise<string> {
    const dir = await this.make(`repo-${example}`);
    await cp(join(repoRoot, "examples", example), dir, { recursive: true });
    await writeFile(join(dir, ".gitignore"), ".storyc/\nout/\n");
    await git(dir, "init", "-q", ".");
    await git(dir, "add", "-A");
    await git(dir, "commit", "-q", "-m", "story");
    return dir;
  }

  /** Commits everything (the lockfile after a build) in a repo. */
  async commitAll(dir: string, message: string): Promise<void> {
    await git(dir, "add", "-A");
    await git(dir, "commit", "-q", "-m", message);
  }

  /** A fresh clone: the committed story and lockfile, no cache, no outputs. */
  async clone(dir: string): Promise<string> {
    const target = join(await this.make("clone"), "repo");
    await git(dir, "clone", "-q", dir, target);
    return target;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}
