import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { musicStyle, synthesizeMusic } from "../../src/render/local/music.js";
import { paletteFrom } from "../../src/render/local/palette.js";
import { CLOUD_VOICES, espeakVoice, speak } from "../../src/render/local/speech.js";
import { elementCard, sceneImage, wrapText } from "../../src/render/local/stills.js";
import { frameSize } from "../../src/render/local/layout.js";
import { toSrt, toVtt } from "../../src/render/local/subtitles.js";

describe("narration", () => {
  it("gives each cloud narrator a distinct voice, in the story's language", () => {
    const voices = CLOUD_VOICES.map((n) => espeakVoice(n, "en"));
    expect(new Set(voices).size).toBe(CLOUD_VOICES.length);
    expect(espeakVoice("Rachel", "en")).toBe("en-us+f3");
    expect(espeakVoice("Rachel", "fr")).toBe("fr+f3");
    expect(espeakVoice("Rachel", "en-GB")).toBe("en+f3");
    expect(espeakVoice("Someone New", "de")).toMatch(/^de\+[fm]\d$/);
  });

  it("speaks a line offline, longer lines for longer text", async () => {
    const short = await speak("Hello.", "en-us+f3");
    const long = await speak("Once upon a time, in a forest of tall oaks, a small rabbit set out to find honey.", "en-us+f3");
    expect(short.samples.length / short.sampleRate).toBeGreaterThan(0.2);
    expect(long.samples.length).toBeGreaterThan(short.samples.length * 3);
    let energy = 0;
    for (const v of long.samples) energy += v * v;
    expect(Math.sqrt(energy / long.samples.length)).toBeGreaterThan(0.01);
  });
});

describe("music", () => {
  it("reads tempo, mode and instruments from the description", () => {
    expect(musicStyle("Upbeat orchestral with strings, flutes, and playful percussion.")).toMatchObject({ bpm: 124, minor: false, pad: true, flute: true, drums: true, pluck: true });
    expect(musicStyle("Calm piano and soft strings, slow tempo")).toMatchObject({ bpm: 72, piano: true, minor: false });
    expect(musicStyle("Tense, dark and mysterious")).toMatchObject({ bpm: 96, minor: true });
  });

  it("is deterministic, loud enough, and faster music is shorter for the same eight bars", () => {
    const a = synthesizeMusic("calm piano");
    const b = synthesizeMusic("calm piano");
    expect(Buffer.from(a.samples.buffer).equals(Buffer.from(b.samples.buffer))).toBe(true);
    const fast = synthesizeMusic("upbeat playful ukulele");
    expect(fast.samples.length).toBeLessThan(a.samples.length);
    let peak = 0;
    for (const v of a.samples) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeCloseTo(0.8, 2);
  });
});

describe("stills", () => {
  it("draw colours from the description's words", () => {
    expect(paletteFrom("A small white rabbit").words).toContain("white");
    expect(paletteFrom("lighting: night, stars").light).toBeLessThan(0.3);
    expect(paletteFrom("a red fox").top).not.toBe(paletteFrom("a blue fox").top);
  });

  it("are the same bytes for the same inputs", async () => {
    const card = { kind: "characters", name: "Bunny", description: "A white rabbit with pink ears." };
    expect((await elementCard(card)).equals(await elementCard(card))).toBe(true);
  });

  it("have the frame size of the aspect ratio", async () => {
    expect(frameSize("16:9", "standard")).toEqual({ width: 1280, height: 720 });
    expect(frameSize("9:16", "high")).toEqual({ width: 1080, height: 1920 });
    expect(frameSize("4:3", "standard")).toEqual({ width: 960, height: 720 });
    const png = await sceneImage({ width: 720, height: 1280, description: "lighting: dusk, a quiet harbour", groundText: "harbour", insets: [] });
    expect(await sharp(png).metadata()).toMatchObject({ width: 720, height: 1280 });
  });

  it("wrap text into lines and mark a cut", () => {
    expect(wrapText("one two three four five six", 9, 2)).toEqual(["one two", "three …"]);
  });
});

describe("subtitles", () => {
  it("writes SRT and WebVTT timestamps", () => {
    const cues = [{ start: 3.3, end: 7.25, text: "Hello there." }];
    expect(toSrt(cues)).toBe("1\n00:00:03,300 --> 00:00:07,250\nHello there.\n");
    expect(toVtt(cues)).toBe("WEBVTT\n\n00:00:03.300 --> 00:00:07.250\nHello there.\n");
  });
});
