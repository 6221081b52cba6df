import { relative } from "node:path";
import { initStoryRepo, InitError } from "../project/init.js";
import { safe } from "../report/terminal-text.js";
import { CliError, ExitCode, outPalette, type CliIO } from "./io.js";

export async function initCommand(dir: string | undefined, io: CliIO): Promise<number> {
  let result;
  try {
    result = await initStoryRepo(dir ?? io.cwd);
  } catch (error) {
    if (error instanceof InitError) throw new CliError(error.message, ExitCode.failure, "choose another folder, or remove the file first");
    throw error;
  }
  const p = outPalette(io);
  const show = (f: string) => safe(relative(io.cwd, f) || f);
  for (const f of result.created) io.stdout.write(`${p.green("created")} ${show(f)}\n`);
  for (const f of result.updated) io.stdout.write(`${p.yellow("updated")} ${show(f)}\n`);
  if (result.mergeDriver === "registered") io.stdout.write(`${p.green("registered")} the lockfile merge driver (merge.storyc-lock) in the git config\n`);
  else io.stdout.write(`${p.yellow("note")}: not a git repository yet; after git init, run: git config merge.storyc-lock.driver "npx --no-install storyc merge-lock %O %A %B"\n`);
  io.stdout.write(`\nNext: storyc validate ${show(result.story)}\n`);
  return ExitCode.ok;
}
