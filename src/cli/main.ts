import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { packageVersion } from "../paths.js";
import { CliError, ExitCode, errPalette, processIO, type CliIO } from "./io.js";

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of 1 or more");
  return n;
}

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
      writeErr: (s) => io.stderr.write(s),
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

  // plan, build and watch share these; each overrides its field of storyc.config.yaml.
  const renderer = () => new Option("-r, --renderer <name>", "renderer: local (offline animatic), vimmerse (cloud) or test (placeholder files) (default: renderer in storyc.config.yaml, else local)");
  const quality = () => new Option("--quality <level>", "local renderer: standard (720p) or high (1080p) (default: quality in storyc.config.yaml, else standard)").choices(["standard", "high"]);
  const jobs = () => new Option("-j, --jobs <n>", "how many nodes to render at once (default: jobs in storyc.config.yaml, else the number of cores)").argParser(positiveInt);
  const collect = (value: string, previous: string[] = []) => [...previous, value];

  program
    .command("plan")
    .description("show what a build would render and why: + new, ~ changed, - removed, = fresh")
    .argument("<story>", "story file")
    .addOption(renderer())
    .option("--force <node>", "treat a node (or pattern with *) as stale, with everything downstream; repeatable", collect)
    .addOption(quality())
    .option("--json", "print the plan as JSON")
    .option("--detailed-exitcode", "exit 0 when nothing is to do, 2 when work is pending, 1 on error")
    .addHelpText("after", "\nExamples:\n  storyc plan story.yaml\n  storyc plan --renderer vimmerse story.yaml\n  storyc plan --detailed-exitcode story.yaml || echo \"needs a build\"")
    .action(async (story: string, options) => {
      const { planCommand } = await import("./plan.js");
      setExit(await planCommand(story, options, io));
    });

  program
    .command("build")
    .description("render what changed and write the video to out/<story>/")
    .argument("<story>", "story file")
    .addOption(renderer())
    .addOption(jobs())
    .option("--force <node>", "render a node (or pattern with *) again, with everything downstream; repeatable", collect)
    .addOption(quality())
    .option("-o, --out <dir>", "where to write the video (default: <out>/<story>/ at the project root, out in storyc.config.yaml or out/)")
    .option("--lock-timeout <seconds>", "wait this long for another build of the same story to finish", Number, 0)
    .option("--keep-going", "after a node fails, go on with the nodes that do not depend on it")
    .option("--webhook-port <port>", "vimmerse renderer: receive the API's webhooks on 127.0.0.1:PORT (a hint; status is confirmed with a GET)", Number)
    .option("--json", "print build events as JSON lines")
    .addHelpText(
      "after",
      "\nExamples:\n  storyc build story.yaml\n  storyc build --force 'scene/hop/*' story.yaml\n  storyc build --json story.yaml > events.ndjson\n\nCtrl-C stops starting new work and keeps what finished (exit 130); a second Ctrl-C exits at once.",
    )
    .action(async (story: string, options) => {
      const { buildCommand } = await import("./build.js");
      setExit(await buildCommand(story, options, io, process.argv.slice(2)));
    });

  program
    .command("new")
    .description("draft a story file from an idea (with the Story API when VIMMERSE_API_KEY is set, else a template)")
    .requiredOption("--idea <text>", "what the story is about")
    .option("--scenes <n>", "how many scenes", positiveInt)
    .option("--aspect <ratio>", "16:9, 4:3, 1:1, 3:4 or 9:16")
    .option("--title <text>", "the story's title")
    .option("-o, --output <file>", "where to write the story", "story.yaml")
    .option("-r, --renderer <name>", "vimmerse (the Story API drafts it) or local (an offline template)")
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

  program
    .command("watch")
    .description("rebuild on every save and show the result on a live preview page")
    .argument("<story>", "story file")
    .addOption(renderer())
    .option("-p, --port <port>", "preview port on 127.0.0.1 (default: any free one)", Number)
    .option("--open", "open the preview in a browser")
    .addOption(jobs())
    .addOption(quality())
    .addHelpText("after", "\nExample:\n  storyc watch --open examples/bunny/bunny.yaml\n\nA save during a local render cancels it and starts again; a save during a paid cloud job\nlets the job finish and builds once more after it. Ctrl-C stops (exit 130).")
    .action(async (story: string, options) => {
      const { watchCommand } = await import("./watch.js");
      setExit(await watchCommand(story, options, io));
    });

  program
    .command("graph")
    .description("print a story's build graph as Mermaid (or DOT)")
    .argument("<story>", "story file")
    .option("--format <format>", "mermaid or dot", "mermaid")
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
      io.stderr.write(`${p.red("error")}: ${error.message}\n${error.hint ? `  ${p.cyan("hint")}: ${error.hint}\n` : ""}`);
      return error.exitCode;
    }
    const detail = error instanceof Error ? error.message : String(error);
    io.stderr.write(`${p.red("error")}: storyc failed unexpectedly: ${detail}\n`);
    if (io.env.STORYC_DEBUG) io.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
    else io.stderr.write(`  ${p.cyan("hint")}: run again with STORYC_DEBUG=1 for details, and report it if it persists\n`);
    return ExitCode.failure;
  }
}
