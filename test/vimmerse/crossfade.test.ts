import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { build, plan } from "../../src/engine/build.js";
import { FPS, TRANSITION_FRAMES } from "../../src/render/local/layout.js";
import { VimmerseRenderer } from "../../src/render/vimmerse/index.js";
import { fakeVimmersePerTest } from "../fake-vimmerse/per-test.js";
import { runBin, STACK_TRACE } from "../helpers/cli.js";
import { countFrames, ffmpeg, integratedLoudness, probe } from "../helpers/media.js";
import { editStory } from "../helpers/story-dir.js";
import { tempDir } from "../helpers/temp.js";

const fake = fakeVimmersePerTest({ realMedia: true });
/** The renderer sees this process's environment, so that STORYC_FFMPEG chooses the ffmpeg that joins. */
const env = (extra: Record<string, string> = {}) => ({ ...process.env, ...fake.env(), ...extra });

const SCENES = [
  { id: "dawn", seconds: 3, description: "**Ada** opens the workshop at dawn." },
  { id: "noon", seconds: 4, description: "**Ada** files a brass wheel at noon." },
  { id: "dusk", seconds: 5, description: "**Ada** winds the tower clock at dusk." },
] as const;

function clocks(transitions: "cut" | "crossfade"): string {
  return `storyc: 1
title: Ada's Day
settings:
  aspect_ratio: "16:9"
  motion: { model: KlingAI, duration: 5 }
  narrator: Rachel
  background_music: true
  show_title: false
  transitions: ${transitions}
characters:
  - name: Ada
    description: A clockmaker with silver spectacles.
music:
  description: A calm piano piece.
scenes:
${SCENES.map((s) => `  - id: ${s.id}\n    description: "${s.description}"\n    narrator: The ${s.id} of a day.\n    duration: ${s.seconds}\n`).join("")}`;
}

async function storyFile(transitions: "cut" | "crossfade"): Promise<{ dir: string; story: string }> {
  const dir = tempDir("crossfade-");
  const story = join(dir, "clocks.yaml");
  await writeFile(story, clocks(transitions));
  return { dir, story };
}

function renderer(extra: Record<string, string> = {}) {
  return new VimmerseRenderer({ env: env(extra), pollMs: 5 });
}

async function lockOf(dir: string) {
  return JSON.parse(await readFile(join(dir, "clocks.lock"), "utf8")) as { nodes: Record<string, { outputs: Array<{ sha256: string }>; remote?: Record<string, unknown> }> };
}

/** The colour at the centre of one frame of a video. */
async function centreColour(file: string, frame: number): Promise<[number, number, number]> {
  const out = spawnSync(ffmpeg(), ["-hide_banner", "-loglevel", "error", "-i", file, "-vf", `select=eq(n\\,${frame})`, "-frames:v", "1", "-f", "image2pipe", "-vcodec", "png", "-"], { maxBuffer: 64 * 1024 * 1024 });
  const { data, info } = await sharp(out.stdout).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 3;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

/** Mean volume in dB of one second of a video's sound from `at` seconds (-91 dB: silence). */
function meanVolume(file: string, at: number): number {
  const out = spawnSync(ffmpeg(), ["-hide_banner", "-nostats", "-ss", String(at), "-t", "1", "-i", file, "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"], { encoding: "utf8" }).stderr;
  return Number(/mean_volume: (-?[\d.]+) dB/.exec(out)?.[1]);
}

const distance = (a: readonly number[], b: readonly number[]) => Math.hypot(...a.map((v, i) => v - b[i]!));

const concats = () => fake.api.arrivals.filter((a) => a.startsWith("POST") && a.endsWith("/concat"));

describe("transitions: crossfade with the cloud renderer", () => {
  it("joins the clips here: a real MP4 as long as the clips less the crossfades, each scene's colour in its place, no /concat, no concat credit", async () => {
    const { dir } = await storyFile("crossfade");
    const planned = await runBin(["plan", "clocks.yaml", "--renderer", "vimmerse"], { cwd: dir, env: env() });
    expect(planned.stdout).toMatch(/^\+ video +new$/m);
    expect(planned.stdout).toMatch(/transitions: crossfade — the clips are joined here with ffmpeg \S+, crossfading; no \/concat call, no concat credit/);
    // 1 element x 2, music 5, 3 scene images x 2, 3 narrations x 1, 12 s of clips x 10; nothing for the video
    expect(planned.stdout.trim().split("\n").at(-1)).toContain("estimated cost: ~136 credits");

    const built = await runBin(["build", "clocks.yaml", "--renderer", "vimmerse"], { cwd: dir, env: env() });
    expect(built.code).toBe(0);
    expect(concats()).toEqual([]);
    const used = [...fake.api.stories.values()].reduce((sum, s) => sum + s.used_credits, 0);
    expect(built.stdout).toContain(`Credits: ${used} used (estimated 136)`);

    const video = join(dir, "out", "clocks", "clocks.mp4");
    const info = probe(video);
    expect(info.video).toMatchObject({ codec: "h264", width: 1280, height: 720, fps: FPS });
    expect(info.audio).toMatchObject({ codec: "aac", sampleRate: 48000 });
    const frames = SCENES.reduce((sum, s) => sum + s.seconds * FPS, 0) - (SCENES.length - 1) * TRANSITION_FRAMES;
    expect(countFrames(video)).toBe(frames);
    expect(info.durationSeconds).toBeCloseTo(frames / FPS, 1);
    expect(integratedLoudness(video)).toBeGreaterThan(-18);
    expect(integratedLoudness(video)).toBeLessThan(-14);

    // The clips differ as cloud clips do: the join made them one size, one frame rate, one sound format.
    const lock = await lockOf(dir);
    const looks = SCENES.map((scene) => fake.api.lookOfImage(lock.nodes[`scene/${scene.id}/image`]!.remote!.url as string));
    expect(new Set(looks.map((l) => `${l.width}x${l.height}@${l.fps}`)).size).toBe(SCENES.length);
    expect(looks.map((l) => l.audio)).toContain(false);

    // The middle of each scene shows the colour of the clip made from that scene's image, in play order.
    let start = 0;
    for (const scene of SCENES) {
      const expected = fake.api.lookOfImage(lock.nodes[`scene/${scene.id}/image`]!.remote!.url as string).colour;
      const seen = await centreColour(video, start + Math.floor((scene.seconds * FPS) / 2));
      expect(distance(seen, expected), `${scene.id}: ${seen.join(",")} against ${expected.join(",")}`).toBeLessThan(40);
      start += scene.seconds * FPS - TRANSITION_FRAMES;
    }
    // A clip without sound still has the music under it.
    const silent = SCENES.findIndex((_, i) => !looks[i]!.audio);
    const silentStart = SCENES.slice(0, silent).reduce((sum, s) => sum + s.seconds * FPS - TRANSITION_FRAMES, 0) / FPS;
    expect(meanVolume(video, silentStart + 1)).toBeGreaterThan(-50);

    // Halfway through a crossfade, both scenes show.
    const first = fake.api.lookOfImage(lock.nodes["scene/dawn/image"]!.remote!.url as string).colour;
    const second = fake.api.lookOfImage(lock.nodes["scene/noon/image"]!.remote!.url as string).colour;
    const mid = await centreColour(video, SCENES[0].seconds * FPS - TRANSITION_FRAMES / 2);
    expect(distance(mid, first)).toBeGreaterThan(40);
    expect(distance(mid, second)).toBeGreaterThan(40);
  }, 120_000);

  it("transitions: cut still has the Story API join the clips, with one /concat", async () => {
    const { story } = await storyFile("cut");
    const planned = await plan(story, { renderer: renderer() });
    expect(planned.ok && planned.plan.items.find((i) => i.id === "video")!.notes).toEqual(["transitions: cut — the Story API's /concat joins the clips (~1 credit)"]);
    expect(planned.ok && planned.plan.credits).toBe(137);
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    expect(concats()).toHaveLength(1);
  }, 60_000);

  it("changing only transitions makes only the video again, with no paid call", async () => {
    const { story } = await storyFile("cut");
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    await editStory(story, "transitions: cut", "transitions: crossfade");
    const posts = fake.api.arrivals.filter((a) => a.startsWith("POST")).length;
    const rendered: string[] = [];
    const again = await build(story, { renderer: renderer(), jobs: 4, onEvent: (e) => e.type === "node-done" && !e.restored && rendered.push(e.id) });
    expect(again.ok).toBe(true);
    expect(rendered).toEqual(["video"]);
    expect(fake.api.arrivals.filter((a) => a.startsWith("POST")).length).toBe(posts);
    expect(concats()).toHaveLength(1);
  }, 60_000);

  it("two builds in two fresh folders make the same video, byte for byte", async () => {
    const hashes: string[] = [];
    for (let n = 0; n < 2; n++) {
      const { dir, story } = await storyFile("crossfade");
      expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
      hashes.push(createHash("sha256").update(await readFile(join(dir, "out", "clocks", "clocks.mp4"))).digest("hex"));
      expect((await lockOf(dir)).nodes.video!.outputs[0]!.sha256).toBe(hashes[n]);
    }
    // Each build made its own remote story and clips: the clips' bytes differ (their metadata), their pictures and sound do not.
    expect(fake.api.stories.size).toBe(2);
    expect(hashes[1]).toBe(hashes[0]);
  }, 120_000);

  it("the video's key covers the ffmpeg that joins: another ffmpeg plans the video again, and nothing else", async () => {
    const { story } = await storyFile("crossfade");
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    const other = process.env.STORYC_FFMPEG === "/usr/bin/ffmpeg" ? "bundled" : "/usr/bin/ffmpeg";
    const planned = await plan(story, { renderer: renderer({ STORYC_FFMPEG: other }) });
    if (!planned.ok) throw new Error("plan failed");
    const stale = planned.plan.items.filter((i) => i.action !== "fresh");
    expect(stale.map((i) => [i.id, i.reasons])).toEqual([["video", [expect.stringContaining("toolchain")]]]);
    expect(planned.plan.credits).toBe(0);
  }, 60_000);

  it("clips ffmpeg cannot read fail the video alone, with what to do", async () => {
    const { story } = await storyFile("crossfade");
    fake.api.realMedia = false;
    const result = await build(story, { renderer: renderer(), jobs: 4 });
    const failed = !result.ok && result.failure.reason === "nodes-failed" ? result.failure.summary.failed : [];
    expect(failed.map((f) => f.id)).toEqual(["video"]);
    expect(failed[0]!.error).toMatch(/^joining the clips with crossfades failed: .* \(hint: build again with --force video .*write transitions: cut/);
  }, 60_000);

  it("without a usable ffmpeg a crossfade story stops before any call and says what to do; a cut story needs none", async () => {
    const { dir } = await storyFile("crossfade");
    const broken = { STORYC_FFMPEG: join(dir, "no-such-ffmpeg") };
    const built = await runBin(["build", "clocks.yaml", "--renderer", "vimmerse"], { cwd: dir, env: env(broken) });
    expect(built.code).toBe(1);
    expect(built.stderr).toContain("transitions: crossfade — the clips are joined here with ffmpeg, and no working ffmpeg found");
    expect(built.stderr).toMatch(/set STORYC_FFMPEG to bundled, system or the path of an ffmpeg .*or write transitions: cut/);
    expect(built.stderr).toContain("nothing was built and nothing was paid for");
    expect(built.stdout + built.stderr).not.toMatch(STACK_TRACE);
    expect(fake.api.calls).toEqual([]);

    await editStory(join(dir, "clocks.yaml"), "transitions: crossfade", "transitions: cut");
    const cut = await runBin(["build", "clocks.yaml", "--renderer", "vimmerse"], { cwd: dir, env: env(broken) });
    expect(cut.code).toBe(0);
    expect(concats()).toHaveLength(1);
  }, 60_000);
});
