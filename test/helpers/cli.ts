import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { run } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/io.js";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const binPath = fileURLToPath(new URL("../../bin/storyc.js", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `storyc` binary in a child process, as a user would. A run
 * that outlives `timeoutMs` is killed and reported as `timedOut`, so that a
 * hang fails its test instead of the whole suite.
 */
export function runBin(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult & { timedOut: boolean }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [binPath, ...args],
      { cwd: options.cwd ?? repoRoot, env: { ...process.env, NO_COLOR: "1", ...options.env }, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        const timedOut = Boolean(error && (error as { killed?: boolean }).killed);
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, timedOut });
      },
    );
  });
}

class Capture extends Writable {
  text = "";
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs the CLI in this process with captured output and a chosen terminal-ness. */
export async function runInProcess(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; tty?: boolean } = {},
): Promise<CliResult> {
  const stdout = new Capture(options.tty ?? false);
  const stderr = new Capture(options.tty ?? false);
  const io: CliIO = { stdout, stderr, env: options.env ?? {}, cwd: options.cwd ?? repoRoot };
  const code = await run(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** What a Node stack trace looks like in output. */
export const STACK_TRACE = /^\s+at .+(\(|:\d+:\d+)/m;
