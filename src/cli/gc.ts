import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join, resolve, relative } from "node:path";
import { BuildRunningError, collectGarbage } from "../project/gc.js";
import { findProjectRoot } from "../project/paths.js";
import { plural } from "../report/diagnostics.js";
import { CliError, ExitCode, type CliIO } from "./io.js";

export async function gcCommand(dir: string | undefined, options: { cacheDir?: string }, io: CliIO): Promise<number> {
  const start = resolve(io.cwd, dir ?? ".");
  if (!(await isDirectory(start))) throw new CliError(`${start}: no such folder`, ExitCode.failure, "give a folder inside a story repo, e.g. storyc gc .");
  const root = findProjectRoot(start);
  // gc deletes files: outside a project it would walk a whole disk for lockfiles and guess at a cache.
  if (!options.cacheDir && !existsSync(join(root, ".storyc"))) {
    throw new CliError(`${start} is not in a storyc project (no .storyc folder here or above it); nothing was removed`, ExitCode.failure, "run storyc gc inside a story repo that storyc has built, or pass --cache-dir");
  }
  const cacheDir = options.cacheDir ? resolve(io.cwd, options.cacheDir) : resolve(root, ".storyc", "cache");
  let result;
  try {
    result = await collectGarbage(root, cacheDir);
  } catch (error) {
    if (error instanceof BuildRunningError) throw new CliError(error.message, ExitCode.failure, "run storyc gc when the build has finished");
    throw error;
  }
  io.stdout.write(
    `${plural(result.lockfiles.length, "lockfile")} read (${result.lockfiles.map((f) => relative(io.cwd, f)).join(", ") || "none"})\n` +
      `removed ${plural(result.removed, "blob")}, kept ${result.kept}; reclaimed ${formatBytes(result.bytesReclaimed)}\n`,
  );
  return ExitCode.ok;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
