import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { EspeakModule } from "espeak-ng";
import { ESPEAK_VOICE_FILES } from "./espeak-languages.js";
import { memorySnapshot, restoreMemory } from "./wasm-memory.js";
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

/**
 * Languages eSpeak NG names otherwise than BCP 47 does: Chinese (the cloud's
 * "zh") is spoken as Mandarin, Norwegian as Bokmål, and two older tags still
 * seen in the wild (Hebrew's, Indonesian's) are taken as their new ones.
 */
const LANGUAGE_VOICES: Record<string, string> = { zh: "cmn", no: "nb", iw: "he", in: "id" };

/** The eSpeak NG language for a BCP 47 language tag. */
export function espeakLanguage(language: string): string {
  const [primary, region] = language.toLowerCase().split("-");
  return primary === "en" ? (region === "gb" ? "en" : "en-us") : primary === "pt" && region === "br" ? "pt-br" : (LANGUAGE_VOICES[primary!] ?? primary!);
}

/** Each language eSpeak NG speaks, by its name, with the path of its voice file under espeak-ng-data/lang; both in lower case, as eSpeak NG reads them. */
const VOICE_FILES = new Map(ESPEAK_VOICE_FILES.map((path) => [path.slice(path.lastIndexOf("/") + 1).toLowerCase(), path.toLowerCase()]));

/** What to write instead of a language eSpeak NG lacks: the words the errors and warnings say it with. */
export const SPOKEN_LANGUAGES_HINT = "write a language it speaks (en, fr, de, es, it, pt, zh, ja, ko, hi, ar, tr and more), or render this story with --renderer vimmerse";

/** Whether the local renderer's synthesizer has a voice for a BCP 47 language tag. */
export function speaksLanguage(language: string): boolean {
  return VOICE_FILES.has(espeakLanguage(language));
}

/** The eSpeak NG voice for a narrator name and a BCP 47 language tag. */
export function espeakVoice(narrator: string, language: string): string {
  const base = espeakLanguage(language);
  const known = VOICES[narrator.toLowerCase()];
  const variant = known ?? FALLBACK_VARIANTS[createHash("sha256").update(narrator.toLowerCase()).digest()[0]! % FALLBACK_VARIANTS.length]!;
  return `${base}+${variant}`;
}

/**
 * A voice as eSpeak NG finds it quickest: its language by the path of its
 * voice file, its variant as it is ("en-us+f3" is "gmw/en-us+f3"). Given a
 * language's name, eSpeak NG reads every voice file (some 130) to find the
 * one that declares it, and it does so at every line, since each line starts
 * from the instance's first state; given the path, it reads that one file.
 * A line then takes 6-7 ms less, with the same samples for every language
 * (test/render/speech.test.ts). eSpeak NG looks the path up in lower case:
 * the files whose names are not get a lower-case link (embeddedFileLoader).
 * A language without a voice file is left as it is, for eSpeak NG to refuse.
 */
export function voiceByFile(voice: string): string {
  const plus = voice.indexOf("+");
  const language = plus < 0 ? voice : voice.slice(0, plus);
  const file = VOICE_FILES.get(language.toLowerCase());
  return file ? file + voice.slice(language.length) : voice;
}

/** eSpeak NG has no voice of that name: most often, no voice for the story's language. */
export class NoSuchVoiceError extends Error {
  constructor(readonly voice: string) {
    super(`eSpeak NG has no voice ${voice}`);
  }
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

/** The instance's imports with some functions replaced, in every table that has them. */
function withImports(imports: Imports, replaced: Record<string, unknown>): Imports {
  const patched: Imports = {};
  for (const [name, table] of Object.entries(imports)) {
    patched[name] = { ...table };
    for (const [fn, impl] of Object.entries(replaced)) if (fn in table) patched[name]![fn] = impl;
  }
  return patched;
}

/**
 * Some eSpeak NG voices (the breathy and flutter variants) seed their noise with
 * srand(time()). The instance is given a clock stopped at zero, so the same line
 * in the same voice gives the same samples on every run and every machine. Only
 * this instance's imports change; the process's clock is untouched.
 */
const stoppedClock = { emscripten_date_now: () => 0 };

/** The part of the synthesizer's in-memory file system (Emscripten's FS) that loading its data uses. */
interface DataFs {
  mkdir(path: string): unknown;
  createDataFile(parent: string, name: string, data: Int8Array, canRead: boolean, canWrite: boolean, canOwn: boolean): void;
  symlink(target: string, path: string): unknown;
}

/**
 * The synthesizer's data (voices, dictionaries, phonemes: some 450 files) is
 * embedded in its WebAssembly, and each instance (one per thread: see
 * Synthesizer) lists it in an in-memory file system as it starts. The
 * package's loader finds or makes every folder along every file's path again,
 * and each folder already made costs it an error with a captured stack.
 * Listed through the same calls with each folder made once, the same files
 * take a quarter of the time: 10-15 ms against 40-55. Entries are {name,
 * length, address} triples in the instance's memory, ended by a null name;
 * each file's bytes stay where they are in that memory, as with the package's
 * loader (so putting the memory back puts the files back too). A voice file
 * whose name is not in lower case ("en-US") also gets a link in lower case,
 * the name eSpeak NG looks for when told its path (voiceByFile).
 */
function embeddedFileLoader(fs: () => DataFs, memory: () => WebAssembly.Memory): (table: number) => void {
  return (table) => {
    const buffer = memory().buffer;
    const words = new Uint32Array(buffer);
    const bytes = new Uint8Array(buffer);
    const folders = new Set<string>(["/"]);
    const made = (folder: string): string => {
      if (!folders.has(folder)) {
        const slash = folder.lastIndexOf("/");
        if (slash > 0) made(folder.slice(0, slash));
        fs().mkdir(folder);
        folders.add(folder);
      }
      return folder;
    };
    for (let entry = table; words[entry >> 2]; entry += 12) {
      const [nameAt, length, contentAt] = [words[entry >> 2]!, words[(entry + 4) >> 2]!, words[(entry + 8) >> 2]!];
      const name = Buffer.from(buffer, nameAt, bytes.indexOf(0, nameAt) - nameAt).toString("utf8");
      const slash = name.lastIndexOf("/");
      const folder = slash > 0 ? made(name.slice(0, slash)) : "/";
      const file = name.slice(slash + 1);
      fs().createDataFile(folder, file, new Int8Array(buffer, contentAt, length), true, true, true);
      if (folder.includes("/espeak-ng-data/lang") && file !== file.toLowerCase()) fs().symlink(file, `${folder}/${file.toLowerCase()}`);
    }
  };
}

/**
 * Speaks a line with eSpeak NG compiled to WebAssembly: offline, in this
 * process, the same samples every time. A line runs for 10-20 ms without
 * yielding, a thread's first one some 60 ms more to set the synthesizer up;
 * from storyc's build it runs in worker threads
 * (speech-pool.ts), so that the thread which starts the encodes and draws the
 * stills is not held up by it. Run from its sources (the tests), it runs here.
 */
export async function speak(text: string, voice: string, signal?: AbortSignal): Promise<Pcm> {
  signal?.throwIfAborted();
  const module = await speechModule();
  const { speechPool } = await import("./speech-pool.js");
  const pool = speechPool();
  const file = voiceByFile(voice);
  const pcm = pool ? await pool.speak(module, text, file, signal) : await synthesize(module, text, file);
  signal?.throwIfAborted();
  return pcm;
}

/** The synthesizer's exports that running its main again needs. */
interface SynthesizerExports {
  memory: WebAssembly.Memory;
  __main_argc_argv(argc: number, argv: number): number;
  stackSave(): number;
  stackRestore(pointer: number): void;
  stackAlloc(size: number): number;
  fflush(stream: number): number;
}

/** The synthesizer's argv[0], the same for the instance's start as for every line it speaks. */
const PROGRAM = "espeak-ng";

/** What one run of the synthesizer's main left: the WAV it wrote, if any, and what it printed to stderr. */
interface Run {
  wav: Uint8Array | null;
  errors: string[];
}

/**
 * One instance of the synthesizer, set up once and put back before every line
 * into the state it had before its first. Setting up an instance (its memory,
 * its ~450 data files listed in its file system) took most of a line's time,
 * and each new instance's file system, with classes of its own, had V8
 * compile its JavaScript again. What a line can change is the instance's
 * memory (32 MB, which cannot grow: its maximum is its minimum), its stack
 * pointer and its file system (the WAV written, files left open); each is
 * restored, so every line runs from the same state as on a fresh instance
 * and gives the same samples (test/render/speech.test.ts holds it to the
 * package's own fresh instances).
 */
class Synthesizer {
  private constructor(
    private readonly espeak: EspeakModule,
    private readonly exports: SynthesizerExports,
    /** The memory as it was before the first line, up to the last block that holds anything but zeros. */
    private readonly pristine: Uint8Array,
    private readonly size: number,
    private readonly stack: number,
    private readonly errors: string[],
  ) {}

  static async start(module: WebAssembly.Module): Promise<Synthesizer> {
    const { default: ESpeakNg } = await import("espeak-ng");
    const errors: string[] = [];
    let instance: WebAssembly.Instance | undefined;
    // Emscripten adds its file system to the options object, which becomes the module.
    const options: Parameters<typeof ESpeakNg>[0] & { FS?: DataFs } = {
      noInitialRun: true,
      // argv[0], which would otherwise be the path storyc was started from.
      thisProgram: PROGRAM,
      // A line eSpeak NG refuses exits with status 1: that is the line's error, not this process's exit code.
      quit: (_status, toThrow) => {
        throw toThrow;
      },
      print: () => undefined,
      printErr: (line) => errors.push(line),
      instantiateWasm: (imports: Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => {
        const loadFiles = embeddedFileLoader(
          () => options.FS!,
          () => instance!.exports.memory as WebAssembly.Memory,
        );
        const patched = withImports(imports, { ...stoppedClock, _emscripten_fs_load_embedded_files: loadFiles });
        void WebAssembly.instantiate(module, patched as WebAssembly.Imports).then((made) => {
          instance = made;
          receive(made, module);
        });
        return {};
      },
    };
    const espeak = await ESpeakNg(options);
    const exports = instance!.exports as unknown as SynthesizerExports;
    errors.length = 0;
    const memory = new Uint8Array(exports.memory.buffer);
    return new Synthesizer(espeak, exports, memorySnapshot(memory), memory.byteLength, exports.stackSave(), errors);
  }

  /** Whether the instance can be put back as it was (false if its memory grew, which only another build of the package could do). */
  get resettable(): boolean {
    return this.exports.memory.buffer.byteLength === this.size;
  }

  /** Runs main with `args`, as Emscripten's callMain lays them out, from the instance's first state. */
  run(args: string[]): Run {
    const { exports, espeak } = this;
    restoreMemory(new Uint8Array(exports.memory.buffer), this.pristine);
    exports.stackRestore(this.stack);
    this.errors.length = 0;
    const argv = [PROGRAM, ...args];
    const table = exports.stackAlloc((argv.length + 1) * 4);
    for (const [i, arg] of argv.entries()) {
      const bytes = Buffer.from(arg, "utf8");
      const at = exports.stackAlloc(bytes.length + 1);
      const heap = new Uint8Array(exports.memory.buffer);
      heap.set(bytes, at);
      heap[at + bytes.length] = 0;
      new Uint32Array(exports.memory.buffer)[(table >> 2) + i] = at;
    }
    new Uint32Array(exports.memory.buffer)[(table >> 2) + argv.length] = 0;
    try {
      exports.__main_argc_argv(argv.length, table);
    } catch (error) {
      // exit() ends main by throwing Emscripten's ExitStatus; anything else is a fault.
      if ((error as { name?: string } | null)?.name !== "ExitStatus") throw error;
    }
    exports.fflush(0);
    let wav: Uint8Array | null = null;
    try {
      wav = espeak.FS.readFile("/out.wav");
      espeak.FS.unlink("/out.wav");
    } catch {
      // no WAV: the errors say why
    }
    for (const stream of espeak.FS.streams) if (stream && stream.fd > 2) espeak.FS.close(stream);
    return { wav, errors: [...this.errors] };
  }
}

/** This thread's synthesizer for each compiled module; a new one replaces one that failed or cannot be reset. */
const synthesizers = new WeakMap<WebAssembly.Module, Promise<Synthesizer>>();

function synthesizerFor(module: WebAssembly.Module): Promise<Synthesizer> {
  let synthesizer = synthesizers.get(module);
  if (!synthesizer) {
    synthesizer = Synthesizer.start(module);
    synthesizers.set(module, synthesizer);
    synthesizer.catch(() => synthesizers.delete(module));
  }
  return synthesizer;
}

/** One line, synthesised in the calling thread. */
export async function synthesize(module: WebAssembly.Module, text: string, voice: string): Promise<Pcm> {
  let synthesizer = await synthesizerFor(module);
  if (!synthesizer.resettable) {
    synthesizers.delete(module);
    synthesizer = await synthesizerFor(module);
  }
  let run: Run;
  try {
    run = synthesizer.run(["-w", "/out.wav", "-v", voice, "-s", "160", "-g", "4", text.replace(/\s+/g, " ").trim()]);
  } catch (error) {
    synthesizers.delete(module);
    throw error;
  }
  if (!run.wav) {
    if (run.errors.some((line) => /voice does not exist/i.test(line))) throw new NoSuchVoiceError(voice);
    throw new Error(`the speech synthesizer made no audio for voice ${voice}${run.errors.length ? `: ${run.errors.join(" ")}` : ""}`);
  }
  return decodeWav(Buffer.from(run.wav.buffer, run.wav.byteOffset, run.wav.byteLength));
}
