import { copyFile, readFile, writeFile } from "node:fs/promises";
import { extname, join, posix, sep } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { hashJson } from "../../graph/hash.js";
import { isLocalMedia, type MediaRef } from "../../graph/inputs.js";
import type { ImageSettings, NodeInputs } from "../../graph/inputs.js";
import type { GraphNode, NodeKind, ToolchainOf } from "../../graph/nodes.js";
import type { RemoteRecord } from "../../lock/lockfile.js";
import { RendererUnavailableError, type BatchInput, type BuildContext, type DepOutput, type Renderer, type RendererReview, type RenderInput, type RenderNode, type RenderResult } from "../types.js";
import { VimmerseApiError, VimmerseClient, type ApiScene, type ApiStory, type ApiStoryboard } from "./client.js";
import { frameSize } from "../local/layout.js";
import { failureReasons, findElementUrl, mapClips } from "./answers.js";
import { download } from "./download.js";
import { API_DEFAULT_LANGUAGE, languageName } from "./language.js";
import { joinCrossfade } from "./join.js";
import { JoinToolchain } from "./join-tools.js";
import { TransientError, withRetries } from "./retry.js";
import { WebhookReceiver } from "./webhook.js";

/** Estimated credits of each kind of work (the API charges about 10 credits per scene-second of video). */
export const CREDITS = { element: 2, music: 5, sceneImage: 2, narration: 1, perVideoSecond: 10, concat: 1 } as const;

/** The idea a remote story is created with: storyc sends the storyboard itself with each request. */
const STORY_IDEA = "A story built with storyc: its storyboard is sent with each request";

type Outcome = RenderResult | Error;

export interface VimmerseOptions {
  env?: NodeJS.ProcessEnv;
  /** Port of a webhook receiver on 127.0.0.1 (0: none). */
  webhookPort?: number;
  /** First wait between status checks, in ms. */
  pollMs?: number;
  /** Longest wait between status checks, in ms. */
  pollMaxMs?: number;
}

/**
 * How the story's local files (image_url, music_url) reach the API, which
 * takes only URLs for them: from a base URL where the story's folder is
 * published (STORYC_MEDIA_BASE_URL), or not at all, when the user lets the
 * API generate them instead (STORYC_VIMMERSE_LOCAL_MEDIA=generate).
 */
export interface LocalMediaPolicy {
  baseUrl?: string;
  generate: boolean;
}

/**
 * The cloud renderer. The API works on a story in stages (element images and
 * music; scene images and narration; scene videos; the final cut), so the
 * nodes of one stage are one batch, which the engine schedules like any
 * node: it starts a batch when its members' dependencies are done, and hands
 * the renderer their typed inputs and their dependencies' outputs, never the
 * story or the plan. A request carries only the batch's work, and the URLs
 * of what it needs (element images, unchanged narrations) from dependencies
 * and unchanged members, so the API makes only what is missing.
 */
export class VimmerseRenderer implements Renderer {
  readonly identity = { name: "vimmerse", version: "1" };
  /** Generating what a local file would have given changes outputs, so that choice is part of every key. */
  readonly options: Record<string, unknown>;
  readonly paid = true;
  private readonly localMedia: LocalMediaPolicy;
  /** Credits the API reported for each node made in this build. */
  private readonly spent = new Map<string, number>();
  /** Paid requests run one at a time per story: the API keeps one storyboard and one medias list. */
  private paidQueue: Promise<unknown> = Promise.resolve();
  private client: VimmerseClient | null = null;
  private storyId: string | null = null;
  private creating: Promise<string> | null = null;
  /**
   * The language the remote story makes narration in (the API's name for it):
   * known from what earlier builds recorded, or from this build's requests;
   * undefined when storyc cannot tell, and it is then set before narrations are asked for.
   */
  private storyLanguage: string | undefined;
  /** The story was created by this build: what the first request costs includes the creation. */
  private createdHere = false;
  private readonly env: NodeJS.ProcessEnv;
  private webhook: WebhookReceiver | null = null;
  private readonly pollMs: number;
  private readonly pollMaxMs: number;
  /** The ffmpeg that joins a crossfade story's clips here, found when a story first asks for it. */
  private joinTools: JoinToolchain;

  constructor(private readonly config: VimmerseOptions = {}) {
    this.env = config.env ?? process.env;
    this.pollMs = config.pollMs ?? (Number(this.env.STORYC_VIMMERSE_POLL_MS) || 2000);
    this.pollMaxMs = config.pollMaxMs ?? Math.max(this.pollMs, 30_000);
    const base = this.env.STORYC_MEDIA_BASE_URL?.trim();
    this.localMedia = { ...(base ? { baseUrl: base.endsWith("/") ? base : `${base}/` } : {}), generate: this.env.STORYC_VIMMERSE_LOCAL_MEDIA === "generate" };
    this.options = this.localMedia.generate && !this.localMedia.baseUrl ? { local_media: "generate" } : {};
    this.joinTools = new JoinToolchain(this.env);
  }

  /**
   * A crossfaded video is made here by ffmpeg, not by the API: its key names that
   * ffmpeg's build and the join's revision, like the local renderer's keys. Every
   * other node is made by the API and keeps its key, so no paid work is keyed anew,
   * and a cut story never looks for ffmpeg.
   */
  async toolchain(cacheDir: string): Promise<ToolchainOf> {
    this.joinTools = new JoinToolchain(this.env, cacheDir);
    return (kind, inputs) => (kind === "video" && crossfades(inputs as NodeInputs["video"]) ? this.joinTools.keyPart() : undefined);
  }

  /** The URL the API fetches a file the story names from, or undefined when the API must make it. */
  mediaUrl(value: string): string | undefined {
    if (/^https?:/i.test(value)) return value;
    if (!this.localMedia.baseUrl) return undefined;
    const rel = posix.normalize(value.split(sep).join("/")).replace(/^(\.\/)+/, "");
    return new URL(rel.split("/").map(encodeURIComponent).join("/"), this.localMedia.baseUrl).href;
  }

  /**
   * Says per local file how it reaches the API, and stops the build before any
   * paid call when the contract offers no way: the API takes element images,
   * scene images and music only as URLs.
   */
  review(nodes: ReadonlyArray<RenderNode>): RendererReview {
    const notes: Record<string, string[]> = {};
    const stranded = new Map<string, string[]>();
    const blocking: RendererReview["blocking"] = [];
    for (const node of nodes) {
      if (node.kind === "video") {
        const joining = this.joinReview(node.inputs);
        if ("note" in joining) (notes[node.id] ??= []).push(joining.note);
        else blocking.push(joining.blocking);
      }
      const ref = mediaOf(node);
      if (!ref) continue;
      const note = (line: string) => (notes[node.id] ??= []).push(line);
      if (!isLocalMedia(ref)) {
        note(`${ref.url} is sent to the API as its URL`);
        continue;
      }
      const url = this.mediaUrl(ref.file);
      if (url) note(`${ref.file} reaches the API as ${url} (STORYC_MEDIA_BASE_URL)`);
      else if (this.localMedia.generate) note(`${ref.file} cannot be sent to the API: it generates this instead (~${generationCredits(node)} credits)`);
      else stranded.set(ref.file, [...(stranded.get(ref.file) ?? []), node.id]);
    }
    blocking.push(...[...stranded].map(([file, ids]) => ({
      message: `${file} (${ids.join(", ")}) is a local file, and the Story API takes images and music only as URLs: it would be dropped and paid for again`,
      hint: `host it at a public URL and write that URL in the story, or publish the story's folder and set STORYC_MEDIA_BASE_URL to its URL, or set STORYC_VIMMERSE_LOCAL_MEDIA=generate to let the API generate it (~${ids.reduce((sum, id) => sum + generationCredits(nodes.find((n) => n.id === id)!), 0)} credits)`,
    })));
    return { notes, blocking };
  }

  /**
   * How the video will be joined, for the plan: the contract's /concat joins
   * with cuts only, so a crossfade is made here, and needs an ffmpeg that can.
   * AI transition videos (is_transition) are extra paid clips, not a crossfade:
   * none are asked for.
   */
  private joinReview(inputs: NodeInputs["video"]): { note: string } | { blocking: { message: string; hint: string } } {
    if (!crossfades(inputs)) return { note: `transitions: cut — the Story API's /concat joins the clips (~${CREDITS.concat} credit)` };
    const unusable = this.joinTools.unusable();
    if (unusable) {
      return {
        blocking: {
          message: `transitions: crossfade — the clips are joined here with ffmpeg, and ${unusable.message}`,
          hint: `${unusable.hint}; or write transitions: cut in the story's settings to let the Story API's /concat join them with cuts`,
        },
      };
    }
    const ffmpeg = this.joinTools.ffmpeg() as { version: string };
    return { note: `transitions: crossfade — the clips are joined here with ffmpeg ${ffmpeg.version}, crossfading; no /concat call, no concat credit` };
  }

  async prepare(): Promise<void> {
    const key = this.env.VIMMERSE_API_KEY;
    if (!key) throw new RendererUnavailableError("VIMMERSE_API_KEY is not set", "export VIMMERSE_API_KEY with the key of your Vimmerse account, or build with --renderer local");
    this.client ??= new VimmerseClient({ apiKey: key, ...(this.env.VIMMERSE_API_URL ? { baseUrl: this.env.VIMMERSE_API_URL } : {}) });
    if (this.config.webhookPort !== undefined && !this.webhook) {
      this.webhook = new WebhookReceiver();
      await this.webhook.listen(this.config.webhookPort);
    }
  }

  async dispose(): Promise<void> {
    await this.webhook?.close();
    this.webhook = null;
  }

  estimateCredits(node: GraphNode | RenderNode): number {
    switch (node.kind) {
      case "element":
        return this.sent(node.inputs.image) ? 0 : CREDITS.element;
      case "music":
        return this.sent(node.inputs.source) ? 0 : CREDITS.music;
      case "scene-image":
        return this.sent(node.inputs.image) ? 0 : CREDITS.sceneImage;
      case "scene-narration":
        return CREDITS.narration;
      case "scene-clip":
        return CREDITS.perVideoSecond * Number(node.inputs.duration ?? 5);
      case "video":
        return crossfades(node.inputs) ? 0 : CREDITS.concat;
      case "title":
      case "crossfade":
      case "sound":
        // The cloud's graph has no such nodes: its crossfades and sound are made with the video.
        return 0;
    }
  }

  /**
   * A scene clip is made from its image, narration and motion: `transitions` is how
   * clips are joined, never sent with a videos request, so it is fixed here and a
   * change of it does not pay for every clip again.
   */
  inputsFor<K extends NodeKind>(kind: K, inputs: NodeInputs[K]): NodeInputs[K] {
    if (kind !== "scene-clip") return inputs;
    const clip = inputs as NodeInputs["scene-clip"];
    // Fixed to the default, so the keys of most existing cloud stories (which use the default) stay as they were.
    return { ...clip, settings: { ...clip.settings, transitions: "crossfade" } } as NodeInputs[K];
  }

  /** Whether the API is given this file (and so makes nothing for it). */
  private sent(ref: MediaRef): boolean {
    if (!ref) return false;
    return isLocalMedia(ref) ? this.mediaUrl(ref.file) !== undefined : true;
  }

  /** The URL the API is given for a file an input names, if it can be given one. */
  private refUrl(ref: MediaRef): string | undefined {
    if (!ref) return undefined;
    return isLocalMedia(ref) ? this.mediaUrl(ref.file) : ref.url;
  }

  /** The only thing a cloud build reads before it starts: the remote story earlier builds worked on. */
  async begin(context: BuildContext): Promise<void> {
    const records = [...Object.values(context.pending), ...Object.values(context.remote)];
    const known = records.find((r) => typeof r?.storyId === "string");
    this.storyId = (known?.storyId as string | undefined) ?? null;
    // Narration records say which language the story had when they were made; a request
    // still pending is newer than any finished node.
    const languages = (from: Record<string, RemoteRecord | undefined>) =>
      new Set(Object.entries(from).flatMap(([id, r]) => (id.endsWith("/narration") && typeof r?.language === "string" ? [r.language] : [])));
    const pending = languages(context.pending);
    const said = pending.size ? pending : languages(context.remote);
    this.storyLanguage = said.size === 1 ? [...said][0] : undefined;
  }

  batchOf(node: RenderNode): string | undefined {
    switch (node.kind) {
      case "element":
      case "music":
        return "elements";
      case "scene-image":
      case "scene-narration":
        return "scenes";
      case "scene-clip":
        // One videos request has one duration: scenes of each duration are their own batch.
        return `videos@${Number(node.inputs.duration)}`;
      default:
        return undefined;
    }
  }

  async renderBatch(batch: BatchInput): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array(batch.inputs.length);
    const todo: number[] = [];
    for (const [i, input] of batch.inputs.entries()) {
      const answered = answeredUrl(input);
      if (answered) outcomes[i] = await this.fetchAs(input, answered).catch((e: Error) => e);
      else todo.push(i);
    }
    if (todo.length) {
      const inputs = todo.map((i) => batch.inputs[i]!);
      let made: Outcome[];
      try {
        await this.ensureStory(inputs);
        if (batch.key === "elements") made = await this.elements(inputs);
        else if (batch.key === "scenes") made = await this.scenes(inputs, batch.peers);
        else made = await this.videos(batch.key, inputs);
      } catch (error) {
        made = inputs.map(() => (error instanceof Error ? error : new Error(String(error))));
      }
      for (const [k, i] of todo.entries()) outcomes[i] = made[k]!;
    }
    return outcomes.map((o, i) => (o instanceof Error ? o : this.withCredits(batch.inputs[i]!.node.id, o)));
  }

  async render(input: RenderInput): Promise<RenderResult> {
    const node = input.node;
    if (node.kind === "title") {
      // The title card costs nothing by itself: the final cut's title is set on the story.
      const path = join(input.workDir, "title.json");
      await writeFile(path, JSON.stringify(node.inputs, null, 2));
      return { files: [{ name: "title.json", path }] };
    }
    if (node.kind === "video") return this.withCredits(node.id, await this.renderVideo(input as RenderInput<"video">));
    // Nodes that batch are rendered through renderBatch; alone, a node is a batch of one.
    const key = this.batchOf(node);
    if (key === undefined) throw new Error(`the vimmerse renderer cannot make ${node.kind} nodes`);
    const [outcome] = await this.renderBatch({ key, inputs: [input], peers: [] });
    if (outcome instanceof Error) throw outcome;
    return outcome!;
  }

  private withCredits(id: string, result: RenderResult): RenderResult {
    const credits = this.spent.get(id);
    return credits !== undefined && result.remote ? { ...result, remote: { ...result.remote, credits } } : result;
  }

  /** Element images and music: one /elements request with the batch's elements (URLs for those given). */
  private async elements(inputs: RenderInput[]): Promise<Outcome[]> {
    const board: ApiStoryboard = { characters: [], environments: [], objects: [], scenes: [] };
    let image: ImageSettings | undefined;
    for (const input of inputs) {
      if (input.node.kind === "element") {
        const e = input.node.inputs;
        image ??= e.settings;
        const url = this.refUrl(e.image);
        board[e.kind]!.push({ name: e.name, description: e.description, ...(url ? { image_url: url } : {}) });
      } else if (input.node.kind === "music") {
        const m = input.node.inputs;
        const url = this.refUrl(m.source);
        board.music = { description: m.description, lyrics: m.lyrics, ...(url ? { music_url: url } : {}) };
      }
    }
    const storyId = this.storyId!;
    const done = await this.request("elements", inputs, () =>
      this.api().generateElements(storyId, { ...imageFields(image), storyboard: JSON.stringify(board) }, inputs[0]!.signal),
    );
    const urls = inputs.map((input) =>
      input.node.kind === "element" ? findElementUrl(done, input.node) : (done.storyboard?.music?.music_url ?? (done.audio_urls as string[] | undefined)?.[0] ?? undefined),
    );
    return this.settle("elements", inputs, urls, done);
  }

  /**
   * Scene images and narrations: one /scenes request with the batch's scenes,
   * in the order they are sent. A scene's unchanged half is restated by URL
   * (from the batch's peers) so the API does not make it again; the elements a
   * scene names are sent with their images (from its dependencies).
   */
  private async scenes(inputs: RenderInput[], peers: DepOutput[]): Promise<Outcome[]> {
    const prefixOf = (id: string) => id.replace(/\/(image|narration)$/, "");
    const order: string[] = [];
    for (const input of inputs) if (!order.includes(prefixOf(input.node.id))) order.push(prefixOf(input.node.id));
    const board: ApiStoryboard = { characters: [], environments: [], objects: [], scenes: [] };
    const elements = new Set<string>();
    let image: ImageSettings | undefined;
    let voice: string | undefined;
    const missing: string[] = [];
    for (const prefix of order) {
      const img = inputs.find((i) => i.node.id === `${prefix}/image`) as RenderInput<"scene-image"> | undefined;
      const nar = inputs.find((i) => i.node.id === `${prefix}/narration`) as RenderInput<"scene-narration"> | undefined;
      const scene: ApiScene = { name: prefix.split("/").pop()! };
      if (img) {
        image ??= img.node.inputs.settings;
        scene.description = scene.image_description = img.node.inputs.description;
        const url = this.refUrl(img.node.inputs.image);
        if (url) scene.image_url = url;
        for (const dep of ([] as DepOutput[]).concat(img.deps.elements ?? [])) {
          if (elements.has(dep.id)) continue;
          elements.add(dep.id);
          const [, kind, ...name] = dep.id.split("/");
          const url = depUrl(dep);
          if (!url) missing.push(dep.id);
          board[kind as "characters"]?.push({ name: name.join("/"), description: String(dep.meta.description ?? ""), ...(url ? { image_url: url } : {}) });
        }
      } else {
        const peer = peers.find((p) => p.id === `${prefix}/image`);
        const url = peer && depUrl(peer);
        if (url) scene.image_url = url;
        else missing.push(`${prefix}/image`);
      }
      if (nar) {
        voice ??= nar.node.inputs.voice;
        scene.narrator = nar.node.inputs.text;
      } else {
        const peer = peers.find((p) => p.id === `${prefix}/narration`);
        const url = peer && depUrl(peer);
        if (url) scene.narration_url = url;
        else missing.push(`${prefix}/narration`);
        scene.narrator = "";
      }
      board.scenes!.push(scene);
    }
    if (missing.length) {
      // Without their URLs the API would make these again, and charge for them.
      const error = new VimmerseApiError("malformed", `no remote URL is recorded for ${missing.join(", ")}, which this /scenes request must restate`, null, `run storyc build --renderer vimmerse --force '${missing[0]}'`);
      return inputs.map(() => error);
    }
    const language = inputs.flatMap((i) => (i.node.kind === "scene-narration" ? [languageName(i.node.inputs.language)] : []))[0];
    if (language && language !== this.storyLanguage) await this.setLanguage(language, inputs);
    const storyId = this.storyId!;
    const done = await this.request("scenes", inputs, () =>
      this.api().generateScenes(
        storyId,
        { ...imageFields(image), storyboard: JSON.stringify(board), ...(voice ? { audio_option: JSON.stringify({ has_narration: true, native_audio: false, narrator: voice }) } : {}) },
        inputs[0]!.signal,
      ),
    );
    const answered = done.storyboard?.scenes ?? [];
    if (answered.length !== order.length) {
      const error = new VimmerseApiError("malformed", `the Story API answered /scenes with ${answered.length} scenes for the ${order.length} it was sent`, null, "build again; if it persists, report it");
      return inputs.map(() => error);
    }
    const urls = inputs.map((input) => {
      const scene = answered[order.indexOf(prefixOf(input.node.id))];
      return (input.node.kind === "scene-image" ? scene?.image_url : scene?.narration_url) ?? undefined;
    });
    return this.settle("scenes", inputs, urls, done);
  }

  /**
   * Scene videos of one duration. The answer names each clip by the scene image it
   * was made from, so scenes that share an image go in separate requests: every
   * clip is then found by identity, never by its place in a list.
   */
  private async videos(key: string, inputs: RenderInput[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array(inputs.length);
    const rounds: number[][] = [];
    const images = inputs.map((input) => depUrl(input.deps.image as DepOutput));
    for (const [i, input] of inputs.entries()) {
      if (!images[i]) {
        outcomes[i] = new VimmerseApiError("malformed", `no remote URL is known for the image of ${input.node.id}`, null, `run storyc build --renderer vimmerse --force '${input.node.id.replace(/clip$/, "image")}'`);
        continue;
      }
      const round = rounds.find((r) => r.every((j) => images[j] !== images[i]));
      if (round) round.push(i);
      else rounds.push([i]);
    }
    const storyId = this.storyId!;
    for (const [r, round] of rounds.entries()) {
      const clips = round.map((i) => inputs[i] as RenderInput<"scene-clip">);
      const board: ApiStoryboard = {
        characters: [],
        environments: [],
        objects: [],
        scenes: clips.map((c, k) => {
          const narration = depUrl(c.deps.narration as DepOutput);
          const motion = c.node.inputs.motion_description;
          return { name: c.node.id.split("/")[1], image_url: images[round[k]!]!, ...(narration ? { narration_url: narration } : {}), narrator: "", motion_description: motion, video_description: motion };
        }),
      };
      const settings = clips[0]!.node.inputs.settings;
      const stage = rounds.length > 1 ? `${key}#${r + 1}` : key;
      try {
        const done = await this.request(stage, clips, () =>
          this.api().generateVideos(
            storyId,
            {
              storyboard: JSON.stringify(board),
              // Never AI transition videos: `transitions` is how clips are joined, not extra paid clips.
              is_transition: false,
              motion_type: settings.model,
              duration: Math.round(Number(clips[0]!.node.inputs.duration)),
              loop: 1,
              ...(this.webhook ? { webhook_url: this.env.STORYC_WEBHOOK_URL ?? this.webhook.url } : {}),
            },
            clips[0]!.signal,
          ),
        );
        const mapped = mapClips(done, round.map((i) => images[i]!));
        const settled = await this.settle(stage, clips, mapped.map((m) => ("url" in m ? m.url : undefined)), done, mapped.map((m) => ("error" in m ? m.error : undefined)));
        for (const [k, i] of round.entries()) outcomes[i] = settled[k]!;
      } catch (error) {
        for (const i of round) outcomes[i] = error instanceof Error ? error : new Error(String(error));
      }
    }
    return outcomes;
  }

  /**
   * The final cut. When the clips and music it joins are the ones an earlier
   * /concat joined (only the title or a label changed, say), that video is
   * reused: the API would make the same cut and charge for it again.
   */
  private async renderVideo(input: RenderInput<"video">): Promise<RenderResult> {
    if (crossfades(input.node.inputs)) return this.joinHere(input);
    const clips = ([] as DepOutput[]).concat(input.deps.clips ?? []);
    const urls = clips.map((c) => depUrl(c));
    const lost = clips.filter((_, i) => !urls[i]).map((c) => c.id);
    if (lost.length) throw new VimmerseApiError("malformed", `no remote URL is recorded for ${lost.join(", ")}`, null, `run storyc build --renderer vimmerse --force '${lost[0]}'`);
    const music = input.deps.music ? depUrl(input.deps.music as DepOutput) : undefined;
    // Only scene clips, in play order: an AI transition never takes a scene's place.
    const joined = { concat_video_urls: urls as string[], ...(music ? { audio_urls: [music] } : {}) };
    const memoKey = `vimmerse-concat:${hashJson(joined)}`;
    const [video, record] = await Promise.all([input.memo.get(memoKey), input.memo.get(`${memoKey}:url`)]);
    if (video && record) {
      const { url, storyId } = JSON.parse(await readFile(record, "utf8")) as { url: string; storyId: string };
      const path = join(input.workDir, `video${extname(video) || ".mp4"}`);
      await copyFile(video, path);
      this.spent.set(input.node.id, 0);
      return { files: [{ name: `video${extname(path)}`, path }], meta: { url }, remote: { storyId, url, reused: true } };
    }
    const storyId = await this.ensureStory([input]);
    if (input.node.inputs.title) await this.api().updateStory(storyId, { title: input.node.inputs.title }, input.signal);
    const done = await this.request("concat", [input], () => this.api().concat(storyId, joined, input.signal));
    const fetched = await this.fetch(input, done.video_url, "video", ".mp4", done);
    const file = fetched.files[0]!;
    await copyFile(file.path, `${file.path}.memo`);
    await input.memo.put(memoKey, `${file.path}.memo`);
    await writeFile(`${file.path}.url.json`, JSON.stringify({ url: done.video_url, storyId }));
    await input.memo.put(`${memoKey}:url`, `${file.path}.url.json`);
    return fetched;
  }

  /**
   * A crossfade story's video, joined here from the clips and music the build
   * downloaded (sha256-checked in the cache): the API is not called, and
   * nothing is paid. The size follows the story's aspect ratio, whatever the
   * clips' own sizes.
   */
  private async joinHere(input: RenderInput<"video">): Promise<RenderResult> {
    const ffmpeg = this.joinTools.ffmpeg();
    if (ffmpeg instanceof Error) throw ffmpeg;
    const clips = ([] as DepOutput[]).concat(input.deps.clips ?? []);
    const music = input.deps.music as DepOutput | undefined;
    const fileOf = (dep: DepOutput) => {
      const file = Object.values(dep.files)[0];
      if (!file) throw new Error(`${dep.id} has no file to join`);
      return file;
    };
    const { width, height } = frameSize(input.node.inputs.settings.aspect_ratio, "standard");
    const joined = await joinCrossfade(
      ffmpeg.path,
      { clips: clips.map(fileOf), ...(music ? { music: fileOf(music) } : {}), width, height, encoder: `${ffmpeg.version}-${ffmpeg.build.slice(0, 16)}` },
      input.workDir,
      input.memo,
      { signal: input.signal, progress: (f) => input.progress(f, "joining the clips with crossfades") },
    );
    this.spent.set(input.node.id, 0);
    return { files: [{ name: "video.mp4", path: joined.file }], meta: { seconds: Number(joined.seconds.toFixed(3)), joined: "crossfade" } };
  }

  /**
   * Records each node's URL in the answer at once (a build stopped before it
   * downloads them fetches them next time instead of paying again), then
   * downloads each, or fails it with the API's reason.
   */
  private async settle(stage: string, inputs: RenderInput[], urls: Array<string | undefined>, done: ApiStory, errors: Array<Error | undefined> = []): Promise<Outcome[]> {
    for (const [i, input] of inputs.entries()) await input.recordPending({ storyId: this.storyId!, stage, state: "answered", ...(urls[i] ? { url: urls[i]! } : {}) });
    return Promise.all(inputs.map((input, i) => (errors[i] ? Promise.resolve(errors[i]!) : this.fetchAs(input, urls[i], done).catch((e: Error) => e))));
  }

  private fetchAs(input: RenderInput, url: string | undefined, story?: ApiStory): Promise<RenderResult> {
    const node = input.node;
    const [base, ext] = node.kind === "music" ? ["music", ".mp3"] : node.kind === "element" ? ["element", ".png"] : node.kind === "scene-image" ? ["scene", ".png"] : node.kind === "scene-narration" ? ["narration", ".mp3"] : ["clip", ".mp4"];
    return this.fetch(input, url, base, ext, story).then((fetched) => {
      const meta: Record<string, string | number | boolean> = { ...fetched.meta };
      if (node.kind === "scene-clip") meta.seconds = Number(node.inputs.duration);
      // What a later request restates about an element: its description, beside its image's URL.
      if (node.kind === "element") meta.description = node.inputs.description;
      // The story's language when this narration was made: how a later build knows whether to set it again.
      const remote = node.kind === "scene-narration" && this.storyLanguage && fetched.remote ? { ...fetched.remote, language: this.storyLanguage } : fetched.remote;
      return { ...fetched, meta, ...(remote ? { remote } : {}) };
    });
  }

  private api(): VimmerseClient {
    if (!this.client) throw new Error("the vimmerse renderer was not prepared");
    return this.client;
  }

  private async fetch(input: RenderInput, url: string | null | undefined, base: string, fallbackExt: string, story?: ApiStory): Promise<RenderResult> {
    if (!url) {
      const reasons = failureReasons(story);
      throw new VimmerseApiError(
        reasons ? "invalid" : "malformed",
        `the Story API finished without a URL for ${input.node.id}${reasons ? `: it reports ${reasons}` : ""}`,
        null,
        reasons ? "fix what the API reports, or build again to retry this node" : "build again to retry this node; if it persists, report it",
      );
    }
    const ext = /^\.[a-z0-9]{2,4}$/i.test(extname(new URL(url).pathname)) ? extname(new URL(url).pathname).toLowerCase() : fallbackExt;
    const path = join(input.workDir, `${base}${ext}`);
    await download(url, path, { signal: input.signal });
    // The URL is an output: a node restored from the cache still tells later requests where it is.
    return { files: [{ name: `${base}${ext}`, path }], meta: { url }, remote: { storyId: this.storyId!, url } };
  }

  /**
   * One paid request and the wait for its work, one at a time per story: the API
   * keeps one storyboard and one medias list per story, so a second request in
   * flight would replace the first. Never pays twice: a request recorded by an
   * earlier build is polled, not sent again, unless the story shows it never arrived.
   */
  private request(stage: string, inputs: RenderInput[], submit: () => Promise<unknown>): Promise<ApiStory> {
    const run = async (): Promise<ApiStory> => {
      const storyId = this.storyId!;
      const ids = inputs.map((i) => i.node.id);
      const signal = inputs[0]!.signal;
      // What a resumed build needs to know of the story besides the request: its language, once narration is asked for.
      const language: RemoteRecord = stage === "scenes" && this.storyLanguage ? { language: this.storyLanguage } : {};
      const record = (remote: RemoteRecord) => inputs[0]!.recordPending({ ...remote, ...language }, ids);
      const api = this.api();
      const earlier = inputs.map((i) => i.pending).find((p) => p?.stage === stage && p.storyId === storyId);
      let submitted = earlier?.state === "submitted";
      let creditsBefore = typeof earlier?.creditsBefore === "number" ? earlier.creditsBefore : undefined;
      if (earlier?.state === "requested") submitted = (await api.getStory(storyId, signal)).updated_at !== earlier.before;
      if (!submitted) {
        try {
          await withRetries(
            async () => {
              const current = await api.getStory(storyId, signal);
              const before = current.updated_at ?? "";
              creditsBefore = this.createdHere ? 0 : Number(current.used_credits ?? 0);
              await record({ storyId, stage, state: "requested", before, creditsBefore });
              try {
                await submit();
              } catch (error) {
                if (error instanceof VimmerseApiError && error.kind === "credit") {
                  const needs = inputs.reduce((sum, i) => sum + this.estimateCredits(i.node), 0);
                  throw new VimmerseApiError("credit", `${error.message}; this request needs about ${needs} credits`, error.status, error.hint);
                }
                if (!(error instanceof VimmerseApiError) || error.kind !== "unavailable") throw error;
                // The answer was lost: if the story moved, the request arrived and was paid for.
                if ((await api.getStory(storyId, signal)).updated_at !== before) return;
                throw new TransientError(error.message);
              }
            },
            { attempts: 4, backoffMs: 1000, signal },
          );
        } catch (error) {
          if (error instanceof TransientError) throw new VimmerseApiError("unavailable", error.reason, null, "the Story API is unavailable; build again later: nothing was paid twice");
          throw error;
        }
      }
      await record({ storyId, stage, state: "submitted", ...(creditsBefore !== undefined ? { creditsBefore } : {}) });
      this.createdHere = false;
      const done = await this.waitFor(storyId, stage, inputs, Boolean(this.webhook) && stage.startsWith("videos@"));
      if (typeof done.used_credits === "number" && creditsBefore !== undefined) this.attribute(inputs.map((i) => i.node), done.used_credits - creditsBefore);
      return done;
    };
    return this.oneAtATime(run);
  }

  /** Runs requests on the story one after another: the API keeps one storyboard and one medias list per story. */
  private oneAtATime<T>(run: () => Promise<T>): Promise<T> {
    const next = this.paidQueue.then(run, run);
    this.paidQueue = next.catch(() => undefined);
    return next;
  }

  /**
   * Narration is made in the story's language, which only POST /story sets
   * (given the story_id, it "updates the existing storyboard instead of
   * creating a new one"). The language is part of every narration's key, so it
   * is sent before narrations in another language are asked for. Saying it twice
   * is harmless, so it needs no journal: a build stopped here says it again.
   */
  private setLanguage(language: string, inputs: RenderInput[]): Promise<void> {
    return this.oneAtATime(async () => {
      const storyId = this.storyId!;
      const signal = inputs[0]!.signal;
      const before = Number((await this.api().getStory(storyId, signal)).used_credits ?? 0);
      const done = await this.api().createStory({ story_id: storyId, idea: STORY_IDEA, scene_count: 1, language }, signal);
      this.storyLanguage = language;
      if (typeof done.used_credits === "number") this.attribute(inputs.filter((i) => i.node.kind === "scene-narration").map((i) => i.node), done.used_credits - before);
    });
  }

  /** Splits what one request cost over its nodes, in proportion to their estimates, so that the shares add up. */
  private attribute(nodes: RenderNode[], credits: number): void {
    const weights = nodes.map((n) => this.estimateCredits(n) || 1);
    const total = weights.reduce((a, b) => a + b, 0);
    let left = Math.max(0, credits);
    nodes.forEach((n, i) => {
      const share = i === nodes.length - 1 ? left : Math.floor((Math.max(0, credits) * weights[i]!) / total);
      left -= share;
      // A node can take part in two requests (the language, then its narration): its shares add up.
      this.spent.set(n.id, (this.spent.get(n.id) ?? 0) + share);
    });
  }

  /**
   * The remote story, created on first need. Its storyboard is replaced by
   * every request, so it is created from what the first batch knows: the
   * aspect ratio and language its inputs carry.
   */
  private ensureStory(inputs: RenderInput[]): Promise<string> {
    if (this.storyId) return Promise.resolve(this.storyId);
    this.creating ??= (async () => {
      const ids = inputs.map((i) => i.node.id);
      const aspect = inputs.map((i) => (i.node.inputs as { settings?: { aspect_ratio?: string }; aspect_ratio?: string }).settings?.aspect_ratio ?? (i.node.inputs as { aspect_ratio?: string }).aspect_ratio).find(Boolean);
      const language = inputs.map((i) => (i.node.kind === "scene-narration" ? i.node.inputs.language : undefined)).find(Boolean);
      await inputs[0]!.recordPending({ stage: "create", state: "requested" }, ids);
      const created = await this.api().createStory(
        { idea: STORY_IDEA, scene_count: 1, ...(aspect ? { aspect_ratio: aspect } : {}), ...(language ? { language: languageName(language) } : {}) },
        inputs[0]!.signal,
      );
      this.storyId = created.id;
      this.storyLanguage = language ? languageName(language) : API_DEFAULT_LANGUAGE;
      this.createdHere = true;
      await inputs[0]!.recordPending({ storyId: created.id, stage: "create", state: "created" }, ids);
      return created.id;
    })();
    return this.creating;
  }

  /**
   * Polls the story until the request is done: a quick first look, then longer
   * waits up to a cap. When the API was given a webhook for this request, the
   * waits are long from the start: the webhook wakes the poller early.
   */
  private async waitFor(storyId: string, stage: string, inputs: RenderInput[], hinted: boolean): Promise<ApiStory> {
    const signal = inputs[0]!.signal;
    let delay = hinted ? this.pollMs : Math.min(this.pollMs, 500);
    for (;;) {
      const story = await this.api().getStory(storyId, signal);
      const pct = Number(story.progress_percentage ?? 0);
      for (const input of inputs) input.progress(Math.max(0, Math.min(1, pct / 100)), `vimmerse ${stage}: ${story.status} ${pct}%`);
      if (story.status === "success") return story;
      if (story.status === "fail" || story.status === "failed") {
        throw new VimmerseApiError("invalid", `the Story API reports that ${stage} failed${story.message ? `: ${String(story.message)}` : ""}`, null, "check the story on Vimmerse, then build again");
      }
      await Promise.race([sleep(delay, undefined, { signal }), this.webhook?.next(storyId) ?? new Promise(() => undefined)]);
      delay = Math.min(this.pollMaxMs, Math.max(this.pollMs, Math.round(delay * 1.6)));
    }
  }
}

/** Whether the video is joined with crossfades (here) rather than cuts (by /concat). */
function crossfades(inputs: NodeInputs["video"]): boolean {
  return inputs.settings.transitions === "crossfade";
}

/** Where a dependency's remote copy is: in its outputs' meta, or in the lockfile's record of it. */
function depUrl(dep: DepOutput | undefined): string | undefined {
  const url = dep?.meta.url ?? dep?.remote?.url;
  return typeof url === "string" && url ? url : undefined;
}

/** The URL an earlier build was answered with for this node and did not download: fetched, never paid again. */
function answeredUrl(input: RenderInput): string | undefined {
  const p = input.pending;
  return p?.state === "answered" && typeof p.url === "string" ? p.url : undefined;
}

function imageFields(image: ImageSettings | undefined): { option?: string; aspect_ratio?: string; seed?: number } {
  if (!image) return {};
  // The seed is part of these nodes' keys, so it is sent (the documents' examples send `seed`).
  return { option: image.model, aspect_ratio: image.aspect_ratio, ...(image.seed !== null ? { seed: image.seed } : {}) };
}

function generationCredits(node: RenderNode): number {
  return node.kind === "music" ? CREDITS.music : node.kind === "element" ? CREDITS.element : CREDITS.sceneImage;
}

/** The local or remote file a node's inputs name, if any. */
function mediaOf(node: RenderNode): MediaRef {
  if (node.kind === "element" || node.kind === "scene-image") return node.inputs.image;
  if (node.kind === "music") return node.inputs.source;
  return null;
}
