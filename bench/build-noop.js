// A no-op `storyc build` against `node -e 0` (Node's own start-up), measured in one
// run, interleaved: a generated 12-scene story with the local renderer (the default,
// built for real first) and a generated 100-scene story with the test renderer
// (nothing renders in a no-op build; what is measured is start-up, validation,
// hashing the graph and checking the cache). Goal: at most 3x for both.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { interleaved, report, timeCommand } from "./lib.js";
import { writeGeneratedStory } from "./story-generator.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin/storyc.js");
const runs = Number(process.env.BENCH_RUNS ?? 15);
const cases = [
  { scenes: 12, renderer: "local" },
  { scenes: 100, renderer: process.env.BENCH_RENDERER ?? "test" },
];

const dirs = [];
try {
  const stories = cases.map(({ scenes, renderer }) => {
    const dir = mkdtempSync(join(tmpdir(), `storyc-bench-noop-${scenes}-`));
    dirs.push(dir);
    const story = writeGeneratedStory(dir, scenes);
    timeCommand(process.execPath, [bin, "build", story, "--renderer", renderer], { env: { ...process.env, STORYC_TEST_RENDER_MS: "0" } });
    return story;
  });
  const timings = { node: () => timeCommand(process.execPath, ["-e", "0"]) };
  cases.forEach((c, i) => (timings[i] = () => timeCommand(process.execPath, [bin, "build", stories[i], "--renderer", c.renderer])));
  const m = interleaved(timings, runs);
  const rows = [["node -e 0", `${m.node.toFixed(1)} ms`]];
  cases.forEach((c, i) => {
    const ratio = m[i] / m.node;
    rows.push([`${c.scenes} scenes, ${c.renderer} renderer: no-op build`, `${m[i].toFixed(1)} ms`]);
    rows.push([`${c.scenes} scenes: ratio build / node (goal <= 3.0)`, `${ratio.toFixed(2)}x ${ratio <= 3 ? "ok" : "OVER GOAL"}`]);
  });
  report(`no-op storyc build against node -e 0, median of ${runs}, interleaved`, rows);
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
