import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { decodeWav, type Pcm } from "./wav.js";

/**
 * The cloud's narrator voices (the Story API's audio_option list), each given
 * a distinct eSpeak NG variant, so that a story keeps its narrator's
 * character offline. Older names seen in API examples are mapped too.
 */
const VOICES: Record<string, string> = {
  rachel: "f3",
  aria: "f2",
  sarah: "f4",
  laura: "f1",
  charlotte: "f5",
  alice: "linda",
  matilda: "steph",
  jessica: "belinda",
  lily: "steph2",
  roger: "m3",
  charlie: "m1",
  george: "m2",
  callum: "m4",
  liam: "m5",
  will: "m6",
  eric: "m7",
  chris: "david",
  brian: "john",
  daniel: "paul",
  bill: "robert",
  river: "ian",
  adam: "m8",
  antoni: "m1",
  josh: "m7",
  bella: "f2",
  elli: "f4",
};
const FALLBACK_VARIANTS = ["f1", "f2", "f3", "f4", "m1", "m2", "m3", "m4", "m7"];

/** The narrator voices the cloud offers, each with its own offline voice. */
export const CLOUD_VOICES = ["Rachel", "Aria", "Sarah", "Laura", "Charlotte", "Alice", "Matilda", "Jessica", "Lily", "Roger", "Charlie", "George", "Callum", "Liam", "Will", "Eric", "Chris", "Brian", "Daniel", "Bill", "River"];

/** The eSpeak NG voice for a narrator name and a BCP 47 language tag. */
export function espeakVoice(narrator: string, language: string): string {
  const [primary, region] = language.toLowerCase().split("-");
  const base = primary === "en" ? (region === "gb" ? "en" : "en-us") : primary === "pt" && region === "br" ? "pt-br" : primary!;
  const known = VOICES[narrator.toLowerCase()];
  const variant = known ?? FALLBACK_VARIANTS[createHash("sha256").update(narrator.toLowerCase()).digest()[0]! % FALLBACK_VARIANTS.length]!;
  return `${base}+${variant}`;
}

let compiled: Promise<WebAssembly.Module> | null = null;

/** The synthesizer's WebAssembly, compiled once per process and instantiated for each line. */
export function speechModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const require = createRequire(import.meta.url);
    const file = require.resolve("espeak-ng/dist/espeak-ng.wasm");
    return WebAssembly.compile(await readFile(file));
  })();
  return compiled;
}

type Imports = Record<string, Record<string, unknown>>;

/**
 * Some eSpeak NG voices (the breathy and flutter variants) seed their noise with
 * srand(time()). The instance is given a clock stopped at zero, so the same line
 * in the same voice gives the same samples on every run and every machine. Only
 * this instance's imports change; the process's clock is untouched.
 */
function withStoppedClock(imports: Imports): Imports {
  const stopped = () => 0;
  const patched: Imports = {};
  for (const [name, table] of Object.entries(imports)) patched[name] = { ...table, emscripten_date_now: stopped };
  return patched;
}

/**
 * Receiving the instance loads the voice data into the in-memory file system
 * and runs the synthesizer, synchronously. That build of the file system makes
 * an error, with a captured stack, for every folder it finds already made: a
 * few hundred per line, most of the time the line took. Nothing reads those
 * stacks, so none are captured meanwhile.
 */
function withoutStacks<T>(run: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return run();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Speaks a line with eSpeak NG compiled to WebAssembly: offline, in this
 * process, the same samples every time. Synthesis runs for a tenth of a second
 * or more without yielding; from storyc's build it runs in worker threads
 * (speech-pool.ts), so that the thread which starts the encodes and draws the
 * stills is not held up by it. Run from its sources (the tests), it runs here.
 */
export async function speak(text: string, voice: string, signal?: AbortSignal): Promise<Pcm> {
  signal?.throwIfAborted();
  const module = await speechModule();
  const { speechPool } = await import("./speech-pool.js");
  const pool = speechPool();
  const pcm = pool ? await pool.speak(module, text, voice, signal) : await synthesize(module, text, voice);
  signal?.throwIfAborted();
  return pcm;
}

/** One line, synthesised in the calling thread. */
export async function synthesize(module: WebAssembly.Module, text: string, voice: string): Promise<Pcm> {
  const { default: ESpeakNg } = await import("espeak-ng");
  const errors: string[] = [];
  const espeak = await ESpeakNg({
    arguments: ["-w", "/out.wav", "-v", voice, "-s", "160", "-g", "4", text.replace(/\s+/g, " ").trim()],
    print: () => undefined,
    printErr: (line) => errors.push(line),
    instantiateWasm: (imports: Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => {
      void WebAssembly.instantiate(module, withStoppedClock(imports) as WebAssembly.Imports).then((instance) => withoutStacks(() => receive(instance, module)));
      return {};
    },
  });
  let bytes: Uint8Array;
  try {
    bytes = espeak.FS.readFile("/out.wav");
  } catch {
    throw new Error(`the speech synthesizer made no audio for voice ${voice}${errors.length ? `: ${errors.join(" ")}` : ""}`);
  }
  return decodeWav(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
