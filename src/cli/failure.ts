import { readFileSync } from "node:fs";
import { relative } from "node:path";
import type { Failure } from "../engine/build.js";
import { formatDiagnostic, plural } from "../report/diagnostics.js";
import { safe, safeLines } from "../report/terminal-text.js";
import { errPalette, ExitCode, type CliIO } from "./io.js";

/** Prints why a plan or build could not run, and returns the exit code for it. */
export function reportFailure(failure: Failure, io: CliIO): number {
  const p = errPalette(io);
  const write = (s: string) => io.stderr.write(s);
  switch (failure.reason) {
    case "invalid-story": {
      const texts = new Map<string, string | undefined>();
      for (const d of failure.diagnostics) {
        if (!texts.has(d.file)) texts.set(d.file, readText(d.file));
        write(formatDiagnostic({ ...d, file: relative(io.cwd, d.file) || d.file }, texts.get(d.file), p) + "\n\n");
      }
      const errors = failure.diagnostics.filter((d) => d.severity === "error").length;
      write(`${p.red("error")}: the story is invalid (${plural(errors, "error")}); nothing was built\n`);
      return ExitCode.failure;
    }
    case "lockfile":
      write(`${relative(io.cwd, failure.file)}:${failure.line}:${failure.column}: ${p.red("error")}[lockfile]: ${safeLines(failure.message)}\n  ${p.cyan("hint")}: ${safeLines(failure.hint)}\n`);
      return ExitCode.failure;
    case "locked":
      write(`${p.red("error")}: ${safeLines(failure.message)}\n  ${p.cyan("hint")}: wait for it to finish, or pass --lock-timeout SECONDS to wait for it\n`);
      return ExitCode.failure;
    case "path":
    case "renderer-unavailable":
      write(`${p.red("error")}: ${safeLines(failure.message)}\n  ${p.cyan("hint")}: ${safeLines(failure.hint)}\n`);
      return ExitCode.failure;
    case "remote-cache":
      write(`${p.red("error")}: ${failure.message}\n  ${p.cyan("hint")}: set --remote-cache, STORYC_REMOTE_CACHE or remote_cache in storyc.config.yaml to http(s)://host/path, s3://bucket/prefix or a folder\n`);
      return ExitCode.usage;
    case "blocked":
      for (const problem of failure.problems) write(`${p.red("error")}: ${problem.message}\n  ${p.cyan("hint")}: ${problem.hint}\n`);
      write(`nothing was built and nothing was paid for\n`);
      return ExitCode.failure;
    case "no-scenes":
      write(`${p.red("error")}: ${safeLines(failure.message)}\n  ${p.cyan("hint")}: add scenes to the story, or draft them from its idea with \`storyc new\`\n`);
      return ExitCode.failure;
    case "force-unmatched":
      for (const { pattern, nearest } of failure.patterns) {
        write(`${p.red("error")}: --force ${safe(pattern)} matches no node of this story\n  ${p.cyan("hint")}: did you mean ${nearest.map((id) => `--force '${id}'`).join(" or ")}? (storyc plan lists every node)\n`);
      }
      return ExitCode.usage;
    case "nodes-failed":
      return ExitCode.failure;
    case "cancelled":
      return ExitCode.interrupted;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
