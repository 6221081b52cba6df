import { relative, resolve } from "node:path";
import { draftStory, writeDraft } from "../project/draft.js";
import { PathError } from "../project/os-errors.js";
import { validateFile } from "../story/validate.js";
import type { AspectRatio } from "../story/types.js";
import { safe } from "../report/terminal-text.js";
import { CliError, ExitCode, outPalette, type CliIO } from "./io.js";

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
  if (!options.idea.trim()) throw new CliError("--idea is empty: a story needs an idea to draft from", ExitCode.usage, 'say what the story is about, e.g. --idea "A fox learns to fly"');
  // Asked for the cloud by name, a template written offline would be a surprise: say what is missing instead.
  if (options.renderer === "vimmerse" && !io.env.VIMMERSE_API_KEY) {
    throw new CliError("--renderer vimmerse needs VIMMERSE_API_KEY in the environment; nothing was written", ExitCode.failure, "export VIMMERSE_API_KEY=<your key>, or use --renderer local for an offline template");
  }
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
  let written;
  try {
    written = await writeDraft(file, draft, { overwrite: Boolean(options.force) });
  } catch (error) {
    if (!(error instanceof PathError) && (error as NodeJS.ErrnoException).code === "EEXIST") throw new CliError(`${safe(relative(io.cwd, file))} already exists`, ExitCode.failure, "choose another file with -o, or pass --force to replace it");
    throw error;
  }
  const check = await validateFile(file);
  const p = outPalette(io);
  for (const f of written.schemaCopies) io.stdout.write(`${p.green("created")} ${safe(relative(io.cwd, f))} (the schema the story's $schema line points to; commit it)\n`);
  io.stdout.write(`${p.green("wrote")} ${safe(relative(io.cwd, file))} (${draft.story.scenes?.length ?? 0} scenes, ${draft.source === "vimmerse" ? "drafted by the Story API" : `template: ${draft.note}`})\n`);
  if (!check.valid) io.stdout.write(`${p.yellow("note")}: the draft has problems to fix: storyc validate ${safe(relative(io.cwd, file))}\n`);
  io.stdout.write(`Next: storyc plan ${safe(relative(io.cwd, file))}\n`);
  return ExitCode.ok;
}
