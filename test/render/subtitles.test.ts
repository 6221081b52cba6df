import { describe, expect, it } from "vitest";
import { MAX_CUE_SECONDS, MAX_LINE_CHARS, MAX_LINE_WIDE_CHARS, splitCues, toSrt } from "../../src/render/local/subtitles.js";

const words = (n: number) => Array.from({ length: n }, (_, i) => (i % 11 === 10 ? "sentence." : ["the", "river", "carries", "honey", "past", "sleepy", "bunnies", "and", "golden", "reeds"][i % 10]!)).join(" ");

describe("splitCues", () => {
  it("turns a 2000-word narration into readable cues timed within the narration", () => {
    const cue = { start: 12, end: 12 + 750, text: words(2000) };
    const cues = splitCues(cue);
    expect(cues.length).toBeGreaterThan(100);
    expect(cues[0]!.start).toBe(12);
    expect(cues.at(-1)!.end).toBeCloseTo(762, 6);
    for (const [i, c] of cues.entries()) {
      expect(c.end - c.start).toBeLessThanOrEqual(MAX_CUE_SECONDS + 1e-9);
      expect(c.end).toBeGreaterThan(c.start);
      if (i > 0) expect(c.start).toBeCloseTo(cues[i - 1]!.end, 9);
    }
    // Every word is shown once, in order.
    expect(cues.map((c) => c.text).join(" ")).toBe(cue.text);
    // Written out, every cue is at most two lines of at most 42 characters.
    for (const block of toSrt(cues).trim().split("\n\n")) {
      const text = block.split("\n").slice(2);
      expect(text.length).toBeLessThanOrEqual(2);
      for (const line of text) expect(line.length).toBeLessThanOrEqual(MAX_LINE_CHARS);
    }
  });

  it("leaves a short narration as one cue", () => {
    const cue = { start: 1, end: 4, text: "Every band starts with one small sound." };
    expect(splitCues(cue)).toEqual([cue]);
  });

  it("ends cues at sentence ends", () => {
    const cues = splitCues({ start: 0, end: 6, text: "Bunny hops. The honey glows in the forest light, warm and slow." });
    expect(cues.map((c) => c.text)).toEqual(["Bunny hops.", "The honey glows in the forest light, warm and slow."]);
  });

  it("keeps a slow narration's cues under seven seconds each", () => {
    const cues = splitCues({ start: 0, end: 30, text: "Wait for it, wait for it." });
    expect(cues.length).toBeGreaterThan(1);
    for (const c of cues) expect(c.end - c.start).toBeLessThanOrEqual(MAX_CUE_SECONDS);
    expect(cues.map((c) => c.text).join(" ")).toBe("Wait for it, wait for it.");
  });

  it("an empty narration has no cues", () => {
    expect(splitCues({ start: 0, end: 3, text: "  " })).toEqual([]);
  });

  it("breaks Chinese and Japanese, written without spaces, into lines of 16 characters and cues at sentence ends", () => {
    const zh = "在一个宁静的港口，小兔子发现了一条闪闪发光的蜂蜜小溪。它小心翼翼地舔了一口，眼睛立刻亮了起来，这是它尝过的最甜的蜂蜜。";
    const ja = "森の中で、うさぎは金色の蜂蜜の小川を見つけました。そっとなめてみると、目がぱっと輝きました。";
    for (const text of [zh, ja]) {
      const cues = splitCues({ start: 0, end: 9, text });
      expect(cues.length).toBe(2);
      // Every character is shown once, in order, with no space put between them.
      expect(cues.map((c) => c.text).join("")).toBe(text);
      expect(cues[0]!.text.endsWith("。")).toBe(true);
      for (const block of toSrt(cues).trim().split("\n\n")) {
        const shown = block.split("\n").slice(2);
        expect(shown.length).toBeLessThanOrEqual(2);
        for (const line of shown) {
          expect([...line].length).toBeLessThanOrEqual(MAX_LINE_WIDE_CHARS + 1);
          // A comma or full stop ends the line before it; it never starts one.
          expect(line).not.toMatch(/^[，。、]/);
        }
      }
    }
  });

  it("ends a Japanese cue after the bracket that closes its sentence", () => {
    const cues = splitCues({ start: 0, end: 6, text: "うさぎは言いました。「おいしい！」そして眠りました。" });
    expect(cues.map((c) => c.text)).toEqual(["うさぎは言いました。", "「おいしい！」", "そして眠りました。"]);
  });

  it("keeps the spaces of a line that mixes Chinese with Latin words", () => {
    const cues = splitCues({ start: 0, end: 6, text: "Bunny 在 Forest 里找到了 honey，非常开心。Then he sleeps." });
    expect(cues.map((c) => c.text)).toEqual(["Bunny 在 Forest 里找到了 honey，非常开心。", "Then he sleeps."]);
  });
});
