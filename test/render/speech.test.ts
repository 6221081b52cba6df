import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ESPEAK_VOICE_FILES } from "../../src/render/local/espeak-languages.js";
import { espeakVoice, NoSuchVoiceError, speak, speaksLanguage, speechModule, synthesize, voiceByFile } from "../../src/render/local/speech.js";
import { runBin, STACK_TRACE } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

type Imports = Record<string, Record<string, unknown>>;

/**
 * The same line spoken with the package's own loading of its data files: every
 * import as the package made it, but for the clock (stopped, as storyc's is, so
 * that the breathy voices' noise is the same).
 */
async function withPackageLoader(text: string, voice: string): Promise<Float32Array> {
  const { default: ESpeakNg } = await import("espeak-ng");
  const module = await speechModule();
  const espeak = await ESpeakNg({
    arguments: ["-w", "/out.wav", "-v", voice, "-s", "160", "-g", "4", text],
    print: () => undefined,
    printErr: () => undefined,
    instantiateWasm: (imports: Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => {
      const clocked: Imports = {};
      for (const [name, table] of Object.entries(imports)) clocked[name] = { ...table, emscripten_date_now: () => 0 };
      void WebAssembly.instantiate(module, clocked as WebAssembly.Imports).then((instance) => receive(instance, module));
      return {};
    },
  });
  const { decodeWav } = await import("../../src/render/local/wav.js");
  const bytes = espeak.FS.readFile("/out.wav");
  return decodeWav(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).samples;
}

describe("the speech synthesizer's data files", () => {
  // Voices whose data lies in different folders: languages, their dictionaries, variants.
  const lines: Array<[string, string, string]> = [
    ["Bunny hops through the enchanted forest.", "Roger", "en-US"],
    ["Der Hase hüpft durch den Wald.", "Matilda", "de"],
    ["Le lapin goûte le miel doré.", "Jessica", "fr"],
    ["Olá, mundo da floresta.", "Aria", "pt-BR"],
    ["你好，世界", "Charlie", "zh"],
  ];

  it.each(lines)("are all there as the package loads them: %s", async (text, narrator, language) => {
    const voice = espeakVoice(narrator, language);
    // speak() tells the synthesizer the voice's file; the package's instance is told its name.
    const ours = await speak(text, voice);
    const theirs = await withPackageLoader(text, voice);
    expect(ours.samples.length).toBeGreaterThan(4000);
    expect(ours.samples.length).toBe(theirs.length);
    expect(Buffer.from(ours.samples.buffer).equals(Buffer.from(theirs.buffer))).toBe(true);
  }, 60_000);
});

describe("the languages the local renderer speaks", () => {
  it("are those whose voice files the espeak-ng package embeds", async () => {
    const { createRequire } = await import("node:module");
    const wasm = (await readFile(createRequire(import.meta.url).resolve("espeak-ng/dist/espeak-ng.wasm"))).toString("latin1");
    const embedded = [...new Set([...wasm.matchAll(/espeak-ng-data\/lang\/((?:[a-z]+\/)*[A-Za-z0-9_-]+)\0/g)].map((m) => m[1]!))].sort();
    expect(embedded.length).toBeGreaterThan(100);
    expect([...ESPEAK_VOICE_FILES]).toEqual(embedded);
  });

  it("sound the same told by their voice file as told by their name, in every language", async () => {
    const module = await speechModule();
    const text = "Hello, one two three.";
    for (const path of ESPEAK_VOICE_FILES) {
      const name = `${path.slice(path.lastIndexOf("/") + 1).toLowerCase()}+m3`;
      expect(voiceByFile(name)).toBe(`${path.toLowerCase()}+m3`);
      const byName = (await synthesize(module, text, name)).samples;
      const byFile = (await synthesize(module, text, voiceByFile(name))).samples;
      expect(byFile.length, path).toBe(byName.length);
      expect(Buffer.from(byFile.buffer).equals(Buffer.from(byName.buffer)), path).toBe(true);
    }
  }, 60_000);

  it("are told apart as the synthesizer tells them apart", async () => {
    const module = await speechModule();
    for (const language of ["en-US", "de", "ko", "yue", "zh", "no", "tl", "fil", "xx"]) {
      const spoken = await synthesize(module, "hello", espeakVoice("Roger", language)).then(
        () => true,
        (error: unknown) => (error instanceof NoSuchVoiceError ? false : Promise.reject(error)),
      );
      expect(speaksLanguage(language), language).toBe(spoken);
    }
  }, 60_000);
});

describe("the speech synthesizer, kept from line to line", () => {
  it("speaks each line as a fresh instance does, whatever it spoke before", async () => {
    // A whispering voice (noise from rand()), a voice that fails, and the first line again after others.
    const sequence: Array<[string, string]> = [
      ["The whisper of the leaves.", "en-us+whisper"],
      ["Der Hase hüpft durch den Wald.", "de+m3"],
      ["Kumusta, mundo.", "tl+m3"],
      ["The whisper of the leaves.", "en-us+whisper"],
      ["Le lapin goûte le miel doré, lentement, très lentement.", "fr+f2"],
    ];
    const module = await speechModule();
    for (const [text, voice] of sequence) {
      if (voice.startsWith("tl")) {
        const exitCode = process.exitCode;
        await expect(synthesize(module, text, voice)).rejects.toBeInstanceOf(NoSuchVoiceError);
        // The synthesizer's exit(1) is the line's error, not the process's exit code.
        expect(process.exitCode).toBe(exitCode);
        continue;
      }
      const ours = (await synthesize(module, text, voice)).samples;
      const theirs = await withPackageLoader(text, voice);
      expect(ours.length, `${voice}: ${text}`).toBe(theirs.length);
      expect(Buffer.from(ours.buffer).equals(Buffer.from(theirs.buffer)), `${voice}: ${text}`).toBe(true);
    }
  }, 60_000);
});

describe("a story's language in the local renderer", () => {
  const story = (language: string) =>
    `storyc: 1\ntitle: Words\nsettings: { narrator: Roger, language: ${language}, show_title: false, background_music: false }\nscenes:\n  - id: one\n    description: a quiet harbour\n    narrator: "Kumusta, mundo."\n`;

  it("says which setting to change when eSpeak NG has no voice for it, without a stack trace", async () => {
    const dir = tempDir("speech-language-");
    await writeFile(join(dir, "story.yaml"), story("tl"));
    const r = await runBin(["build", "story.yaml"], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('speaks no "tl" (settings.language)');
    expect(r.stdout + r.stderr).toContain("--renderer vimmerse");
    expect(r.stdout + r.stderr).not.toMatch(STACK_TRACE);
  }, 180_000);

  it("narrates Chinese (the cloud's zh) in Mandarin", async () => {
    const dir = tempDir("speech-language-");
    await writeFile(join(dir, "story.yaml"), story("zh").replace("Kumusta, mundo.", "你好，世界。"));
    const r = await runBin(["build", "story.yaml"], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const lock = JSON.parse(await readFile(join(dir, "story.lock"), "utf8")) as { nodes: Record<string, { meta?: { duration?: number } }> };
    expect(lock.nodes["scene/one/narration"]!.meta!.duration).toBeGreaterThan(0.5);
  }, 180_000);
});
