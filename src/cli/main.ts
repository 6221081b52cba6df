import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { packageVersion } from "../paths.js";
import { CliError, ExitCode, errPalette, processIO, type CliIO } from "./io.js";
import { describeOsError } from "../project/os-errors.js";
import { safeLines } from "../report/terminal-text.js";
import { addTableOptions } from "./table-options.js";
import { integer } from "../project/options.js";

/**
 * Builds the command tree. Each command loads its module only when it runs,
 * so that `storyc validate` does not pay for the renderers.
 */
export function createProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command("storyc")
    .description("Story-as-code: validate, plan and render YAML storyboards into videos, regenerating only what changed.")
    .version(packageVersion(), "-v, --version")
    .showHelpAfterError("(run storyc --help for usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // Commander quotes the user's arguments in its errors.
      writeErr: (s) => io.stderr.write(safeLines(s)),
    })
    .exitOverride();

  program
    .command("validate")
    .description("check stories against the schema and for semantic errors; every problem with file:line:col")
    .argument("<files...>", "story files")
    .option("--json", "print the diagnostics as JSON")
    .option("--strict", "fail on warnings too")
    .addHelpText("after", "\nExamples:\n  storyc validate story.yaml\n  storyc validate --strict --json examples/*/*.yaml\n\nExit codes: 0 valid, 1 invalid, 2 usage error.")
    .action(async (files: string[], options) => {
      const { validateCommand } = await import("./validate.js");
      setExit(await validateCommand(files, options, io));
    });

  program
    .command("init")
    .description("start a story repository: a starter story, a project config, .gitignore and README")
    .argument("[dir]", "folder to create it in", ".")
    .addHelpText("after", "\nExample:\n  storyc init my-story && storyc validate my-story/story.yaml")
    .action(async (dir: string) => {
      const { initCommand } = await import("./init.js");
      setExit(await initCommand(dir, io));
    });

  // The options shared between commands and storyc.config.yaml come from one table (src/project/options.ts).
  const command = (name: "plan" | "build" | "watch" | "new" | "graph" | "worker") => addTableOptions(program.command(name), name);

  command("plan")
    .description("show what a build would render and why: + new, ~ changed, - removed, = fresh")
    .argument("[stories...]", "story files, folders or globs (default: every story of the project)")
    .option("--json", "print the plan as JSON")
    .addOption(new Option("--format <format>", "text, json, or markdown (a table for a pull-request comment)").choices(["text", "json", "markdown"]))
    .option("--detailed-exitcode", "exit 0 when nothing is to do, 2 when work is pending, 1 on error")
    .addHelpText("after", "\nExamples:\n  storyc plan story.yaml\n  storyc plan --renderer vimmerse story.yaml\n  storyc plan --detailed-exitcode story.yaml || echo \"needs a build\"")
    .action(async (stories: string[], options) => {
      const { planCommand } = await import("./plan.js");
      setExit(await planCommand(stories, options, io));
    });

  command("build")
    .description("render what changed and write the video to out/<story>/")
    .argument("[stories...]", "story files, folders or globs (default: every story of the project)")
    .option("-o, --out <dir>", "where to write the video (default: <out>/<story>/ at the project root, out in storyc.config.yaml or out/)")
    .option("--keep-going", "after a node fails, go on with the nodes that do not depend on it")
    .option("--json", "print build events as JSON lines")
    .addHelpText(
      "after",
      "\nExamples:\n  storyc build story.yaml\n  storyc build --force 'scene/hop/*' story.yaml\n  storyc build --json story.yaml > events.ndjson\n  storyc build --queue redis://farm:6379 --remote-cache http://cache:8080/storyc story.yaml\n\nCtrl-C stops starting new work and keeps what finished (exit 130); a second Ctrl-C exits at once.",
    )
    .action(async (stories: string[], options) => {
      const { buildCommand } = await import("./build.js");
      setExit(await buildCommand(stories, options, io, process.argv.slice(2)));
    });

  command("worker")
    .description("make nodes from a render farm's queue (Redis) with the local renderer, through the remote cache; one line per node")
    .addHelpText(
      "after",
      "\nExample:\n  storyc worker --queue redis://farm:6379 --remote-cache http://cache:8080/storyc --concurrency 2\n\nSIGINT/SIGTERM: finish the nodes in hand, then exit 0; a second one stops them and hands them back to the queue.\nSTORYC_WORKER_LOCK_TIMEOUT (seconds, default 30): a killed worker's node goes to another after about twice this.",
    )
    .action(async (options) => {
      const { workerCommand } = await import("./worker.js");
      setExit(await workerCommand(options, io));
    });

  command("new")
    .description("draft a story file from an idea (with the Story API when VIMMERSE_API_KEY is set, else a template)")
    .requiredOption("--idea <text>", "what the story is about")
    .option("--title <text>", "the story's title")
    .option("-o, --output <file>", "where to write the story", "story.yaml")
    .option("--force", "replace the file if it exists")
    .option("--render", "have the Story API make the whole video (POST /story/idea-2-video), then pull it with its media")
    .addHelpText("after", '\nExamples:\n  storyc new --idea "A fox learns to fly" --scenes 4 --aspect 9:16 -o fox.yaml\n  storyc new --renderer local --idea "A quiet harbour at dawn"')
    .action(async (options) => {
      const { newCommand } = await import("./new.js");
      setExit(await newCommand(options, io));
    });

  program
    .command("pull")
    .description("turn a story made on Vimmerse into a story file and a lockfile, its finished media cached, so building it pays nothing")
    .argument("<story-id>", "the Vimmerse story id")
    .option("-o, --output <file>", "where to write the story", "story.yaml")
    .option("--force", "replace the story file and its lockfile if they exist")
    .action(async (storyId: string, options) => {
      const { pullCommand } = await import("./pull.js");
      setExit(await pullCommand(storyId, options, io));
    });

  command("watch")
    .description("rebuild on every save and show the result on a live preview page")
    .argument("<story>", "story file")
    .option("--open", "open the preview in a browser")
    .addHelpText("after", "\nExample:\n  storyc watch --open examples/bunny/bunny.yaml\n\nA save during a local render cancels it and starts again; a save during a paid cloud job\nlets the job finish and builds once more after it. Ctrl-C stops (exit 130).")
    .action(async (story: string, options) => {
      const { watchCommand } = await import("./watch.js");
      setExit(await watchCommand(story, options, io));
    });

  command("graph")
    .description("print a story's build graph as Mermaid (or DOT)")
    .argument("<story>", "story file")
    .action(async (story: string, options) => {
      const { graphCommand } = await import("./graph.js");
      setExit(await graphCommand(story, options, io));
    });

  program
    .command("gc")
    .description("remove cached outputs that no lockfile in the project references")
    .argument("[dir]", "a folder inside the project", ".")
    .option("--cache-dir <dir>", "the cache folder (default: .storyc/cache at the project root)")
    .action(async (dir: string, options) => {
      const { gcCommand } = await import("./gc.js");
      setExit(await gcCommand(dir, options, io));
    });

  // The lockfile merge driver that storyc init registers with git.
  program
    .command("merge-lock")
    .description("git merge driver for lockfiles: merges entry by entry, drops entries changed on both sides (never conflict markers)")
    .argument("<base>", "%O: the common ancestor's version")
    .argument("<ours>", "%A: this branch's version; the merge is written here")
    .argument("<theirs>", "%B: the other branch's version")
    .addHelpText("after", '\nRegistered by storyc init; in a clone:\n  git config merge.storyc-lock.driver "npx --no-install storyc merge-lock %O %A %B"')
    .action(async (base: string, ours: string, theirs: string) => {
      const { mergeLockCommand } = await import("./merge-lock.js");
      setExit(await mergeLockCommand(base, ours, theirs, io));
    });

  program
    .command("doctor")
    .description("check what storyc needs on this machine: Node, ffmpeg and its features, fonts, cache, project config")
    .argument("[dir]", "a folder inside the project", ".")
    .option("--json", "print the checks as JSON")
    .addHelpText("after", "\nExit codes: 0 all present, 1 something is missing (each with its fix).")
    .action(async (dir: string, options) => {
      const { doctorCommand } = await import("./doctor.js");
      setExit(await doctorCommand(dir, options, io));
    });

  program
    .command("schema")
    .description("print the story JSON Schema (for editors and other tools)")
    .action(async () => {
      const { schemaPath } = await import("../paths.js");
      io.stdout.write(readFileSync(schemaPath(), "utf8"));
      setExit(ExitCode.ok);
    });

  return program;
}

/** Runs the CLI and returns its exit code. Only bin/storyc.js exits the process. */
export async function run(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = createProgram(io, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const p = errPalette(io);
    if (error instanceof CliError) {
      io.stderr.write(`${p.red("error")}: ${safeLines(error.message)}\n${error.hint ? `  ${p.cyan("hint")}: ${safeLines(error.hint)}\n` : ""}`);
      return error.exitCode;
    }
    // An OS condition on a path (permission, a file in the way, a read-only disk) is the user's to fix: say which path and how.
    const os = describeOsError(error);
    if (os) {
      io.stderr.write(`${p.red("error")}: ${safeLines(os.message)}\n  ${p.cyan("hint")}: ${safeLines(os.hint)}\n`);
      return ExitCode.failure;
    }
    const detail = error instanceof Error ? error.message : String(error);
    io.stderr.write(`${p.red("error")}: storyc failed unexpectedly: ${safeLines(detail)}\n`);
    if (io.env.STORYC_DEBUG) io.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
    else io.stderr.write(`  ${p.cyan("hint")}: run again with STORYC_DEBUG=1 for details, and report it if it persists\n`);
    return ExitCode.failure;
  }
}
