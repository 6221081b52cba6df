import { copyFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { isLocalMedia, type MediaRef, type NodeInputs, type SceneMove } from "../../graph/inputs.js";
import type { NodeKind, ToolchainOf } from "../../graph/nodes.js";
import type { AspectRatio, Transition } from "../../story/types.js";
import { packageVersion } from "../../paths.js";
import { hashJson } from "../../graph/hash.js";
import type { DepOutput, Renderer, RenderInput, RenderResult } from "../types.js";
import { RendererUnavailableError } from "../types.js";
import { encodeClip, moveSpan, type ClipPiece } from "./clip.js";
import { locateFfmpeg, runFfmpeg, type FfmpegLocation } from "./ffmpeg.js";
import { holdLauncher, keepLauncher, releaseLauncher } from "./launcher.js";
import { FPS, frameSize, sceneFrames, TITLE_FRAMES, TRANSITION_FRAMES, videoEncodeArgs, type Quality } from "./layout.js";
import { MOTIONS, moveFilters, parseMotion, type Motion } from "./motion.js";
import { encodeCrossfade, type MoveAt } from "./crossfade.js";
import { MUSIC_RATE, synthesizeMusicYielding } from "./music.js";
import { espeakVoice, NoSuchVoiceError, speak, SPOKEN_LANGUAGES_HINT } from "./speech.js";
import { CUE_RULES } from "./subtitles.js";
import { espeakVersion, probeFfmpegAsync, stillsToolchain, ToolchainMemo, type FfmpegProbe } from "./toolchain.js";
import { durationOf, encodeWav } from "./wav.js";

// Drawing and composing load sharp (libvips), mixing the sound its DSP: imported when a node
// needs them, so that a build with nothing to render does not pay for loading them.
const stills = () => import("./stills.js");
const compose = () => import("./compose.js");
const sound = () => import("./sound.js");

/**
 * Compiles the speech synthesizer, starts its threads and the ffmpeg launcher
 * (kept from one build to the next) and loads the drawing and composing code
 * (sharp, libvips), which a process otherwise does on its first narration,
 * encode and video. storyc watch calls it while it waits for the first save,
 * so that the first edit is as quick as the ones after it. Changes no output.
 */
export async function warmUp(): Promise<void> {
  const speech = async () => {
    const [module, { speechPool }] = await Promise.all([import("./speech.js").then((m) => m.speechModule()), import("./speech-pool.js")]);
    await speechPool()?.warm(module);
  };
  keepLauncher();
  await Promise.all([speech(), stills(), compose(), import("espeak-ng")]);
}

/**
 * Tenths of a second each kind takes on a laptop's core, for the engine's order.
 * A scene image outweighs its narration: both unlock the clip, but lines queue
 * for the speech threads while an image needs one of the build's slots.
 */
const LOCAL_WEIGHTS: Record<NodeKind, number> = { element: 1, "scene-image": 2, "scene-narration": 1, music: 2, title: 10, "scene-clip": 16, crossfade: 3, sound: 2, video: 2 };

export const QUALITIES: readonly Quality[] = ["standard", "high", "draft"];

/** The x264 settings, as a short digest. */
const ENCODE_SETTINGS = hashJson(videoEncodeArgs()).slice(0, 12);

let moveDrawing: string | undefined;

/**
 * How every move is drawn (motion.ts), as a short digest: memoised clip pieces
 * and crossfades are reused only when drawn alike. Made when a clip is first
 * encoded, not as the module loads: a millisecond that commands drawing nothing
 * would pay.
 */
function moveDrawingDigest(): string {
  moveDrawing ??= hashJson(MOTIONS.map((m) => moveFilters(m, 100, 10, 20, 64, 36, "in", "out"))).slice(0, 12);
  return moveDrawing;
}

/**
 * The embedded renderer: an animatic made offline from the story's text, with
 * stills drawn by sharp, narration by eSpeak NG (WebAssembly), generated music
 * and ffmpeg for motion and the final cut. Each node is made from its typed
 * inputs and its dependencies' outputs alone.
 */
export class LocalRenderer implements Renderer {
  // Bump the revision whenever a change alters what the renderer draws: it is part of every key.
  readonly identity = { name: "local", version: `${packageVersion()}+r19` };
  readonly paid = false;
  /**
   * Crossfades are drawn from the stills of the scenes they join (crossfade.ts), and
   * the sound is mixed and encoded per scene (sound.ts), beside the clips.
   */
  readonly videoPieces = true;
  readonly options: { quality: Quality };
  private ffmpeg: FfmpegLocation | null = null;
  private probe: FfmpegProbe | null = null;
  private probing: Promise<FfmpegProbe | null> | undefined;
  /** What identifies the drawing stack and fonts, for the memo keys of drawn files (the contact sheet's labels). */
  private stillsId = "unknown";
  /** Whether this renderer's build holds the ffmpeg launcher, from begin() to dispose(). */
  private holdsLauncher = false;

  constructor(
    options: { quality?: string } = {},
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    const quality = (options.quality ?? "standard") as Quality;
    if (!QUALITIES.includes(quality)) throw new RendererUnavailableError(`unknown quality "${options.quality}"`, `use --quality ${QUALITIES.join(" or ")}`);
    this.options = { quality };
  }

  /**
   * The tools behind each kind of node, for their keys: the ffmpeg build for what
   * ffmpeg encodes, the drawing stack and fonts for stills, the speech synthesizer
   * for narration. An ffmpeg that cannot be found leaves its kinds keyed by
   * "none"; the build then stops at prepare() with the reason.
   */
  async toolchain(cacheDir: string): Promise<ToolchainOf> {
    const memo = new ToolchainMemo(join(cacheDir, "toolchain.json"));
    const ffmpegKey = async (): Promise<unknown> => {
      try {
        this.ffmpeg ??= locateFfmpeg(this.env, (path) => memo.knownVersion(path));
        this.probe ??= await memo.ffmpegAsync(this.ffmpeg.path);
        return this.probe ? { version: this.probe.version, build: this.probe.build } : "none";
      } catch (error) {
        if (!(error instanceof RendererUnavailableError)) throw error;
        return "none";
      }
    };
    // The probes (ffmpeg's listings, fc-match) run side by side, and beside loading sharp.
    const [ffmpeg, stills] = await Promise.all([ffmpegKey(), stillsToolchain(memo)]);
    this.stillsId = hashJson(stills).slice(0, 16);
    memo.save();
    const speech = { espeak: espeakVersion() };
    return (kind, inputs) => {
      switch (kind) {
        case "element":
        case "scene-image":
          return { stills };
        case "title":
          return { stills, ffmpeg };
        case "video":
          // The video's subtitles are made by storyc's own rules (subtitles.ts): a change to them changes the video alone.
          return { stills, ffmpeg, cues: CUE_RULES };
        case "scene-clip":
        case "crossfade":
        case "sound":
          return { ffmpeg };
        case "scene-narration":
          return speech;
        case "music":
          // Music is synthesised in JS; only a music file goes through ffmpeg's decoders.
          return isLocalMedia((inputs as NodeInputs["music"]).source) ? { ffmpeg } : undefined;
      }
    };
  }

  async prepare(): Promise<void> {
    this.ffmpeg ??= locateFfmpeg(this.env);
    await this.probed();
    if (!this.probe) throw new RendererUnavailableError(`${this.ffmpeg.path} did not answer -version`, "check that this ffmpeg runs, or set STORYC_FFMPEG to another one");
    if (this.probe.missing.length) {
      throw new RendererUnavailableError(
        `the ffmpeg at ${this.ffmpeg.path} (${this.ffmpeg.version}) lacks what storyc needs: ${this.probe.missing.join(", ")}`,
        "use the bundled ffmpeg (unset STORYC_FFMPEG or set it to bundled), or install a full build of ffmpeg 4.4 or newer",
      );
    }
  }

  estimateCredits(): number {
    return 0;
  }

  /** How long each kind takes next to the others (LOCAL_WEIGHTS): the clips' encodes dominate. */
  weight(kind: NodeKind): number {
    return LOCAL_WEIGHTS[kind];
  }

  /**
   * Before the first node renders: the speech synthesizer starts compiling in the
   * background, so that the first narration does not wait for it (a cold build draws
   * the elements meanwhile), and the launcher of ffmpeg starts while storyc is still small
   * (launcher.ts). Changes no output.
   */
  async begin(): Promise<void> {
    if (!this.holdsLauncher) holdLauncher();
    this.holdsLauncher = true;
    void import("./speech.js").then((m) => m.speechModule()).catch(() => undefined);
  }

  /** After the build: its hold on the ffmpeg launcher ends (launcher.ts), which ends with the last build that held it. */
  async dispose(): Promise<void> {
    if (!this.holdsLauncher) return;
    this.holdsLauncher = false;
    await releaseLauncher();
  }

  /**
   * What makes an encoded piece's bytes besides its frames: the ffmpeg build and the
   * x264 settings. Memoised clip pieces and crossfades are found under it, so a
   * change of settings (threads, preset) is never served a piece encoded before it.
   */
  private encoderId(): string {
    return this.probe ? `${this.probe.version}-${this.probe.build.slice(0, 16)}-${ENCODE_SETTINGS}` : "unknown";
  }

  /**
   * The ffmpeg's probe, for encoderId(): toolchain() made it when a build asked for the
   * keys; a renderer handed nodes alone (a farm worker's) probes once, here.
   */
  private async probed(): Promise<FfmpegProbe | null> {
    this.probing ??= this.probe ? Promise.resolve(this.probe) : probeFfmpegAsync(this.ffmpegPath());
    this.probe ??= await this.probing;
    return this.probe;
  }

  private ffmpegPath(): string {
    this.ffmpeg ??= locateFfmpeg(this.env);
    return this.ffmpeg.path;
  }

  async render(input: RenderInput): Promise<RenderResult> {
    switch (input.node.kind) {
      case "element":
        return this.element(input as RenderInput<"element">);
      case "music":
        return this.music(input as RenderInput<"music">);
      case "title":
        return this.title(input as RenderInput<"title">);
      case "scene-image":
        return this.sceneImage(input as RenderInput<"scene-image">);
      case "scene-narration":
        return this.narration(input as RenderInput<"scene-narration">);
      case "scene-clip":
        return this.clip(input as RenderInput<"scene-clip">);
      case "crossfade":
        return this.crossfade(input as RenderInput<"crossfade">);
      case "sound":
        return this.sound(input as RenderInput<"sound">);
      case "video":
        return this.video(input as RenderInput<"video">);
    }
  }

  private size(aspect: AspectRatio) {
    return frameSize(aspect, this.options.quality);
  }

  /** The verified copy of a local file the inputs name. */
  private mediaFile(input: RenderInput, media: MediaRef): string | undefined {
    if (!isLocalMedia(media)) return undefined;
    const path = input.media[media.sha256];
    if (!path) throw new Error(`${media.file} was not handed to the renderer`);
    return path;
  }

  private async element(input: RenderInput<"element">): Promise<RenderResult> {
    const i = input.node.inputs;
    const imageFile = this.mediaFile(input, i.image);
    const { elementCard, referencePicture } = await stills();
    const png = await elementCard({
      kind: i.kind,
      name: i.name,
      description: i.description,
      ...(imageFile ? { imageFile } : {}),
      ...(i.image && "url" in i.image ? { remoteUrl: i.image.url } : {}),
    });
    const result = await this.file(input, "element.png", png);
    // The picture itself, for the scenes that stand in this environment or show this character.
    if (imageFile) result.files.push({ name: "reference.png", path: await this.writeTo(input, "reference.png", await referencePicture(imageFile)) });
    return result;
  }

  private async music(input: RenderInput<"music">): Promise<RenderResult> {
    const i = input.node.inputs;
    const out = join(input.workDir, "music.wav");
    const file = this.mediaFile(input, i.source);
    if (file) {
      await runFfmpeg(
        this.ffmpegPath(),
        ["-i", file, "-vn", "-af", `aformat=sample_fmts=s16:channel_layouts=mono,aresample=${MUSIC_RATE}`, "-t", "600", "-c:a", "pcm_s16le", "-bitexact", out],
        { signal: input.signal },
      );
      return { files: [{ name: "music.wav", path: out }], meta: { source: "file" } };
    }
    await writeFile(out, encodeWav(await synthesizeMusicYielding(i.description)));
    return { files: [{ name: "music.wav", path: out }], meta: { source: i.source && "url" in i.source ? "generated (remote music is not fetched offline)" : "generated" } };
  }

  private transition(transitions: Transition): number {
    return transitions === "crossfade" ? TRANSITION_FRAMES : 0;
  }

  private async title(input: RenderInput<"title">): Promise<RenderResult> {
    const i = input.node.inputs;
    const { width, height } = this.size(i.aspect_ratio);
    const still = join(input.workDir, "title.png");
    const { titleCard } = await stills();
    await writeFile(still, await titleCard({ width, height, title: i.title, description: i.description }));
    const clip = await encodeClip(this.ffmpegPath(), { still, width, height, motion: "zoom-in", frames: TITLE_FRAMES, transition: this.transition(i.transitions), head: false, whole: true }, input.workDir, { signal: input.signal });
    return { files: [{ name: "title.png", path: still }, ...pieceFiles(clip.pieces)], meta: { frames: TITLE_FRAMES, motion: "zoom-in", span: clip.span, pieces: pieceFrames(clip.pieces) } };
  }

  private async sceneImage(input: RenderInput<"scene-image">): Promise<RenderResult> {
    const i = input.node.inputs;
    const { width, height } = this.size(i.settings.aspect_ratio);
    const elements = (input.deps.elements as DepOutput[] | undefined) ?? [];
    const isEnvironment = (e: DepOutput) => e.id.startsWith("element/environments/");
    const insets = elements.filter((e) => !isEnvironment(e)).map((e) => e.files["element.png"]!);
    // The scene's own picture first, else the picture of the first environment it names that has one.
    const imageFile = this.mediaFile(input, i.image) ?? elements.filter(isEnvironment).find((e) => e.files["reference.png"])?.files["reference.png"];
    const { sceneImage } = await stills();
    const png = await sceneImage({
      width,
      height,
      description: i.description,
      groundText: i.ground.join(" ") || i.description,
      insets,
      ...(imageFile ? { imageFile } : {}),
    });
    return this.file(input, "scene.png", png);
  }

  private async narration(input: RenderInput<"scene-narration">): Promise<RenderResult> {
    const i = input.node.inputs;
    const pcm = await speak(i.text, espeakVoice(i.voice, i.language), input.signal).catch((error: unknown) => {
      if (!(error instanceof NoSuchVoiceError)) throw error;
      throw new Error(
        `the local renderer's speech synthesizer (eSpeak NG) speaks no ${JSON.stringify(i.language)} (settings.language); ${SPOKEN_LANGUAGES_HINT}`,
      );
    });
    const result = await this.file(input, "narration.wav", encodeWav(pcm));
    return { ...result, meta: { duration: Number(durationOf(pcm).toFixed(3)) } };
  }

  private async clip(input: RenderInput<"scene-clip">): Promise<RenderResult> {
    const i = input.node.inputs;
    const { width, height } = this.size(i.settings.aspect_ratio);
    const image = input.deps.image as DepOutput;
    const narration = input.deps.narration as DepOutput;
    const { frames, motion } = sceneTiming(i, narration);
    const still = join(input.workDir, "still.png");
    await copyFile(image.files["scene.png"]!, still);
    const transition = this.transition(i.settings.transitions);
    // The clip's key covers the narration's text, but its pictures depend only on the narration's
    // length: an edit that keeps the scene as long finds every piece of the clip in the memo, one that
    // makes it a little longer or shorter its earlier pieces (clip.ts), and so do the crossfades
    // around it. The memo keys name all an encode reads: the ffmpeg build, the still, the move, the size.
    await this.probed();
    const clip = await encodeClip(this.ffmpegPath(), { still, width, height, motion, frames, transition }, input.workDir, {
      signal: input.signal,
      onProgress: (f) => input.progress(f),
      memo: { memo: input.memo, prefix: `local-clip/v1/${this.encoderId()}/${moveDrawingDigest()}/${basename(image.files["scene.png"]!)}` },
      ...(input.extraSlot ? { extraSlot: input.extraSlot } : {}),
    });
    // The move is in the meta, as the crossfades record the moves they continue (sceneTiming).
    return { files: [{ name: "still.png", path: still }, ...pieceFiles(clip.pieces)], meta: { frames, seconds: frames / FPS, motion, span: clip.span, pieces: pieceFrames(clip.pieces) } };
  }

  /** The crossfade into a scene, from the moves its clip and the one before draw (crossfade.ts). */
  private async crossfade(input: RenderInput<"crossfade">): Promise<RenderResult> {
    const i = input.node.inputs;
    const { width, height } = this.size(i.aspect_ratio);
    const x = TRANSITION_FRAMES;
    // Each move as its clip draws it (sceneTiming, clip.ts), from its first frame or from the clip's end.
    const sceneMove = (move: SceneMove, image: DepOutput, narration: DepOutput, at: "start" | "end"): MoveAt => {
      const { frames, motion } = sceneTiming(move, narration);
      return { still: image.files["scene.png"]!, motion, span: moveSpan(frames, x), start: at === "start" ? 0 : frames };
    };
    const dep = (role: string) => {
      const d = input.deps[role];
      if (!d || Array.isArray(d)) throw new Error(`${input.node.id} has no ${role} to fade from`);
      return d;
    };
    const from =
      i.from === "title"
        ? { ...titleMove(dep("title")), start: Number(dep("title").meta.frames) }
        : i.from
          ? sceneMove(i.from, dep("previousImage"), dep("previousNarration"), "end")
          : undefined;
    const to = sceneMove(i.to, dep("image"), dep("narration"), "start");
    await this.probed();
    const out = join(input.workDir, "crossfade.mp4");
    await encodeCrossfade(this.ffmpegPath(), { ...(from ? { from } : {}), to, frames: x, width, height }, out, {
      signal: input.signal,
      memo: { memo: input.memo, encoder: `${this.encoderId()}/${moveDrawingDigest()}` },
    });
    // Each move in the meta, as the clips record theirs: what joins them can be checked in the lockfile.
    const named = (m: MoveAt) => `${m.motion} ${m.span} ${m.start}`;
    return { files: [{ name: "crossfade.mp4", path: out }], meta: { frames: x, to: named(to), ...(from ? { from: named(from) } : {}) } };
  }

  /** A scene's piece of the sound track, or the title card's (sound.ts). */
  private async sound(input: RenderInput<"sound">): Promise<RenderResult> {
    const i = input.node.inputs;
    // The title card's piece has no narration; only a scene's reads one.
    const narration = i.duration === null ? undefined : (input.deps.narration as DepOutput);
    const music = input.deps.music as DepOutput | undefined;
    const frames = i.duration === null ? TITLE_FRAMES : sceneFrames(i.duration, Number(narration!.meta.duration ?? 0));
    const { soundPiece } = await sound();
    const piece = await soundPiece(
      this.ffmpegPath(),
      { frames, ...(narration ? { narration: narration.files["narration.wav"]! } : {}), ...(music ? { music: music.files["music.wav"]! } : {}) },
      input.workDir,
      { signal: input.signal },
    );
    return { ...(await this.file(input, "sound.aac", piece)), meta: { frames } };
  }

  private async video(input: RenderInput<"video">): Promise<RenderResult> {
    const i = input.node.inputs;
    const { width, height } = this.size(i.settings.aspect_ratio);
    const clips = input.deps.clips as DepOutput[];
    const narrations = input.deps.narrations as DepOutput[];
    const fades = input.deps.crossfades as DepOutput[] | undefined;
    const sounds = input.deps.sounds as DepOutput[] | undefined;
    const title = input.deps.title as DepOutput | undefined;
    if (i.settings.transitions === "crossfade" && fades?.length !== clips.length) throw new Error(`${input.node.id} has no crossfade node for each scene; build it again`);
    if (sounds?.length !== clips.length + (title ? 1 : 0)) throw new Error(`${input.node.id} has no sound node for each scene; build it again`);
    await this.probed();
    const { composeVideo } = await compose();
    const files = await composeVideo(
      this.ffmpegPath(),
      {
        width,
        height,
        ...(title ? { title: { frames: Number(title.meta.frames), pieces: piecesOf(title) } } : {}),
        sounds: sounds.map((s) => s.files["sound.aac"]!),
        encoder: this.encoderId(),
        stills: this.stillsId,
        scenes: clips.map((c, n) => ({
          label: i.scenes[n]?.label ?? `scene ${n + 1}`,
          frames: Number(c.meta.frames),
          ...(fades ? { fade: { path: fades[n]!.files["crossfade.mp4"]!, frames: Number(fades[n]!.meta.frames) } } : {}),
          pieces: piecesOf(c),
          still: c.files["still.png"]!,
          narrationSeconds: Number(narrations[n]!.meta.duration ?? 0),
          narrationText: i.scenes[n]?.narration ?? "",
        })),
      },
      input.workDir,
      input.memo,
      input.signal,
      (f) => input.progress(f),
    );
    return { files };
  }

  private async writeTo(input: RenderInput, name: string, bytes: Buffer): Promise<string> {
    const path = join(input.workDir, name);
    await writeFile(path, bytes);
    return path;
  }

  private async file(input: RenderInput, name: string, bytes: Buffer): Promise<RenderResult & { files: Array<{ name: string; path: string }> }> {
    return { files: [{ name, path: await this.writeTo(input, name, bytes) }] };
  }
}

/** A clip's pieces as the node's files, clip-1.mp4, clip-2.mp4..., in play order. */
function pieceFiles(pieces: readonly ClipPiece[]): Array<{ name: string; path: string }> {
  return pieces.map((p, i) => ({ name: `clip-${i + 1}.mp4`, path: p.path }));
}

/** The frames of each piece, for the meta: "138 42". */
function pieceFrames(pieces: readonly ClipPiece[]): string {
  return pieces.map((p) => p.frames).join(" ");
}

/** The pieces a clip (or the title) recorded, with their files from the cache. */
function piecesOf(clip: DepOutput): ClipPiece[] {
  return String(clip.meta.pieces)
    .split(" ")
    .map((frames, i) => {
      const path = clip.files[`clip-${i + 1}.mp4`];
      if (!path || !(Number(frames) > 0)) throw new Error(`${clip.id} has no piece ${i + 1} of its clip`);
      return { path, frames: Number(frames) };
    });
}

/**
 * A scene's length and camera move, from its set duration, its motion description and its
 * narration's length: the clip and the crossfades on either side of it work it out alike, so
 * that a crossfade continues the clip's move frame for frame.
 */
function sceneTiming(move: SceneMove, narration: DepOutput): { frames: number; motion: Motion } {
  return { frames: sceneFrames(move.duration, Number(narration.meta.duration ?? 0)), motion: parseMotion(move.motion_description) };
}

/** The title card's camera move, as the title node recorded it. */
function titleMove(title: DepOutput): Omit<MoveAt, "start"> {
  const motion = String(title.meta.motion);
  if (!(MOTIONS as readonly string[]).includes(motion)) throw new Error(`${title.id} records no camera move; build it again`);
  return { still: title.files["title.png"]!, motion: motion as Motion, span: Number(title.meta.span) };
}
