import { describe, expect, it } from "vitest";
import { espeakVoice, speechModule, synthesize } from "../../src/render/local/speech.js";

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
  ];

  it.each(lines)("are all there as the package loads them: %s", async (text, narrator, language) => {
    const voice = espeakVoice(narrator, language);
    const ours = await synthesize(await speechModule(), text, voice);
    const theirs = await withPackageLoader(text, voice);
    expect(ours.samples.length).toBeGreaterThan(4000);
    expect(ours.samples.length).toBe(theirs.length);
    expect(Buffer.from(ours.samples.buffer).equals(Buffer.from(theirs.buffer))).toBe(true);
  }, 60_000);
});
