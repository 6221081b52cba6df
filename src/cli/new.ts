import { relative, resolve } from "node:path";
import { draftStory, writeDraft } from "../project/draft.js";
import { validateFile } from "../story/validate.js";
import type { AspectRatio } from "../story/types.js";
import { CliError, ExitCode, outPalette, type CliIO } from "./io.js";

const ASPECTS = ["16:9", "4:3", "1:1", "3:4", "9:16"];

export interface NewCommandOptions {
  idea: string;
  scenes?: number;
  aspect?: string;
  title?: string;
  output?: string;
  renderer?: string;
  force?: boolean;
  /** Have the Story API make the video from the idea, then pull the story with its media. */
  render?: boolean;
}

export async function newCommand(options: NewCommandOptions, io: CliIO): Promise<number> {
  if (options.aspect && !ASPECTS.includes(options.aspect)) throw new CliError(`unknown aspect ratio "${options.aspect}"`, ExitCode.usage, `use one of ${ASPECTS.join(", ")}`);
  if (options.renderer && options.renderer !== "local" && options.renderer !== "vimmerse") throw new CliError(`storyc new drafts with "vimmerse" or "local", not "${options.renderer}"`, ExitCode.usage);
  const file = resolve(io.cwd, options.output ?? "story.yaml");
  if (options.render) {
    if (options.renderer === "local") throw new CliError("--render makes the video with the Story API; it cannot be used with --renderer local", ExitCode.usage);
    const { ideaToStory } = await import("../render/vimmerse/pull.js");
    const { reportPull } = await import("./pull.js");
    const result = await ideaToStory(
      { idea: options.idea, scene_count: options.scenes ?? 3, ...(options.aspect ? { aspect_ratio: options.aspect } : {}), ...(options.title ? { title: options.title } : {}) },
      { output: file, env: io.env, overwrite: Boolean(options.force) },
    );
    return reportPull(result, io, "made by the Story API from the idea");
  }
  let draft;
  try {
    draft = await draftStory({
      idea: options.idea,
      ...(options.scenes ? { scenes: options.scenes } : {}),
      ...(options.aspect ? { aspect: options.aspect as AspectRatio } : {}),
      ...(options.title ? { title: options.title } : {}),
      renderer: options.renderer === "local" ? "local" : "vimmerse",
      env: io.env,
    });
  } catch (error) {
    const hint = (error as { hint?: string }).hint;
    throw new CliError(`drafting with the Story API failed: ${(error as Error).message}`, ExitCode.failure, hint ?? "try --renderer local for an offline template");
  }
  try {
    await writeDraft(file, draft, { overwrite: Boolean(options.force) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new CliError(`${relative(io.cwd, file)} already exists`, ExitCode.failure, "choose another file with -o, or pass --force to replace it");
    throw error;
  }
  const check = await validateFile(file);
  const p = outPalette(io);
  io.stdout.write(`${p.green("wrote")} ${relative(io.cwd, file)} (${draft.story.scenes?.length ?? 0} scenes, ${draft.source === "vimmerse" ? "drafted by the Story API" : `template: ${draft.note}`})\n`);
  if (!check.valid) io.stdout.write(`${p.yellow("note")}: the draft has problems to fix: storyc validate ${relative(io.cwd, file)}\n`);
  io.stdout.write(`Next: storyc plan ${relative(io.cwd, file)}\n`);
  return ExitCode.ok;
}
