import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { locateFfmpeg } from "../../src/render/local/ffmpeg.js";
import { repoRoot, runBin } from "../helpers/cli.js";
import { copyExample } from "../helpers/story-dir.js";
import { bounded } from "../helpers/render-control.js";

// The launcher runs from the compiled package only (from the sources, storyc starts commands itself).
const compiled = join(repoRoot, "dist/render/local/launcher.js");
const ffmpeg = locateFfmpeg().path;
type LauncherModule = typeof import("../../src/render/local/launcher.js");
const load = () => import(compiled) as Promise<LauncherModule>;

interface Outcome {
  stdout: string;
  stderr: string;
  error?: string;
  code?: number | null;
  signal?: NodeJS.Signals | null;
}

function run(launcher: LauncherModule, command: string, args: string[]): { kill(signal: NodeJS.Signals): void; done: Promise<Outcome> } {
  const outcome: Outcome = { stdout: "", stderr: "" };
  let finish: (o: Outcome) => void = () => undefined;
  const done = new Promise<Outcome>((resolve) => (finish = resolve));
  const launched = launcher.launch(command, args, {
    stdout: (t) => (outcome.stdout += t),
    stderr: (t) => (outcome.stderr += t),
    error: (message) => finish({ ...outcome, error: message }),
    close: (code, signal) => finish({ ...outcome, code, signal }),
  });
  return { kill: (s) => launched.kill(s), done: bounded(done, 30_000, `${command} ${args.join(" ")} to end`) };
}

/** The ffmpeg processes whose arguments hold `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (argv[0] === ffmpeg && argv.some((a) => a.includes(marker))) found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Waits, within a bound, for a condition only /proc can tell (no process announces its own start or end to a stranger). */
async function until(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An ffmpeg that runs until it is stopped (a test pattern to nowhere), known by a marker in its arguments. */
const endless = (marker: string) => ["-hide_banner", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-metadata", `comment=${marker}`, "-f", "null", "-"];

const stray: number[] = [];
afterEach(() => {
  for (const pid of stray.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

describe("the process launcher", () => {
  it("is part of the compiled package", () => {
    expect(existsSync(compiled)).toBe(true);
    expect(existsSync(join(repoRoot, "dist/render/local/launcher-process.js"))).toBe(true);
  });

  it("runs ffmpeg with its output and exit code, and says when a command cannot start", async () => {
    const launcher = await load();
    const version = await run(launcher, ffmpeg, ["-hide_banner", "-version"]).done;
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^ffmpeg version /);
    const failing = await run(launcher, ffmpeg, ["-hide_banner", "-i", "/nonexistent/input.png", "-f", "null", "-"]).done;
    expect(failing.code).not.toBe(0);
    expect(failing.stderr).toContain("/nonexistent/input.png");
    const missing = await run(launcher, "/nonexistent/ffmpeg", ["-version"]).done;
    expect(missing.error).toMatch(/ENOENT/);
  });

  it("stops a command it is asked to stop", async () => {
    const launcher = await load();
    const marker = randomUUID();
    const endlessRun = run(launcher, ffmpeg, endless(marker));
    await until(() => processesWith(marker).length > 0, "the endless ffmpeg to start");
    stray.push(...processesWith(marker));
    endlessRun.kill("SIGTERM");
    const outcome = await endlessRun.done;
    expect(outcome.error).toBeUndefined();
    expect(processesWith(marker)).toEqual([]);
  });

  it("stops what it runs when storyc is killed outright, so no ffmpeg is left behind", async () => {
    const marker = randomUUID();
    // A storyc stand-in: loads the launcher as storyc does, starts an ffmpeg that never ends, then is killed with SIGKILL.
    const script = `import(${JSON.stringify(compiled)}).then((l) => { l.launch(${JSON.stringify(ffmpeg)}, ${JSON.stringify(endless(marker))}, { stdout() {}, stderr() {}, error(m) { console.error(m); }, close() {} }); });`;
    const host = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "ignore" });
    const exited = new Promise((resolve) => host.on("exit", resolve));
    await until(() => processesWith(marker).length > 0, "the endless ffmpeg to start");
    stray.push(...processesWith(marker));
    host.kill("SIGKILL");
    await bounded(exited, 10_000, "the stand-in to die");
    await until(() => processesWith(marker).length === 0, "the ffmpeg to stop after storyc was killed");
  });

  it("is shared by stories built at once: the first to finish does not stop the others' encodes", async () => {
    const short = await copyExample("suited-man", "suited-man.yaml");
    const long = await copyExample("bunny", "bunny.yaml");
    const r = await runBin(["build", short.story, long.story, "--jobs", "3"], { timeoutMs: 240_000 });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(existsSync(join(short.dir, "out", "suited-man", "suited-man.mp4"))).toBe(true);
    expect(existsSync(join(long.dir, "out", "bunny", "bunny.mp4"))).toBe(true);
  }, 300_000);
});
