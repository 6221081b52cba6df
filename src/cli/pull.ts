import { relative, resolve } from "node:path";
import type { PullResult } from "../render/vimmerse/pull.js";
import { CliError, ExitCode, outPalette, type CliIO } from "./io.js";

export interface PullCommandOptions {
  output?: string;
  force?: boolean;
}

/** `storyc pull <story-id>`: a remote story becomes a story file and a lockfile with its finished media cached. */
export async function pullCommand(storyId: string, options: PullCommandOptions, io: CliIO): Promise<number> {
  const { pullStory } = await import("../render/vimmerse/pull.js");
  const file = resolve(io.cwd, options.output ?? "story.yaml");
  const result = await pullStory({ storyId, output: file, env: io.env, overwrite: Boolean(options.force) });
  return reportPull(result, io, `pulled story ${storyId}`);
}

/** Prints what a pull recorded (shared with `storyc new --render`). */
export function reportPull(result: PullResult, io: CliIO, what: string): number {
  if (!result.ok) throw new CliError(result.message, ExitCode.failure, result.hint);
  const p = outPalette(io);
  const { summary } = result;
  const show = (path: string) => relative(io.cwd, path) || path;
  io.stdout.write(`${p.green("wrote")} ${show(summary.storyFile)} and ${show(summary.lockfile)} (${what}: ${summary.recorded.length} nodes recorded with their media)\n`);
  for (const m of summary.missing) io.stdout.write(`${p.yellow("note")}: ${m.id} has no finished media on Vimmerse (${m.why}); a build would make it\n`);
  io.stdout.write(`Next: storyc plan ${show(summary.storyFile)} --renderer vimmerse\n`);
  return ExitCode.ok;
}
