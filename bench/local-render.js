// The local renderer on the bunny example from a cold cache, against the floor:
// ffmpeg alone encoding the same number of frames from one still at the same
// size and frame rate, with the renderer's own x264 settings, one single-thread
// encoder per core side by side. Prints the ratio
// of wall times (goal: at most 1.3x), the same ratio in CPU time (steadier on a
// shared machine: it counts the work, not the waiting) and the realtime factor.
// Then, for what the floor leaves out, x264 alone on the video's own frames
// (decoded beforehand, so neither drawing nor a still's decoding is counted):
// the CPU the encodes cannot do without, and the build's CPU against it. The
// floor's frames are one still repeated, cheap to encode but decoded from PNG
// every frame; the video's frames move.
// Then renders a generated 60-scene story and prints the peak resident memory
// of storyc and of storyc with its ffmpeg children (goal: < 1 GiB).
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, report, timeCommand } from "./lib.js";
import { writeGeneratedStory } from "./story-generator.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin/storyc.js");
const runs = Number(process.env.BENCH_RUNS ?? 2);
const { locateFfmpeg } = await import(join(root, "dist/render/local/ffmpeg.js"));
const { videoEncodeArgs, TITLE_FRAMES } = await import(join(root, "dist/render/local/layout.js"));
const ffmpeg = locateFfmpeg().path;

/** CPU seconds used by this process's finished children and all they waited for (Linux: /proc/self/stat). */
function childCpu() {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Wall milliseconds and CPU seconds of one command. */
function timed(command, args) {
  const before = childCpu();
  const ms = timeCommand(command, args);
  return { ms, cpu: childCpu() - before };
}

function coldBunny() {
  const dir = mkdtempSync(join(tmpdir(), "storyc-bench-local-"));
  cpSync(join(root, "examples/bunny"), dir, { recursive: true });
  const { ms, cpu } = timed(process.execPath, [bin, "build", join(dir, "bunny.yaml")]);
  const lock = JSON.parse(readFileSync(join(dir, "bunny.lock"), "utf8"));
  const frames = TITLE_FRAMES + Object.entries(lock.nodes).filter(([id]) => id.endsWith("/clip")).reduce((s, [, e]) => s + e.meta.frames, 0);
  const still = join(dir, lock.nodes["scene/hop/image"].outputs[0].cache);
  const video = join(dir, "out", "bunny", "bunny.mp4");
  return { ms, cpu, frames, still, dir, video };
}

/**
 * The floor: the same number of frames, encoded with the renderer's own x264
 * settings, as fast as this machine allows. Each encoder runs one thread (as
 * the renderer's do, for bytes that do not depend on the machine), so the
 * frames are split between one encoder per core running side by side.
 */
async function floor(still, frames) {
  const dir = mkdtempSync(join(tmpdir(), "storyc-bench-floor-"));
  const parts = availableParallelism();
  const before = childCpu();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: parts }, (_, i) => {
      const count = Math.floor(frames / parts) + (i < frames % parts ? 1 : 0);
      const args = ["-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", still, "-frames:v", String(count), ...videoEncodeArgs(), join(dir, `floor-${i}.mp4`)];
      return new Promise((resolve, reject) => spawn(ffmpeg, args, { stdio: "ignore" }).on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}`)))));
    }),
  );
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  rmSync(dir, { recursive: true, force: true });
  return { ms, cpu: childCpu() - before };
}

/**
 * x264 alone on the frames the build made: the video decoded to raw frames
 * first (in memory where /dev/shm exists; not timed), then encoded again with
 * the renderer's settings. Its CPU includes reading the raw frames.
 */
function encodeOnlyCpu(video) {
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "storyc-bench-raw-"));
  try {
    const raw = join(dir, "frames.yuv");
    timeCommand(ffmpeg, ["-hide_banner", "-loglevel", "error", "-i", video, "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "yuv420p", raw]);
    const args = ["-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "1280x720", "-r", "25", "-i", raw, ...videoEncodeArgs(), "-f", "mp4", "-y", join(dir, "again.mp4")];
    return timed(ffmpeg, args).cpu;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cold = [];
const floors = [];
const encodeOnly = [];
let frames = 0;
for (let i = 0; i < runs; i++) {
  const c = coldBunny();
  frames = c.frames;
  cold.push(c);
  floors.push(await floor(c.still, c.frames));
  encodeOnly.push(encodeOnlyCpu(c.video));
  rmSync(c.dir, { recursive: true, force: true });
}
const c = median(cold.map((x) => x.ms));
const f = median(floors.map((x) => x.ms));
const cc = median(cold.map((x) => x.cpu));
const fc = median(floors.map((x) => x.cpu));
report(`bunny example, cold cache, local renderer (${frames} frames at 1280x720, 25 fps), median of ${runs}`, [
  ["ffmpeg alone, same frames from one still", `${(f / 1000).toFixed(2)} s wall, ${fc.toFixed(2)} s CPU`],
  ["storyc build (stills, speech, music, clips, video)", `${(c / 1000).toFixed(2)} s wall, ${cc.toFixed(2)} s CPU`],
  ["ratio build / floor, wall (goal <= 1.3)", `${(c / f).toFixed(2)}x ${c / f <= 1.3 ? "ok" : "OVER GOAL"}`],
  ["ratio build / floor, CPU", `${(cc / fc).toFixed(2)}x`],
  ["realtime factor (video seconds per wall second)", `${(frames / 25 / (c / 1000)).toFixed(2)}x`],
  ["x264 alone on the video's own frames, CPU", `${median(encodeOnly).toFixed(2)} s`],
  ["build CPU / that encode's CPU", `${(cc / median(encodeOnly)).toFixed(2)}x`],
]);

// Peak memory of a 60-scene story, sampled from /proc every 50 ms (BENCH_MEMORY=0 leaves it out).
if (process.env.BENCH_MEMORY !== "0") await peakMemory();

async function peakMemory() {
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
  const seconds = (TITLE_FRAMES + Object.entries(lock.nodes).filter(([id]) => id.endsWith("/clip")).reduce((s, [, e]) => s + e.meta.frames, 0)) / 25;
  const mib = (b) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
  report(`generated 60-scene story (${seconds.toFixed(0)} s of video), local renderer, exit ${code}`, [
    ["wall time", `${((Date.now() - started) / 1000).toFixed(1)} s`],
    ["peak resident memory, storyc", mib(peakSelf)],
    ["peak resident memory, storyc + ffmpeg children", `${mib(peakTree)} ${peakTree < 1024 ** 3 ? "ok (goal < 1 GiB)" : "OVER GOAL"}`],
  ]);
  rmSync(dir, { recursive: true, force: true });
}
