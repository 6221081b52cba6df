// The local renderer on the bunny example from a cold cache, against the floor:
// ffmpeg alone encoding the same number of frames from one still at the same
// size, frame rate and preset. Prints the ratio (goal: at most 2x) and the
// realtime factor. Then renders a generated 60-scene story and prints the peak
// resident memory of storyc and of storyc with its ffmpeg children (goal: < 1 GiB).
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, report, timeCommand } from "./lib.js";
import { writeGeneratedStory } from "./story-generator.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin/storyc.js");
const runs = Number(process.env.BENCH_RUNS ?? 2);
const { locateFfmpeg } = await import(join(root, "dist/render/local/ffmpeg.js"));
const ffmpeg = locateFfmpeg().path;

function coldBunny() {
  const dir = mkdtempSync(join(tmpdir(), "storyc-bench-local-"));
  cpSync(join(root, "examples/bunny"), dir, { recursive: true });
  const ms = timeCommand(process.execPath, [bin, "build", join(dir, "bunny.yaml")]);
  const lock = JSON.parse(readFileSync(join(dir, "bunny.lock"), "utf8"));
  const frames = 75 + Object.entries(lock.nodes).filter(([id]) => id.endsWith("/clip")).reduce((s, [, e]) => s + e.meta.frames, 0);
  const still = join(dir, lock.nodes["scene/hop/image"].outputs[0].cache);
  return { ms, frames, still, dir };
}

function floor(still, frames) {
  const out = join(mkdtempSync(join(tmpdir(), "storyc-bench-floor-")), "floor.mp4");
  const args = ["-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", still, "-frames:v", String(frames), "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-r", "25", out];
  return timeCommand(ffmpeg, args);
}

const cold = [];
const floors = [];
let frames = 0;
for (let i = 0; i < runs; i++) {
  const c = coldBunny();
  frames = c.frames;
  cold.push(c.ms);
  floors.push(floor(c.still, c.frames));
  rmSync(c.dir, { recursive: true, force: true });
}
const c = median(cold);
const f = median(floors);
report(`bunny example, cold cache, local renderer (${frames} frames at 1280x720, 25 fps), median of ${runs}`, [
  ["ffmpeg alone, same frames from one still", `${(f / 1000).toFixed(2)} s`],
  ["storyc build (stills, speech, music, clips, video)", `${(c / 1000).toFixed(2)} s`],
  ["ratio build / floor (goal <= 2.0)", `${(c / f).toFixed(2)}x ${c / f <= 2 ? "ok" : "OVER GOAL"}`],
  ["realtime factor (video seconds per wall second)", `${(frames / 25 / (c / 1000)).toFixed(2)}x`],
]);

// Peak memory of a 60-scene story, sampled from /proc every 50 ms.
function rssOf(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
  } catch {
    return 0;
  }
}
function descendants(pid) {
  const kids = [];
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))[1]);
      if (ppid === pid) kids.push(Number(p), ...descendants(Number(p)));
    } catch {
      // the process ended while we looked
    }
  }
  return kids;
}
const dir = mkdtempSync(join(tmpdir(), "storyc-bench-60-"));
const story = writeGeneratedStory(dir, 60);
const started = Date.now();
const child = spawn(process.execPath, [bin, "build", story], { stdio: "ignore" });
let peakSelf = 0;
let peakTree = 0;
const timer = setInterval(() => {
  const self = rssOf(child.pid);
  peakSelf = Math.max(peakSelf, self);
  peakTree = Math.max(peakTree, self + descendants(child.pid).reduce((s, p) => s + rssOf(p), 0));
}, 50);
const code = await new Promise((resolve) => child.on("close", resolve));
clearInterval(timer);
const lock = JSON.parse(readFileSync(join(dir, "generated.lock"), "utf8"));
const seconds = (75 + Object.entries(lock.nodes).filter(([id]) => id.endsWith("/clip")).reduce((s, [, e]) => s + e.meta.frames, 0)) / 25;
const mib = (b) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
report(`generated 60-scene story (${seconds.toFixed(0)} s of video), local renderer, exit ${code}`, [
  ["wall time", `${((Date.now() - started) / 1000).toFixed(1)} s`],
  ["peak resident memory, storyc", mib(peakSelf)],
  ["peak resident memory, storyc + ffmpeg children", `${mib(peakTree)} ${peakTree < 1024 ** 3 ? "ok (goal < 1 GiB)" : "OVER GOAL"}`],
]);
rmSync(dir, { recursive: true, force: true });
