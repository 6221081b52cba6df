import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import sharp from "sharp";
import { parse } from "yaml";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { build } from "../../src/engine/build.js";
import { LocalRenderer } from "../../src/render/local/index.js";
import { FPS, TITLE_FRAMES } from "../../src/render/local/layout.js";
import { runBin, STACK_TRACE } from "../helpers/cli.js";
import { countFrames, integratedLoudness, probe } from "../helpers/media.js";
import { copyExample, editStory } from "../helpers/story-dir.js";

/** Every ffmpeg command line the renderer runs, to see which encodes a rebuild repeats. */
const ffmpegRuns = vi.hoisted(() => [] as string[][]);
vi.mock("../../src/render/local/ffmpeg.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/render/local/ffmpeg.js")>();
  return { ...real, runFfmpeg: (ffmpeg: string, args: string[], options?: Parameters<typeof real.runFfmpeg>[2]) => (ffmpegRuns.push(args), real.runFfmpeg(ffmpeg, args, options)) };
});
/** Crossfades encoded, however many one ffmpeg run makes: one fade filter each. */
const crossfadesEncoded = () => ffmpegRuns.flatMap((args) => args.flatMap((a) => a.match(/fade=t=in/g) ?? [])).length;

interface Built {
  dir: string;
  story: string;
  out: string;
  lock: { nodes: Record<string, { meta?: Record<string, number> }> };
  /** Scene node prefixes in story order. */
  scenes: string[];
}

async function buildLocal(example: string, file: string): Promise<Built> {
  const { dir, story } = await copyExample(example, file);
  const result = await build(story, { renderer: new LocalRenderer(), jobs: 2 });
  if (!result.ok) throw new Error(`build failed: ${JSON.stringify(result.failure).slice(0, 500)}`);
  const name = file.replace(/\.yaml$/, "");
  const scenes = (parse(await readFile(story, "utf8")) as { scenes: Array<{ id?: string }> }).scenes.map((s, i) => `scene/${s.id ?? i + 1}`);
  return { dir, story, out: join(dir, "out", name), lock: JSON.parse(await readFile(join(dir, `${name}.lock`), "utf8")), scenes };
}

/** Each scene's length in frames, in story order. */
function sceneFrames(b: Built): number[] {
  return b.scenes.map((s) => b.lock.nodes[`${s}/clip`]!.meta!.frames!);
}

/** The frames of every clip, as the lockfile on disk records them now (after a rebuild). */
async function lockedClipFrames(b: Built): Promise<number> {
  const lock = JSON.parse(await readFile(join(b.dir, `${basename(b.story, ".yaml")}.lock`), "utf8")) as Built["lock"];
  return Object.entries(lock.nodes)
    .filter(([id]) => id.endsWith("/clip"))
    .reduce((sum, [, e]) => sum + e.meta!.frames!, 0);
}

function parseSrt(text: string): Array<{ start: number; end: number; text: string }> {
  const t = (s: string) => {
    const [h, m, rest] = s.split(":");
    return Number(h) * 3600 + Number(m) * 60 + Number(rest!.replace(",", "."));
  };
  return text
    .trim()
    .split(/\n\n/)
    .map((block) => {
      const lines = block.split("\n");
      const [a, b] = lines[1]!.split(" --> ");
      return { start: t(a!), end: t(b!), text: lines.slice(2).join(" ") };
    });
}

describe("local renderer: the bunny story (16:9, title, crossfades, music)", () => {
  let b: Built;
  beforeAll(async () => {
    b = await buildLocal("bunny", "bunny.yaml");
  }, 180_000);

  it("lasts the title plus the scene lengths, to the frame", () => {
    const expected = TITLE_FRAMES + sceneFrames(b).reduce((s, f) => s + f, 0);
    expect(countFrames(join(b.out, "bunny.mp4"))).toBe(expected);
    expect(Math.abs(probe(join(b.out, "bunny.mp4")).durationSeconds - expected / FPS)).toBeLessThanOrEqual(1 / FPS);
  });

  it("is H.264 yuv420p at 1280x720 with an AAC audio stream, and starts playing before it is downloaded", async () => {
    const p = probe(join(b.out, "bunny.mp4"));
    expect(p.video).toMatchObject({ codec: "h264", pixelFormat: "yuv420p", width: 1280, height: 720, fps: 25 });
    expect(p.audio?.codec).toBe("aac");
    const bytes = await readFile(join(b.out, "bunny.mp4"));
    expect(bytes.indexOf("moov")).toBeLessThan(bytes.indexOf("mdat"));
  });

  it("is normalised to -16 LUFS integrated, within 1 LU", () => {
    expect(Math.abs(integratedLoudness(join(b.out, "bunny.mp4")) - -16)).toBeLessThanOrEqual(1);
  });

  it("has readable subtitle cues that say each narration, inside its scene, in .srt and .vtt", async () => {
    const srt = await readFile(join(b.out, "bunny.srt"), "utf8");
    const cues = parseSrt(srt);
    const narrations = (parse(await readFile(b.story, "utf8")) as { scenes: Array<{ narrator: string }> }).scenes.map((s) => s.narrator);
    const frames = sceneFrames(b);
    let start = TITLE_FRAMES / FPS;
    narrations.forEach((narration, i) => {
      const end = start + frames[i]! / FPS;
      const inScene = cues.filter((c) => c.start >= start && c.start < end);
      expect(inScene.length).toBeGreaterThanOrEqual(1);
      for (const cue of inScene) {
        expect(cue.end).toBeLessThanOrEqual(end + 0.001);
        expect(cue.end - cue.start).toBeLessThanOrEqual(7.001);
      }
      expect(inScene.map((c) => c.text).join(" ")).toBe(narration.replace(/\s+/g, " ").trim());
      start = end;
    });
    // At most two lines of at most 42 characters each.
    for (const block of srt.trim().split(/\n\n/)) {
      const lines = block.split("\n").slice(2);
      expect(lines.length).toBeLessThanOrEqual(2);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(42);
    }
    const vtt = await readFile(join(b.out, "bunny.vtt"), "utf8");
    expect(vtt.startsWith("WEBVTT\n")).toBe(true);
    expect(vtt.match(/-->/g)).toHaveLength(cues.length);
  });

  it("continues each clip's camera move through the crossfades on either side of it", () => {
    const node = (id: string) => b.lock.nodes[id]!.meta as unknown as Record<string, string | number>;
    const ids = ["hop", "scent", "discovery", "taste"];
    const move = (id: string, start: number) => `${node(id).motion} ${node(id).span} ${start}`;
    expect(node("scene/hop/crossfade").from).toBe(move("title", Number(node("title").frames)));
    for (const [i, scene] of ids.entries()) {
      const clip = `scene/${scene}/clip`;
      // The crossfade into the scene starts its move; the clip goes on from where the crossfade ends.
      expect(node(`scene/${scene}/crossfade`).to).toBe(move(clip, 0));
      const next = ids[i + 1];
      if (next) expect(node(`scene/${next}/crossfade`).from).toBe(move(clip, Number(node(clip).frames)));
    }
  });

  it("writes a poster JPEG and a contact sheet of every scene", async () => {
    expect(await sharp(join(b.out, "bunny-poster.jpg")).metadata()).toMatchObject({ format: "jpeg", width: 1280, height: 720 });
    const sheet = await sharp(join(b.out, "bunny-contact-sheet.png")).metadata();
    expect(sheet.format).toBe("png");
    expect(sheet.width).toBeGreaterThan(4 * 320);
  });

  it("makes each scene last at least its narration plus a pause", () => {
    for (const [id, entry] of Object.entries(b.lock.nodes)) {
      if (!id.endsWith("/narration")) continue;
      const clip = b.lock.nodes[id.replace(/narration$/, "clip")]!;
      expect(entry.meta!.duration).toBeGreaterThan(1);
      expect(clip.meta!.frames! / FPS).toBeGreaterThanOrEqual(entry.meta!.duration! + 0.8 - 1 / FPS);
    }
  });

  it("after a narration edit, renders that narration, its clip and sound, the crossfades on either side and the video, and the video still adds up", async () => {
    await editStory(b.story, "A sweet aroma teases the senses", "A honeyed aroma teases the senses");
    const renderer = new LocalRenderer();
    const calls: string[] = [];
    const result = await build(b.story, { renderer, jobs: 2, onEvent: (e) => e.type === "node-done" && !e.restored && calls.push(e.id) });
    expect(result.ok).toBe(true);
    expect(calls.sort()).toEqual(["scene/discovery/crossfade", "scene/scent/clip", "scene/scent/crossfade", "scene/scent/narration", "scene/scent/sound", "video"]);
    expect(countFrames(join(b.out, "bunny.mp4"))).toBe(TITLE_FRAMES + (await lockedClipFrames(b)));
    const cues = parseSrt(await readFile(join(b.out, "bunny.srt"), "utf8"));
    expect(cues.some((c) => c.text.includes("A honeyed aroma"))).toBe(true);
  }, 120_000);

  it("after a narration edit that keeps the scene as long, encodes no picture again", async () => {
    const before = JSON.parse(await readFile(join(b.dir, "bunny.lock"), "utf8")) as Built["lock"];
    ffmpegRuns.length = 0;
    await editStory(b.story, "a wondrous flow of golden sweetness", "a wondrous flow of Golden sweetness");
    const calls: string[] = [];
    const result = await build(b.story, { renderer: new LocalRenderer(), jobs: 2, onEvent: (e) => e.type === "node-done" && !e.restored && calls.push(e.id) });
    expect(result.ok).toBe(true);
    // The crossfades on either side are nodes whose keys changed, but they find their pictures in the memo.
    expect(calls.sort()).toEqual(["scene/discovery/clip", "scene/discovery/crossfade", "scene/discovery/narration", "scene/discovery/sound", "scene/taste/crossfade", "video"]);
    const after = JSON.parse(await readFile(join(b.dir, "bunny.lock"), "utf8")) as Built["lock"];
    // The premise: the same words spoken as long.
    expect(after.nodes["scene/discovery/clip"]!.meta!.frames).toBe(before.nodes["scene/discovery/clip"]!.meta!.frames);
    expect(ffmpegRuns.filter((args) => args.some((a) => a.includes("zoompan")))).toHaveLength(0);
    expect(crossfadesEncoded()).toBe(0);
    const cues = parseSrt(await readFile(join(b.out, "bunny.srt"), "utf8"));
    expect(cues.some((c) => c.text.includes("Golden sweetness"))).toBe(true);
  }, 120_000);

  it("after a motion edit, encodes again only the two crossfades around that scene", async () => {
    ffmpegRuns.length = 0;
    await editStory(b.story, "camera motion: zoom in, camera angle: close-up", "camera motion: pan left, camera angle: close-up");
    const result = await build(b.story, { renderer: new LocalRenderer(), jobs: 2 });
    expect(result.ok).toBe(true);
    expect(crossfadesEncoded()).toBe(2);
    expect(countFrames(join(b.out, "bunny.mp4"))).toBe(TITLE_FRAMES + (await lockedClipFrames(b)));
  }, 120_000);
});

describe("local renderer: the vertical promo (9:16, cuts)", () => {
  let b: Built;
  beforeAll(async () => {
    b = await buildLocal("promo-vertical", "promo.yaml");
  }, 180_000);

  it("is 720x1280 and lasts the title plus its six scenes", () => {
    const p = probe(join(b.out, "promo.mp4"));
    expect(p.video).toMatchObject({ width: 720, height: 1280 });
    const frames = sceneFrames(b);
    expect(frames).toHaveLength(6);
    expect(countFrames(join(b.out, "promo.mp4"))).toBe(TITLE_FRAMES + frames.reduce((s, f) => s + f, 0));
    expect(Math.abs(integratedLoudness(join(b.out, "promo.mp4")) - -16)).toBeLessThanOrEqual(1);
  });
});

describe("local renderer: reference images and music shipped with the story", () => {
  it("uses a scene's image_url as its picture, and the story's music file", async () => {
    const b = await buildLocal("lighthouse", "lighthouse.yaml");
    expect(probe(join(b.out, "lighthouse.mp4")).video).toMatchObject({ width: 720, height: 720 });
    const lock = b.lock.nodes as Record<string, { outputs?: Array<{ cache: string }>; meta?: Record<string, unknown> }>;
    expect(lock.music!.meta).toEqual({ source: "file" });
    // The lamp scene is drawn over refs/lantern.png: mostly the lantern's dark blue and warm yellow, not a generated gradient.
    const scene = await sharp(join(b.dir, lock["scene/lamp/image"]!.outputs![0]!.cache)).resize(1, 1).raw().toBuffer();
    const lantern = await sharp(join(b.dir, "refs/lantern.png")).resize(1, 1).raw().toBuffer();
    for (let c = 0; c < 3; c++) expect(Math.abs(scene[c]! - lantern[c]!)).toBeLessThan(40);
  }, 180_000);
});

describe("ffmpeg discovery", () => {
  it("says clearly when no ffmpeg works, without a stack trace", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    const r = await runBin(["build", "suited-man.yaml"], { cwd: dir, env: { STORYC_FFMPEG: "/nonexistent/ffmpeg" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no working ffmpeg found; tried /nonexistent/ffmpeg");
    expect(r.stderr).toContain("hint: set STORYC_FFMPEG to bundled, system or the path of an ffmpeg 4.4 or newer");
    expect(r.stderr + r.stdout).not.toMatch(STACK_TRACE);
  });
});
