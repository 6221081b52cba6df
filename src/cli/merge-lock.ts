import { runMergeDriver } from "../project/merge-driver.js";
import { ExitCode, outPalette, type CliIO } from "./io.js";

/** The git merge driver: merges %A with %B over %O in place; exit 0 when merged (git then takes %A). */
export async function mergeLockCommand(base: string, ours: string, theirs: string, io: CliIO): Promise<number> {
  const result = await runMergeDriver(base, ours, theirs);
  if (!result.merged) return result.conflicts ? ExitCode.failure : ExitCode.ok;
  if (result.dropped.length) {
    const p = outPalette(io);
    io.stderr.write(`${p.yellow("storyc merge-lock")}: ${result.dropped.length} entr${result.dropped.length === 1 ? "y" : "ies"} changed on both sides, dropped (the next build makes them again): ${result.dropped.join(", ")}\n`);
  }
  return ExitCode.ok;
}
