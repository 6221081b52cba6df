// A no-op `storyc build` of a generated 100-scene story against `node -e 0`, in one run.
// Goal: at most 3x. Renderer: the test renderer (nothing renders in a no-op build;
// what is measured is start-up, validation, hashing the graph and checking the cache).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { interleaved, report, timeCommand } from "./lib.js";
import { writeGeneratedStory } from "./story-generator.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin/storyc.js");
const dir = mkdtempSync(join(tmpdir(), "storyc-bench-noop-"));
const story = writeGeneratedStory(dir, 100);
const renderer = process.env.BENCH_RENDERER ?? "test";
const runs = Number(process.env.BENCH_RUNS ?? 15);

timeCommand(process.execPath, [bin, "build", story, "--renderer", renderer], { env: { ...process.env, STORYC_TEST_RENDER_MS: "0" } });
const m = interleaved(
  {
    node: () => timeCommand(process.execPath, ["-e", "0"]),
    noop: () => timeCommand(process.execPath, [bin, "build", story, "--renderer", renderer]),
  },
  runs,
);
const ratio = m.noop / m.node;
report(`no-op storyc build of a 100-scene story (${renderer} renderer, 311 nodes), median of ${runs}`, [
  ["node -e 0", `${m.node.toFixed(1)} ms`],
  ["storyc build (nothing to do)", `${m.noop.toFixed(1)} ms`],
  ["ratio build / node (goal <= 3.0)", `${ratio.toFixed(2)}x ${ratio <= 3 ? "ok" : "OVER GOAL"}`],
]);
