import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** An operating-system condition on a path, said the way a user can act on it. */
export class PathError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly hint: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Creates a folder and its parents. Node's `mkdir(..., { recursive: true })`
 * loops for ever under /proc (mkdir answers ENOENT, the parent exists, and it
 * tries again), so the parents are walked here, at most once each.
 */
export async function makeDir(dir: string): Promise<void> {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let at = target; ; at = dirname(at)) {
    const found = await stat(at).catch((error: NodeJS.ErrnoException) => error);
    if (!(found instanceof Error)) {
      if (!found.isDirectory()) throw pathError(Object.assign(new Error("not a directory"), { code: at === target ? "EEXIST" : "ENOTDIR", path: at }), at);
      break;
    }
    if (found.code !== "ENOENT") throw pathError(found, at);
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const at of missing.reverse()) {
    try {
      await mkdir(at);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      // Another process made it in between: that is what was wanted.
      if (e.code === "EEXIST" && (await stat(at).then((s) => s.isDirectory(), () => false))) continue;
      throw pathError(e, at);
    }
  }
}

/** A PathError for a failed file-system call, or undefined when the error is not an OS condition on a path. */
export function describeOsError(error: unknown, fallbackPath?: string): PathError | undefined {
  if (error instanceof PathError) return error;
  const e = error as NodeJS.ErrnoException | undefined;
  if (!e || typeof e !== "object" || typeof e.code !== "string") return undefined;
  const path = e.path ?? fallbackPath;
  if (!path) return undefined;
  return pathError(e, path);
}

function pathError(e: NodeJS.ErrnoException, path: string): PathError {
  const [what, hint] = explain(e.code ?? "", path);
  return new PathError(`${path}: ${what}`, path, hint, e.code);
}

function explain(code: string, path: string): [string, string] {
  switch (code) {
    case "EACCES":
    case "EPERM":
      return ["permission denied", `check who owns ${path} (ls -ld), or choose a folder you can write to`];
    case "EEXIST":
      return ["a file is in the way (a folder is needed here)", "choose another path, or move that file away"];
    case "ENOTDIR":
      return ["a part of this path is a file, not a folder", "choose a path whose parent folders are folders"];
    case "EISDIR":
      return ["this is a folder, a file is needed", "give the path of a file"];
    case "ENOENT":
      return ["no such file or folder, and it cannot be created here", "check the path; special file systems such as /proc and /sys cannot hold files"];
    case "EROFS":
      return ["the file system is read-only", "choose a folder on a writable disk"];
    case "ENOSPC":
    case "EDQUOT":
      return ["the disk is full", "free some space (storyc gc removes cached outputs no lockfile needs), or choose another disk"];
    case "ENAMETOOLONG":
      return ["the path is too long", "choose a shorter path"];
    case "ELOOP":
      return ["too many symbolic links", "check the links along this path"];
    case "EMFILE":
    case "ENFILE":
      return ["too many open files", "lower --jobs, or raise the limit (ulimit -n)"];
    default:
      return [`cannot be used (${code})`, "check the path and its permissions"];
  }
}
