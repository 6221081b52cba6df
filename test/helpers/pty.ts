import { spawn } from "node:child_process";
import { stripVTControlCharacters } from "node:util";
import { binPath } from "./cli.js";
import { bounded } from "./render-control.js";

export interface PtyRun {
  /** Types into the terminal, as a user would (e.g. "\x03" is Ctrl-C). */
  type(text: string): void;
  output(): string;
  /** Resolves when the output first matches (a pattern, or a test of the whole output so far). */
  waitFor(pattern: RegExp | ((output: string) => boolean), timeoutMs?: number): Promise<void>;
  done: Promise<{ code: number | null; output: string }>;
}

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * Runs storyc under a real pseudo-terminal (util-linux's `script`), so that
 * stdout is a TTY, the task tree is drawn, and Ctrl-C typed into the terminal
 * reaches storyc as SIGINT from the line discipline.
 */
export function runInPty(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): PtyRun {
  const command = `stty cols 120 rows 40; exec ${quote(process.execPath)} ${quote(binPath)} ${args.map(quote).join(" ")}`;
  const env = { ...process.env, ...options.env };
  delete env.CI;
  delete env.NO_COLOR;
  const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: options.cwd, env, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const l of listeners) l();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
  return {
    type: (text) => child.stdin.write(text),
    output: () => output,
    waitFor: (pattern, timeoutMs = 20_000) =>
      bounded(
        new Promise<void>((resolve) => {
          const check = () => {
            if (typeof pattern === "function" ? pattern(output) : pattern.test(output)) {
              listeners.delete(check);
              resolve();
            }
          };
          listeners.add(check);
          check();
        }),
        timeoutMs,
        `terminal output matching ${String(pattern)}`,
      ),
    done,
  };
}

/**
 * The last whole frame a live display drew, without colours. listr2 draws a
 * frame after ESC [ G and erases it line by line (ESC [ 2K) before the next
 * one, so a frame is whole once the erasing that follows it has begun.
 */
export function lastFrame(output: string): string[] {
  const segments = output.split("\x1b[G").slice(1);
  const whole = segments.filter((s) => s.includes("\x1b[2K")).map((s) => s.slice(0, s.indexOf("\x1b[2K")));
  return stripVTControlCharacters(whole.at(-1) ?? "").split(/\r?\n/).filter((l) => l.trim() !== "");
}
