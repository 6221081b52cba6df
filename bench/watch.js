// storyc watch: the time from saving a one-scene narration change in a 10-scene story
// to the new MP4 being complete on disk, against a full build of the same story,
// both measured in this run with the local renderer. Goal: under 10%.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { report, timeCommand } from "./lib.js";
import { writeGeneratedStory } from "./story-generator.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin/storyc.js");

const fullDir = mkdtempSync(join(tmpdir(), "storyc-bench-watch-full-"));
const full = timeCommand(process.execPath, [bin, "build", writeGeneratedStory(fullDir, 10)]);

const dir = mkdtempSync(join(tmpdir(), "storyc-bench-watch-"));
const story = writeGeneratedStory(dir, 10);
const video = join(dir, "out", "generated", "generated.mp4");
const child = spawn(process.execPath, [bin, "watch", story], { stdio: ["ignore", "pipe", "inherit"] });
let out = "";
child.stdout.on("data", (d) => (out += d));
while (!out.includes("waiting for changes")) await sleep(20);
const before = statSync(video).ino;
await sleep(300);
writeFileSync(story, readFileSync(story, "utf8").replace("In scene 5,", "In scene five,"));
const saved = performance.now();
// The video is renamed into place: a new inode means the new file is complete.
for (;;) {
  try {
    if (statSync(video).ino !== before) break;
  } catch {
    // between unlink and rename
  }
  await sleep(10);
}
const rebuild = performance.now() - saved;
child.kill("SIGINT");
await new Promise((resolve) => child.on("close", resolve));
rmSync(dir, { recursive: true, force: true });
rmSync(fullDir, { recursive: true, force: true });

report("storyc watch, generated 10-scene story, local renderer", [
  ["full build (cold cache)", `${(full / 1000).toFixed(2)} s`],
  ["save of one narration -> new MP4 complete", `${(rebuild / 1000).toFixed(2)} s`],
  ["ratio (goal < 10%)", `${((rebuild / full) * 100).toFixed(1)}% ${rebuild / full < 0.1 ? "ok" : "OVER GOAL"}`],
]);
