// storyc watch: the time from saving one scene's narration to the new MP4 being
// complete on disk, for generated stories of 10, 30 and 60 scenes, each against
// a cold full build of the same story, all measured in this run with the local
// renderer. Goals: under 10% of the full build at 10 scenes, and the 60-scene
// latency at most 1.5x the 10-scene one (the edit loop does not grow with the story).
// The machine may be shared: only the ratios measured here are meaningful.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { median, report, timeCommand } from "./lib.js";
import { writeGeneratedStory } from "./story-generator.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin/storyc.js");
const sizes = (process.env.BENCH_SCENES ?? "10,30,60").split(",").map(Number);
const edits = Number(process.env.BENCH_EDITS ?? 5);
const WAIT_MS = 180_000;

/** Polls `check` every 10 ms until it returns true; fails after `ms`. */
async function until(check, ms, what) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`gave up after ${ms / 1000} s waiting for ${what}`);
    await sleep(10);
  }
}

function inode(file) {
  try {
    return statSync(file).ino;
  } catch {
    return null; // between unlink and rename
  }
}

/** A story built in full (timed), then watched: its first build in watch has nothing to do. */
async function start(scenes) {
  const dir = mkdtempSync(join(tmpdir(), `storyc-bench-watch-${scenes}-`));
  const story = writeGeneratedStory(dir, scenes);
  const full = timeCommand(process.execPath, [bin, "build", story]);
  const watch = spawn(process.execPath, [bin, "watch", story], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  watch.stdout.on("data", (d) => (out += d));
  const waits = () => out.split("waiting for changes").length - 1;
  return { scenes, dir, story, full, watch, waits, video: join(dir, "out", "generated", "generated.mp4"), latencies: [] };
}

/** Saves one narration edit to scene `scene` and times it to the new MP4 on disk. */
async function edit(w, scene) {
  const before = inode(w.video);
  const done = w.waits();
  writeFileSync(w.story, readFileSync(w.story, "utf8").replace(`In scene ${scene},`, `In scene number ${scene},`));
  const saved = performance.now();
  // The video is renamed into place: a new inode means the new file is complete.
  await until(() => inode(w.video) !== null && inode(w.video) !== before, WAIT_MS, `the MP4 after editing scene ${scene} of ${w.scenes}`);
  w.latencies.push(performance.now() - saved);
  await until(() => w.waits() > done, WAIT_MS, "the watch to settle");
}

async function stop(w) {
  if (w.watch.exitCode === null) {
    const closed = new Promise((resolve) => w.watch.once("close", resolve));
    w.watch.kill("SIGINT");
    const timer = setTimeout(() => w.watch.kill("SIGKILL"), 10_000);
    await closed;
    clearTimeout(timer);
  }
  rmSync(w.dir, { recursive: true, force: true });
}

const watches = [];
try {
  for (const n of sizes) watches.push(await start(n));
  for (const w of watches) await until(() => w.waits() >= 1, WAIT_MS, `the first build of the ${w.scenes}-scene watch`);
  // Edits take turns between the stories, as lib.js's interleaved() does, so that the machine's
  // changing load weighs on every size alike; each edit waits for the one before to finish.
  for (let e = 0; e < edits; e++) {
    // The same scene in every story (spread over the smallest): a generated scene's text depends only on
    // its number, so each size makes the same clip and sound work and the sizes differ only in what grows
    // with the story. Where a scene sits is no input of its nodes, so it does not change the work either.
    const scene = 1 + Math.floor(((e + 1) * sizes[0]) / (edits + 1));
    for (const w of watches) await edit(w, scene);
  }
} finally {
  for (const w of watches) await stop(w);
}
const results = watches.map((w) => ({ scenes: w.scenes, full: w.full, latency: median(w.latencies), all: w.latencies }));
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const rows = [];
for (const r of results) {
  const ratio = r.latency / r.full;
  const goal = r.scenes === sizes[0] ? ` (goal < 10%) ${ratio < 0.1 ? "ok" : "OVER GOAL"}` : "";
  rows.push([`${r.scenes} scenes: full build, cold`, s(r.full)]);
  rows.push([`${r.scenes} scenes: save -> new MP4 (median of ${edits})`, `${s(r.latency)}  [${r.all.map((x) => (x / 1000).toFixed(2)).join(", ")}]`]);
  rows.push([`${r.scenes} scenes: latency / full build`, `${((ratio) * 100).toFixed(1)}%${goal}`]);
}
const first = results[0];
const last = results.at(-1);
if (results.length > 1) {
  const growth = last.latency / first.latency;
  rows.push([`latency ${last.scenes} / ${first.scenes} scenes (goal <= 1.5x)`, `${growth.toFixed(2)}x ${growth <= 1.5 ? "ok" : "OVER GOAL"}`]);
}
report(`storyc watch, one narration edit, generated stories, local renderer, ${edits} edits each`, rows);
