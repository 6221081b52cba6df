// storyc validate on the largest example against `node -e 0` (Node's own start-up), in one run.
// Goal: at most 3x.
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { interleaved, report } from "./lib.js";
import { timeCommand } from "./lib.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const examples = ["bunny/bunny.yaml", "suited-man/suited-man.yaml", "promo-vertical/promo.yaml", "lighthouse/lighthouse.yaml"].map((f) => join(root, "examples", f));
const largest = examples.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
const runs = Number(process.env.BENCH_RUNS ?? 15);

// One warm-up each so that the file cache is hot for both.
timeCommand(process.execPath, ["-e", "0"]);
timeCommand(process.execPath, [join(root, "bin/storyc.js"), "validate", largest]);

const m = interleaved(
  {
    node: () => timeCommand(process.execPath, ["-e", "0"]),
    validate: () => timeCommand(process.execPath, [join(root, "bin/storyc.js"), "validate", largest]),
  },
  runs,
);
const ratio = m.validate / m.node;
report(`storyc validate ${largest.slice(root.length)} (${statSync(largest).size} bytes), median of ${runs}`, [
  ["node -e 0", `${m.node.toFixed(1)} ms`],
  ["storyc validate", `${m.validate.toFixed(1)} ms`],
  ["ratio validate / node (goal <= 3.0)", `${ratio.toFixed(2)}x ${ratio <= 3 ? "ok" : "OVER GOAL"}`],
]);
