import { copyFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { GraphNode } from "../../graph/nodes.js";
import { packageVersion } from "../../paths.js";
import type { DepOutput, Renderer, RenderInput, RenderResult } from "../types.js";
import { RendererUnavailableError } from "../types.js";
import { encodeClip } from "./clip.js";
import { composeVideo } from "./compose.js";
import { locateFfmpeg, runFfmpeg, type FfmpegLocation } from "./ffmpeg.js";
import { FPS, frameSize, sceneFrames, TITLE_FRAMES, TRANSITION_FRAMES, type Quality } from "./layout.js";
import { parseMotion } from "./motion.js";
import { MUSIC_RATE, synthesizeMusic } from "./music.js";
import { espeakVoice, speak } from "./speech.js";
import { elementCard, sceneImage, titleCard } from "./stills.js";
import { durationOf, encodeWav } from "./wav.js";

type MediaInput = { file: string; sha256: string } | { url: string } | null;

export const QUALITIES: readonly Quality[] = ["standard", "high"];

/**
 * The embedded renderer: an animatic made offline from the story's text, with
 * stills drawn by sharp, narration by eSpeak NG (WebAssembly), generated music
 * and ffmpeg for motion and the final cut.
 */
export class LocalRenderer implements Renderer {
  // Bump the revision whenever a change alters what the renderer draws: it is part of every key.
  readonly identity = { name: "local", version: `${packageVersion()}+r7` };
  readonly paid = false;
  readonly options: { quality: Quality };
  private ffmpeg: FfmpegLocation | null = null;

  constructor(
    options: { quality?: string } = {},
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    const quality = (options.quality ?? "standard") as Quality;
    if (!QUALITIES.includes(quality)) throw new RendererUnavailableError(`unknown quality "${options.quality}"`, `use --quality ${QUALITIES.join(" or ")}`);
    this.options = { quality };
  }

  async prepare(): Promise<void> {
    this.ffmpeg ??= locateFfmpeg(this.env);
  }

  estimateCredits(): number {
    return 0;
  }

  private ffmpegPath(): string {
    this.ffmpeg ??= locateFfmpeg(this.env);
    return this.ffmpeg.path;
  }

  async render(input: RenderInput): Promise<RenderResult> {
    switch (input.node.kind) {
      case "element":
        return this.element(input);
      case "music":
        return this.music(input);
      case "title":
        return this.title(input);
      case "scene-image":
        return this.sceneImage(input);
      case "scene-narration":
        return this.narration(input);
      case "scene-clip":
        return this.clip(input);
      case "video":
        return this.video(input);
    }
  }

  private size(input: RenderInput) {
    return frameSize(input.settings.aspect_ratio, this.options.quality);
  }

  private localFile(input: RenderInput, media: unknown): string | undefined {
    const m = media as MediaInput;
    return m && "file" in m ? resolve(dirname(input.storyFile), m.file) : undefined;
  }

  private async element(input: RenderInput): Promise<RenderResult> {
    const i = input.node.inputs as { kind: string; name: string; description: string; image: MediaInput };
    const imageFile = this.localFile(input, i.image);
    const png = await elementCard({
      kind: i.kind,
      name: i.name,
      description: i.description,
      ...(imageFile ? { imageFile } : {}),
      ...(i.image && "url" in i.image ? { remoteUrl: i.image.url } : {}),
    });
    return this.file(input, "element.png", png);
  }

  private async music(input: RenderInput): Promise<RenderResult> {
    const i = input.node.inputs as { description: string; source: MediaInput };
    const out = join(input.workDir, "music.wav");
    const file = this.localFile(input, i.source);
    if (file) {
      await runFfmpeg(this.ffmpegPath(), ["-i", file, "-vn", "-ac", "1", "-ar", String(MUSIC_RATE), "-t", "600", "-c:a", "pcm_s16le", out], { signal: input.signal });
      return { files: [{ name: "music.wav", path: out }], meta: { source: "file" } };
    }
    await writeFile(out, encodeWav(synthesizeMusic(i.description)));
    return { files: [{ name: "music.wav", path: out }], meta: { source: i.source && "url" in i.source ? "generated (remote music is not fetched offline)" : "generated" } };
  }

  private transition(input: RenderInput): number {
    return input.settings.transitions === "crossfade" ? TRANSITION_FRAMES : 0;
  }

  private async title(input: RenderInput): Promise<RenderResult> {
    const i = input.node.inputs as { title: string; description: string };
    const { width, height } = this.size(input);
    const still = join(input.workDir, "title.png");
    await writeFile(still, await titleCard({ width, height, title: i.title, description: i.description }));
    const clip = await encodeClip(this.ffmpegPath(), { still, width, height, motion: "zoom-in", frames: TITLE_FRAMES, transition: this.transition(input), head: false }, input.workDir, { signal: input.signal });
    return {
      files: [{ name: "title.png", path: still }, { name: "title-body.mp4", path: clip.body }, ...(clip.tail ? [{ name: "title-tail.mp4", path: clip.tail }] : [])],
      meta: { frames: TITLE_FRAMES },
    };
  }

  private async sceneImage(input: RenderInput): Promise<RenderResult> {
    const i = input.node.inputs as { description: string; image: MediaInput };
    const { width, height } = this.size(input);
    const elements = (input.deps.elements as DepOutput[] | undefined) ?? [];
    const insets = elements.filter((e) => !e.id.startsWith("element/environments/")).map((e) => e.files["element.png"]!);
    const environments = elements
      .filter((e) => e.id.startsWith("element/environments/"))
      .map((e) => input.story.environments?.find((env) => `element/environments/${env.name}` === e.id)?.description ?? "");
    const imageFile = this.localFile(input, i.image);
    const png = await sceneImage({
      width,
      height,
      label: sceneLabel(input.node),
      description: i.description,
      groundText: environments.join(" ") || i.description,
      insets,
      ...(imageFile ? { imageFile } : {}),
    });
    return this.file(input, "scene.png", png);
  }

  private async narration(input: RenderInput): Promise<RenderResult> {
    const i = input.node.inputs as { text: string; voice: string; language: string };
    const pcm = await speak(i.text, espeakVoice(i.voice, i.language), input.signal);
    const result = await this.file(input, "narration.wav", encodeWav(pcm));
    return { ...result, meta: { duration: Number(durationOf(pcm).toFixed(3)) } };
  }

  private async clip(input: RenderInput): Promise<RenderResult> {
    const i = input.node.inputs as { motion_description: string; duration: number };
    const { width, height } = this.size(input);
    const image = input.deps.image as DepOutput;
    const narration = input.deps.narration as DepOutput;
    const frames = sceneFrames(i.duration, Number(narration.meta.duration ?? 0));
    const still = join(input.workDir, "still.png");
    await copyFile(image.files["scene.png"]!, still);
    const clip = await encodeClip(
      this.ffmpegPath(),
      { still, width, height, motion: parseMotion(i.motion_description), frames, transition: this.transition(input) },
      input.workDir,
      { signal: input.signal, onProgress: (f) => input.progress(f) },
    );
    const files = [{ name: "still.png", path: still }, { name: "clip-body.mp4", path: clip.body }];
    if (clip.head) files.push({ name: "clip-head.mp4", path: clip.head });
    if (clip.tail) files.push({ name: "clip-tail.mp4", path: clip.tail });
    return { files, meta: { frames, seconds: frames / FPS } };
  }

  private async video(input: RenderInput): Promise<RenderResult> {
    const { width, height } = this.size(input);
    const clips = input.deps.clips as DepOutput[];
    const narrations = input.deps.narrations as DepOutput[];
    const title = input.deps.title as DepOutput | undefined;
    const music = input.deps.music as DepOutput | undefined;
    const scenes = input.story.scenes ?? [];
    const files = await composeVideo(
      this.ffmpegPath(),
      {
        width,
        height,
        transition: this.transition(input),
        ...(title
          ? { title: { frames: Number(title.meta.frames), body: title.files["title-body.mp4"]!, still: title.files["title.png"]!, ...(title.files["title-tail.mp4"] ? { tail: title.files["title-tail.mp4"] } : {}) } }
          : {}),
        ...(music ? { music: music.files["music.wav"]! } : {}),
        scenes: clips.map((c, n) => ({
          label: scenes[n]?.id ?? scenes[n]?.title ?? `scene ${n + 1}`,
          frames: Number(c.meta.frames),
          body: c.files["clip-body.mp4"]!,
          still: c.files["still.png"]!,
          narration: narrations[n]!.files["narration.wav"]!,
          narrationText: scenes[n]?.narrator ?? "",
          ...(c.files["clip-head.mp4"] ? { head: c.files["clip-head.mp4"] } : {}),
          ...(c.files["clip-tail.mp4"] ? { tail: c.files["clip-tail.mp4"] } : {}),
        })),
      },
      input.workDir,
      input.memo,
      input.signal,
      (f) => input.progress(f),
    );
    return { files };
  }

  private async file(input: RenderInput, name: string, bytes: Buffer): Promise<RenderResult> {
    const path = join(input.workDir, name);
    await writeFile(path, bytes);
    return { files: [{ name, path }] };
  }
}

function sceneLabel(node: GraphNode): string {
  const n = (node.scene ?? 0) + 1;
  const id = node.id.split("/")[1];
  return id && id !== String(n) ? `Scene ${n} · ${id}` : `Scene ${n}`;
}
