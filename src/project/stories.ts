import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { CONFIG_FILE } from "./config.js";
import { findProjectRoot } from "./paths.js";

/** Folders that never hold stories: VCS, dependencies, storyc's cache and outputs. */
const SKIP = new Set([".git", "node_modules", ".storyc", "out", "dist"]);
/** A story file declares its format version at the top level (`storyc: 1`); other YAML (CI workflows, configs) does not. */
const STORY_MARK = /^storyc:\s*\d/m;

export interface FoundStories {
  /** Absolute paths, sorted, each once. */
  files: string[];
  /** Arguments that matched nothing, for the CLI to report. */
  unmatched: string[];
}

/**
 * The stories a command works on: files, folders (every story under them)
 * and globs (`stories/**\/*.yaml`), or with none, every story of the project.
 * Under a folder or glob a YAML file counts when it declares `storyc:`; an
 * invalid story still counts, so that its errors are reported, not skipped.
 */
export async function findStories(args: readonly string[], cwd: string): Promise<FoundStories> {
  const found = new Set<string>();
  const unmatched: string[] = [];
  const targets = args.length ? args : [findProjectRoot(cwd)];
  for (const arg of targets) {
    const before = found.size;
    if (/[*?[]/.test(arg)) {
      const { base, pattern } = splitGlob(resolve(cwd, arg));
      for (const file of await storyFilesUnder(base)) if (pattern.test(relative(base, file).split(sep).join("/"))) found.add(file);
    } else {
      const path = resolve(cwd, arg);
      const info = await stat(path).catch(() => null);
      if (info?.isDirectory()) for (const file of await storyFilesUnder(path)) found.add(file);
      else if (info?.isFile()) found.add(path);
    }
    if (found.size === before && !(args.length === 0)) unmatched.push(arg);
  }
  return { files: [...found].sort(), unmatched };
}

async function storyFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name)) await walk(path);
      } else if (entry.isFile() && /\.ya?ml$/.test(entry.name) && entry.name !== CONFIG_FILE) {
        if (STORY_MARK.test(await readFile(path, "utf8").catch(() => ""))) out.push(path);
      }
    }
  };
  await walk(dir);
  return out;
}

/** `/a/b/**\/*.yaml` -> base `/a/b` and a regex for paths relative to it. */
function splitGlob(absolute: string): { base: string; pattern: RegExp } {
  const parts = absolute.split(sep);
  const first = parts.findIndex((p) => /[*?[]/.test(p));
  const base = parts.slice(0, first).join(sep) || sep;
  const glob = parts.slice(first).join("/");
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      source += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return { base, pattern: new RegExp(`^${source}$`) };
}
