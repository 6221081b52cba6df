import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runInProcess } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

const story = (o: { narrator?: string; narration?: string; motion?: string; duration?: number; language?: string }) => `storyc: 1
title: Warnings
idea: A story to warn about.
settings:
  narrator: ${o.narrator ?? "Rachel"}
${o.language ? `  language: ${o.language}\n` : ""}scenes:
  - description: A meadow at dawn.
    narrator: ${o.narration ?? "The meadow wakes."}
    motion_description: "${o.motion ?? "camera motion: zoom in"}"
${o.duration ? `    duration: ${o.duration}\n` : ""}`;

async function validate(text: string) {
  const dir = tempDir("warn-");
  await writeFile(join(dir, "story.yaml"), text);
  return runInProcess(["validate", "story.yaml"], { cwd: dir });
}

describe("warnings a writer can act on", () => {
  it("a 2000-word narration says how long it takes to speak and how long the scene lasts", async () => {
    const narration = Array.from({ length: 2000 }, () => "word").join(" ");
    const r = await validate(story({ narration }));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("story.yaml:8:15: warning[narration-too-long]: the narration of `scenes[0]` takes about 750 s (12.5 min) to speak at the narrator's pace (160 words a minute), but the scene lasts 5 s");
    expect(r.stdout).toContain("cut it to about 11 words");
  });

  it("a narration that fits its scene passes without a word", async () => {
    const r = await validate(story({ narration: "Every band starts with one small sound." }));
    expect(r.stdout).not.toContain("warning");
  });

  it("a longer duration makes room for a longer narration", async () => {
    const narration = Array.from({ length: 30 }, () => "word").join(" ");
    expect((await validate(story({ narration }))).stdout).toContain("narration-too-long");
    expect((await validate(story({ narration, duration: 10 }))).stdout).not.toContain("narration-too-long");
  });

  it("an unknown narrator voice is a warning with did-you-mean", async () => {
    const r = await validate(story({ narrator: "Rachell" }));
    expect(r.stdout).toContain('story.yaml:5:13: warning[unknown-voice]: there is no narrator voice named "Rachell"');
    expect(r.stdout).toContain("did you mean `Rachel`?");
  });

  it("a language the local renderer cannot speak is a warning where it is set, before anything renders", async () => {
    const r = await validate(story({ language: "tl" }));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('story.yaml:6:13: warning[unspoken-language]: the local renderer\'s speech synthesizer (eSpeak NG) speaks no "tl"');
    expect(r.stdout).toContain("--renderer vimmerse");
    for (const language of ["en-GB", "zh", "pt-BR", "ko", "no"]) expect((await validate(story({ language }))).stdout).not.toContain("unspoken-language");
  });

  it("a camera move with a typo is a warning with did-you-mean", async () => {
    const r = await validate(story({ motion: "camera motion: zoomm in, camera angle: eye level" }));
    expect(r.stdout).toContain("warning[unknown-camera-move]: `scenes[0]` names no camera move the renderer knows (\"zoomm in\")");
    expect(r.stdout).toContain("did you mean `camera motion: zoom in`?");
  });

  it("a camera move nobody knows lists the moves", async () => {
    const r = await validate(story({ motion: "camera motion: barrel roll" }));
    expect(r.stdout).toContain("unknown-camera-move");
    expect(r.stdout).toContain("zoom in, zoom out, pan left");
  });

  it("a still camera on purpose is no warning", async () => {
    const r = await validate(story({ motion: "camera motion: static, a calm frame" }));
    expect(r.stdout).not.toContain("warning");
  });
});

describe("code frames of very long lines", () => {
  it("show a window of the line, not the whole of it", async () => {
    const narration = Array.from({ length: 2000 }, () => "word").join(" ");
    const r = await validate(story({ narration }));
    const frame = r.stdout.split("\n").filter((l) => /^\s*\d* \|/.test(l));
    expect(frame).toHaveLength(2);
    for (const l of frame) expect(l.length).toBeLessThan(140);
    expect(frame[0]).toMatch(/…$/);
  });
});
