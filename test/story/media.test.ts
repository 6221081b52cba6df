import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateFile } from "../../src/story/validate.js";
import { runBin, STACK_TRACE } from "../helpers/cli.js";

/** A story naming one file as a character's picture and one as the music. */
const story = (image: string, music: string) => `storyc: 1
title: Media
characters:
  - name: Bunny
    description: A white rabbit.
    image_url: ${image}
music:
  description: A calm tune.
  music_url: ${music}
scenes:
  - description: "**Bunny** hops."
    narrator: Bunny hops.
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "storyc-media-"));
  await mkdir(join(dir, "refs"));
  await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3366aa" } }).png().toFile(join(dir, "refs", "good.png"));
  // A second of silence as WAV: 44-byte header and 16-bit samples.
  const wav = Buffer.alloc(44 + 16000);
  wav.write("RIFF", 0, "ascii");
  wav.writeUInt32LE(36 + 16000, 4);
  wav.write("WAVEfmt ", 8, "ascii");
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(8000, 24);
  wav.writeUInt32LE(16000, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36, "ascii");
  wav.writeUInt32LE(16000, 40);
  await writeFile(join(dir, "refs", "good.wav"), wav);
  await writeFile(join(dir, "refs", "empty.png"), "");
  await writeFile(join(dir, "refs", "notes.png"), "These are my notes about the rabbit, not a picture.\n");
  await writeFile(join(dir, "refs", "tool.png"), Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(4096, 0x90)]));
  await chmod(join(dir, "refs", "tool.png"), 0o755);
  // 30 MB of noise: over the picture limit before its content is even looked at.
  const noise = Buffer.alloc(30 * 1024 * 1024);
  for (let i = 0; i < noise.length; i += 4) noise.writeUInt32LE((i * 2654435761) >>> 0, i);
  await writeFile(join(dir, "refs", "noise.png"), noise);
  // A PNG signature with nothing readable after it.
  await writeFile(join(dir, "refs", "broken.png"), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40, 7)]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function diagnosticsFor(image: string, music = "refs/good.wav") {
  const file = join(dir, `story-${image.replace(/\W/g, "_")}-${music.replace(/\W/g, "_")}.yaml`);
  await writeFile(file, story(image, music));
  return (await validateFile(file)).diagnostics;
}

describe("validate checks the files a story names by their content", () => {
  it("accepts a real picture and a real sound file", async () => {
    expect(await diagnosticsFor("refs/good.png")).toEqual([]);
  });

  it.each([
    ["refs/empty.png", "media-empty", "the file is empty"],
    ["refs/notes.png", "media-wrong-content", "the file is text, not a picture"],
    ["refs/tool.png", "media-wrong-content", "the file is an executable (ELF), not a picture"],
    ["refs/noise.png", "media-too-large", "more than the 25.0 MB a picture may have"],
    ["refs/broken.png", "media-wrong-content", "cannot be read as one"],
    ["refs/good.wav", "media-wrong-content", "the file is WAV audio, not a picture"],
  ])("refuses %s as an image_url, at its line and column", async (file, code, words) => {
    const [d, ...rest] = await diagnosticsFor(file);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ severity: "error", code, pointer: "/characters/0/image_url", start: { line: 6, column: 16 } });
    expect(d!.message).toContain(`${file}: `);
    expect(d!.message).toContain(words);
    expect(d!.hint).toBeTruthy();
  });

  it("refuses a picture as the music_url", async () => {
    const [d, ...rest] = await diagnosticsFor("refs/good.png", "refs/good.png");
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: "media-wrong-content", pointer: "/music/music_url", start: { line: 9, column: 14 } });
    expect(d!.message).toContain("a PNG image, not a sound file");
  });

  it("stops a build at the file's line when its content changed after the story validated", async () => {
    const project = await mkdtemp(join(tmpdir(), "storyc-media-build-"));
    try {
      await mkdir(join(project, "refs"));
      await copyFile(join(dir, "refs", "good.png"), join(project, "refs", "pic.png"));
      await copyFile(join(dir, "refs", "good.wav"), join(project, "refs", "tune.wav"));
      await writeFile(join(project, "s.yaml"), story("refs/pic.png", "refs/tune.wav"));
      expect((await runBin(["plan", "s.yaml", "--renderer", "test"], { cwd: project })).code).toBe(0);
      await writeFile(join(project, "refs", "pic.png"), "not a picture any more");
      const r = await runBin(["build", "s.yaml", "--renderer", "test"], { cwd: project });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/s\.yaml:6:16: error\[media-wrong-content\]: refs\/pic\.png: the file is text, not a picture/);
      expect(r.stderr + r.stdout).not.toMatch(STACK_TRACE);
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
});
