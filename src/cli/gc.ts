import { resolve, relative } from "node:path";
import { BuildRunningError, collectGarbage } from "../project/gc.js";
import { findProjectRoot } from "../project/paths.js";
import { plural } from "../report/diagnostics.js";
import { CliError, ExitCode, type CliIO } from "./io.js";

export async function gcCommand(dir: string | undefined, options: { cacheDir?: string }, io: CliIO): Promise<number> {
  const root = findProjectRoot(resolve(io.cwd, dir ?? "."));
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

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
