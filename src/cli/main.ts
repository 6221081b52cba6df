import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { packageRoot } from "../paths.js";
import { CliError, ExitCode, errPalette, processIO, type CliIO } from "./io.js";

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;
}

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
    .version(version(), "-v, --version")
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
    .description("start a story repository: a starter story, .gitignore and README")
    .argument("[dir]", "folder to create it in", ".")
    .addHelpText("after", "\nExample:\n  storyc init my-story && storyc validate my-story/story.yaml")
    .action(async (dir: string) => {
      const { initCommand } = await import("./init.js");
      setExit(await initCommand(dir, io));
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
