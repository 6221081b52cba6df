import { stripVTControlCharacters } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { lastFrame, runInPty } from "../helpers/pty.js";
import { RenderControl } from "../helpers/render-control.js";
import { copyExample } from "../helpers/story-dir.js";

const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
const WAITING = "◼";

describe("the task tree on a terminal", () => {
  let control: RenderControl;
  afterEach(async () => control?.close());

  it("spins only the running nodes, shows queued ones as waiting, and keeps a failed node's name with its error under it", async () => {
    control = await new RenderControl().listen();
    const { dir } = await copyExample("promo-vertical", "promo.yaml");
    const run = runInPty(["build", "promo.yaml", "--renderer", "test", "--jobs", "2"], { cwd: dir, env: { STORYC_TEST_CONTROL: control.address } });
    const first = await control.next();
    const second = await control.next();
    const labels = (id: string) => id.replace(/^element\/characters\/(.*)$/, 'character "$1"');
    const spinning = (frame: string[]) => frame.filter((l) => SPINNER.test(l)).map((l) => l.replace(SPINNER, "").trim()).sort();
    const held = [labels(first.id), labels(second.id)].sort();
    // Two nodes run: the tree settles on exactly their two spinners, every other task waiting.
    await run.waitFor((out) => JSON.stringify(spinning(lastFrame(out))) === JSON.stringify(held));
    const frame = lastFrame(run.output());
    expect(frame.filter((l) => l.includes(WAITING)).length).toBeGreaterThan(10);

    first.fail();
    second.go();
    const { code, output } = await run.done;
    expect(code).toBe(1);
    const end = stripVTControlCharacters(output.split("\x1b[G").at(-1)!).split(/\r?\n/);
    const failedAt = end.findIndex((l) => l.includes("✖") && l.includes(labels(first.id)));
    expect(failedAt).toBeGreaterThanOrEqual(0);
    expect(end[failedAt + 1]).toContain(`test renderer told to fail on ${first.id}`);
    expect(output).not.toMatch(/✖ character "\w+"\s*\n\s*✖ not started/);
  });
});
