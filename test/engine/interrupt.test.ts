import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { binPath, STACK_TRACE } from "../helpers/cli.js";
import { runInPty } from "../helpers/pty.js";
import { RenderControl } from "../helpers/render-control.js";
import { copyExample } from "../helpers/story-dir.js";

interface Run {
  interrupt(): void;
  done: Promise<{ code: number | null; output: string }>;
}

const args = ["build", "promo.yaml", "--renderer", "test", "--jobs", "2"];

/** The same build on a terminal (a pseudo-terminal, Ctrl-C typed) and off it (SIGINT sent, as a CI runner does). */
const modes: Record<string, (dir: string, control: string) => Run> = {
  "on a terminal": (dir, control) => {
    const run = runInPty(args, { cwd: dir, env: { STORYC_TEST_CONTROL: control } });
    return { interrupt: () => run.type("\x03"), done: run.done.then(({ code, output }) => ({ code, output: stripVTControlCharacters(output) })) };
  },
  "off a terminal": (dir, control) => {
    const child = spawn(process.execPath, [binPath, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1", STORYC_TEST_CONTROL: control } });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    return {
      interrupt: () => child.kill("SIGINT"),
      done: new Promise((resolve) => child.on("close", (code) => (clearTimeout(timer), resolve({ code, output })))),
    };
  },
};

const scratch = async (dir: string) => readdir(join(dir, ".storyc", "cache", "tmp")).catch(() => [] as string[]);

describe.each(Object.keys(modes))("Ctrl-C %s", (mode) => {
  let control: RenderControl;
  afterEach(async () => control?.close());

  it("starts nothing new, stops what runs, keeps what finished, prints the summary, cleans temp files and exits 130", async () => {
    control = await new RenderControl().listen();
    const { dir } = await copyExample("promo-vertical", "promo.yaml");
    const run = modes[mode]!(dir, control.address);
    const first = await control.next();
    const second = await control.next();
    first.go();
    // A third node starts only once the first has finished and is in the lockfile.
    const third = await control.next();
    run.interrupt();
    await Promise.all([second.aborted, third.aborted]);
    second.go();
    third.go();
    const { code, output } = await run.done;

    expect(code).toBe(130);
    expect(output).toMatch(/Stopped in [\d.]+m?s: 1 rendered, .*2 cancelled, 26 not started/);
    expect(output).not.toContain("Interrupted");
    expect(output).not.toMatch(STACK_TRACE);
    const lock = JSON.parse(await readFile(join(dir, "promo.lock"), "utf8")) as { nodes: Record<string, unknown> };
    expect(Object.keys(lock.nodes)).toEqual([first.id]);
    expect(await scratch(dir)).toEqual([]);
  });

  it("a second Ctrl-C exits at once, even while a node does not stop, and still cleans temp files", async () => {
    control = await new RenderControl().listen();
    const { dir } = await copyExample("promo-vertical", "promo.yaml");
    const run = modes[mode]!(dir, control.address);
    const first = await control.next();
    await control.next();
    run.interrupt();
    // The held nodes never answer: only the second Ctrl-C can end this build.
    await first.aborted;
    run.interrupt();
    const { code, output } = await run.done;
    expect(code).toBe(130);
    expect(output).toContain("stopped at once");
    expect(await scratch(dir)).toEqual([]);
  });
});
