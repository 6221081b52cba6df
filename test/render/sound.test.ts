import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/engine/build.js";
import { LocalRenderer } from "../../src/render/local/index.js";
import { TITLE_FRAMES } from "../../src/render/local/layout.js";
import { integratedLoudness as loudnessOf } from "../../src/render/local/loudness.js";
import { encodePieces, mixPiece, SAMPLES_PER_VIDEO_FRAME, SOUND_RATE } from "../../src/render/local/sound.js";
import { ffmpeg, integratedLoudness } from "../helpers/media.js";

/** The first audio track of a file, decoded to mono float samples at the track's own rate. */
function decodeAudio(file: string, format: string[] = []): Float32Array {
  const out = spawnSync(ffmpeg(), ["-hide_banner", "-loglevel", "error", ...format, "-i", file, "-map", "0:a:0", "-f", "f32le", "-ac", "1", "-"], { maxBuffer: 256 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`ffmpeg could not decode ${file}: ${out.stderr}`);
  return new Float32Array(out.stdout.buffer, out.stdout.byteOffset, out.stdout.length / 4);
}

/** The largest step between neighbouring samples within `radius` samples of `at`: a click shows as a jump. */
function largestStep(samples: Float32Array, at: number, radius: number): number {
  let step = 0;
  for (let i = Math.max(1, at - radius); i < Math.min(samples.length, at + radius); i++) step = Math.max(step, Math.abs(samples[i]! - samples[i - 1]!));
  return step;
}

/** A step of -26 dBFS from one sample to the next: a plain click (tones at -16 LUFS step by about 0.015). */
const CLICK = 0.05;
const RADIUS = Math.round(0.01 * SOUND_RATE);

function tone(seconds: number, frequency: number, rate = SOUND_RATE): Float32Array {
  const out = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = 0.5 * Math.sin((2 * Math.PI * frequency * i) / rate);
  return out;
}

describe("sound pieces", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "storyc-sound-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("each piece is brought to -16 LUFS and starts and ends in silence", () => {
    // A voice-like line at the synthesizer's rate: a tone that swells and fades like syllables.
    const speech = { sampleRate: 22050, samples: tone(2, 300, 22050).map((v, i) => v * Math.abs(Math.sin(i / 3000))) };
    const piece = mixPiece({ frames: 100, narration: speech, music: tone(3, 220) });
    expect(piece.length).toBe(100 * SAMPLES_PER_VIDEO_FRAME);
    expect(Math.abs(loudnessOf(piece, SOUND_RATE) - -16)).toBeLessThanOrEqual(0.5);
    expect(piece[0]).toBe(0);
    expect(piece.at(-1)).toBe(0);
  });

  it("joined packet for packet, decode to each piece's own sound with no click at the joins", async () => {
    // Music that would click if a piece's sound ran into the next one's: full-scale tones, cut anywhere.
    const pieces = [
      mixPiece({ frames: 24, music: tone(2, 330) }),
      mixPiece({ frames: 36, music: tone(2, 440) }),
      mixPiece({ frames: 28, music: tone(2, 550) }),
    ];
    const encoded = await encodePieces(ffmpeg(), pieces, dir, "t", {});
    const joined = join(dir, "joined.aac");
    await writeFile(joined, Buffer.concat(encoded));
    const decoded = decodeAudio(joined, ["-f", "aac"]);
    const total = pieces.reduce((s, p) => s + p.length, 0);
    // No drift: the joined track is exactly as long as the pieces, so it stays in step with the pictures.
    expect(decoded.length).toBe(total);

    let at = 0;
    for (const [i, piece] of pieces.entries()) {
      const alone = join(dir, `alone-${i}.aac`);
      await writeFile(alone, encoded[i]!);
      // Decoded inside the joined track, a piece sounds as it does alone: nothing leaks across a join.
      const own = decodeAudio(alone, ["-f", "aac"]);
      let diff = 0;
      for (let j = 0; j < piece.length; j++) diff = Math.max(diff, Math.abs(decoded[at + j]! - own[j]!));
      expect(diff).toBeLessThan(1e-4);
      if (i > 0) expect(largestStep(decoded, at, RADIUS)).toBeLessThan(CLICK);
      at += piece.length;
    }
    // The same tones cut and butted together without the guards: that join is a click, and it is seen.
    const naive = new Float32Array([...pieces[0]!.subarray(0, pieces[0]!.length / 2), ...pieces[1]!.subarray(pieces[1]!.length / 2)]);
    expect(largestStep(naive, pieces[0]!.length / 2, RADIUS)).toBeGreaterThan(CLICK);
  }, 60_000);
});

const STORY = (narrations: string[], music: string) => `storyc: 1
title: Four short scenes
settings:
  aspect_ratio: "16:9"
  motion: { duration: 2 }
environments:
  - name: Harbour
    description: The harbour at dusk, warm lamps and long shadows.
music:
  description: ${music}
scenes:
${narrations.map((n, i) => `  - id: s${i + 1}\n    description: "lighting: dusk, the **Harbour**, view ${i + 1}."\n    narrator: ${n}\n    motion_description: "camera motion: ${["zoom in", "pan left", "tilt up", "dolly in"][i]}"`).join("\n")}
`;

interface Built {
  video: string;
  lock: { nodes: Record<string, { key: string; meta?: Record<string, number> }> };
}

async function buildIn(dir: string, text: string): Promise<Built> {
  const story = join(dir, "four.yaml");
  await writeFile(story, text);
  const result = await build(story, { renderer: new LocalRenderer(), jobs: 2 });
  if (!result.ok) throw new Error(`build failed: ${JSON.stringify(result.failure).slice(0, 500)}`);
  return { video: join(dir, "out", "four", "four.mp4"), lock: JSON.parse(await readFile(join(dir, "four.lock"), "utf8")) };
}

/** Where each segment of the video starts, in samples of the sound track: the title, then each scene. */
function joins(b: Built): number[] {
  const frames = [TITLE_FRAMES, ...[1, 2, 3, 4].map((n) => b.lock.nodes[`scene/s${n}/clip`]!.meta!.frames!)];
  const starts: number[] = [];
  let at = 0;
  for (const f of frames) {
    starts.push(at);
    at += f * SAMPLES_PER_VIDEO_FRAME;
  }
  return starts.slice(1).concat(at);
}

describe("the sound track across incremental edits", () => {
  const dirs: string[] = [];
  const fresh = async () => {
    const dir = await mkdtemp(join(tmpdir(), "storyc-sound-story-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("stays at -16 LUFS, in step with the pictures and free of clicks after each edit, and matches a fresh build byte for byte", async () => {
    const dir = await fresh();
    const lines = ["The boats come home.", "A lamp is lit on the quay.", "Gulls settle on the masts.", "Night falls over the water."];
    const steps: Array<{ lines: string[]; music: string }> = [
      { lines, music: "Calm piano, slow tempo." },
      // A longer narration: the scene grows, every later scene moves.
      { lines: [lines[0]!, "A lamp is lit on the quay, then another, and another, until the whole harbour glows.", lines[2]!, lines[3]!], music: "Calm piano, slow tempo." },
      // A shorter one further on, and the first edit reverted.
      { lines: [lines[0]!, lines[1]!, "Gulls.", lines[3]!], music: "Calm piano, slow tempo." },
      // New music: every piece is made again.
      { lines: [lines[0]!, lines[1]!, "Gulls.", lines[3]!], music: "Upbeat playful ukulele with drums." },
    ];
    let last: Built | undefined;
    for (const step of steps) {
      last = await buildIn(dir, STORY(step.lines, step.music));
      expect(Math.abs(integratedLoudness(last.video) - -16)).toBeLessThanOrEqual(1);
      const sound = decodeAudio(last.video);
      const ends = joins(last);
      const total = ends.pop()!;
      // The sound ends with the last frame, to the sample: no piece adds or loses any, so none drifts.
      expect(sound.length).toBe(total);
      for (const at of ends) expect(largestStep(sound, at, RADIUS)).toBeLessThan(CLICK);
    }
    // The story as it ends, built from nothing elsewhere: the same video, byte for byte.
    const again = await buildIn(await fresh(), STORY(steps.at(-1)!.lines, steps.at(-1)!.music));
    expect((await readFile(again.video)).equals(await readFile(last!.video))).toBe(true);
    for (const [id, entry] of Object.entries(again.lock.nodes)) expect(last!.lock.nodes[id]?.key, id).toBe(entry.key);
  }, 600_000);
});
