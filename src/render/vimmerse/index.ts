import { writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { GraphNode } from "../../graph/nodes.js";
import type { RemoteRecord } from "../../lock/lockfile.js";
import type { ResolvedSettings } from "../../story/types.js";
import { RendererUnavailableError, type BuildContext, type Renderer, type RenderInput, type RenderResult } from "../types.js";
import { VimmerseApiError, VimmerseClient, type ApiStory } from "./client.js";
import { download } from "./download.js";
import { toApiStoryboard, type KnownUrls } from "./storyboard.js";
import { WebhookReceiver } from "./webhook.js";

/** Estimated credits of each kind of work (the API charges about 10 credits per scene-second of video). */
export const CREDITS = { element: 2, music: 5, sceneImage: 2, narration: 1, perVideoSecond: 10, concat: 1 } as const;

type StageName = "elements" | "scenes" | `videos@${number}` | "concat";

interface StageResult {
  story: ApiStory;
  /** The scene indexes a videos stage sent, in order. */
  scenes?: number[];
}

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
 * The cloud renderer. The API works on a whole story in stages (element
 * images and music; scene images and narration; scene videos; the final
 * cut), so nodes of one stage share one request. Work that is still fresh is
 * sent with its URL so that the API makes only what is missing; clips that
 * did not change are reused by URL in the final concatenation.
 */
export class VimmerseRenderer implements Renderer {
  readonly identity = { name: "vimmerse", version: "1" };
  readonly options = {};
  readonly paid = true;
  private ctx: BuildContext | null = null;
  private client: VimmerseClient | null = null;
  private storyId: string | null = null;
  private creating: Promise<string> | null = null;
  private readonly stages = new Map<StageName, Promise<StageResult>>();
  /** Stages that have finished in this build, for the URLs they made. */
  private readonly finished = new Map<StageName, StageResult>();
  private readonly listeners = new Map<StageName, Set<(f: number, m: string) => void>>();
  private readonly env: NodeJS.ProcessEnv;
  private webhook: WebhookReceiver | null = null;
  private readonly pollMs: number;
  private readonly pollMaxMs: number;

  constructor(private readonly config: VimmerseOptions = {}) {
    this.env = config.env ?? process.env;
    this.pollMs = config.pollMs ?? (Number(this.env.STORYC_VIMMERSE_POLL_MS) || 2000);
    this.pollMaxMs = config.pollMaxMs ?? Math.max(this.pollMs, 30_000);
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

  estimateCredits(node: GraphNode): number {
    switch (node.kind) {
      case "element":
        return (node.inputs.image as { url?: string } | null)?.url ? 0 : CREDITS.element;
      case "music":
        return (node.inputs.source as { url?: string } | null)?.url ? 0 : CREDITS.music;
      case "scene-image":
        return (node.inputs.image as { url?: string } | null)?.url ? 0 : CREDITS.sceneImage;
      case "scene-narration":
        return CREDITS.narration;
      case "scene-clip":
        return CREDITS.perVideoSecond * Number(node.inputs.duration ?? 5);
      case "video":
        return CREDITS.concat;
      case "title":
        return 0;
    }
  }

  async begin(context: BuildContext): Promise<void> {
    this.ctx = context;
    const records = [...Object.values(context.pending), ...Object.values(context.remote)];
    const known = records.find((r) => typeof r?.storyId === "string");
    this.storyId = (known?.storyId as string | undefined) ?? null;
  }

  async render(input: RenderInput): Promise<RenderResult> {
    // The cloud stages batch scenes by their place in the storyboard, which only the build context knows.
    const node = this.context().graph.byId.get(input.node.id)!;
    switch (node.kind) {
      case "title": {
        // The title card is part of the storyboard the other stages send; it costs nothing by itself.
        const path = join(input.workDir, "title.json");
        await writeFile(path, JSON.stringify(node.inputs, null, 2));
        return { files: [{ name: "title.json", path }] };
      }
      case "element":
      case "music": {
        const { story } = await this.stage("elements", input);
        const url = node.kind === "music" ? story.storyboard?.music?.music_url : findElementUrl(story, node);
        return this.fetch(input, url, node.kind === "music" ? "music" : "element", ".png");
      }
      case "scene-image":
      case "scene-narration": {
        const { story } = await this.stage("scenes", input);
        const scene = story.storyboard?.scenes?.[node.scene!];
        const url = node.kind === "scene-image" ? scene?.image_url : scene?.narration_url;
        return this.fetch(input, url ?? undefined, node.kind === "scene-image" ? "scene" : "narration", node.kind === "scene-image" ? ".png" : ".mp3");
      }
      case "scene-clip": {
        const result = await this.stage(`videos@${Number(node.inputs.duration)}`, input);
        const k = result.scenes!.indexOf(node.scene!);
        const url = videoUrlOf(result.story, k);
        const fetched = await this.fetch(input, url, "clip", ".mp4");
        return { ...fetched, meta: { seconds: Number(node.inputs.duration) } };
      }
      case "video": {
        const { story } = await this.stage("concat", input);
        return this.fetch(input, story.video_url, "video", ".mp4");
      }
    }
  }

  private context(): BuildContext {
    if (!this.ctx) throw new Error("the vimmerse renderer was not given the build context");
    return this.ctx;
  }

  private api(): VimmerseClient {
    if (!this.client) throw new Error("the vimmerse renderer was not prepared");
    return this.client;
  }

  private async fetch(input: RenderInput, url: string | null | undefined, base: string, fallbackExt: string): Promise<RenderResult> {
    if (!url) throw new VimmerseApiError("malformed", `the Story API finished without a URL for ${input.node.id}`, null, "try the build again; if it persists, report it");
    const ext = /^\.[a-z0-9]{2,4}$/i.test(extname(new URL(url).pathname)) ? extname(new URL(url).pathname).toLowerCase() : fallbackExt;
    const path = join(input.workDir, `${base}${ext}`);
    await download(url, path, { signal: input.signal });
    return { files: [{ name: `${base}${ext}`, path }], remote: { storyId: this.storyId!, url } };
  }

  /** Stale nodes of the plan that a stage makes. */
  private stageNodes(name: StageName): GraphNode[] {
    const { plan, graph } = this.context();
    const stale = plan.items.filter((i) => i.action === "create" || i.action === "update").map((i) => graph.byId.get(i.id)!);
    switch (name) {
      case "elements":
        return stale.filter((n) => n.kind === "element" || n.kind === "music");
      case "scenes":
        return stale.filter((n) => n.kind === "scene-image" || n.kind === "scene-narration");
      case "concat":
        return stale.filter((n) => n.kind === "video");
      default: {
        const duration = Number(name.split("@")[1]);
        return stale.filter((n) => n.kind === "scene-clip" && Number(n.inputs.duration) === duration);
      }
    }
  }

  private stage(name: StageName, input: RenderInput): Promise<StageResult> {
    let listeners = this.listeners.get(name);
    if (!listeners) this.listeners.set(name, (listeners = new Set()));
    listeners.add((f, m) => input.progress(f, m));
    let running = this.stages.get(name);
    if (!running) {
      running = this.runStage(name, input);
      this.stages.set(name, running);
    }
    return running;
  }

  /** What stages must finish before this one: later stages send the URLs earlier ones made. */
  private async predecessors(name: StageName, input: RenderInput): Promise<void> {
    const order: StageName[] = ["elements", "scenes"];
    const before: StageName[] = name === "elements" ? [] : name === "scenes" ? ["elements"] : name === "concat" ? [...order, ...this.videoStages()] : order;
    for (const stage of before) if (this.stageNodes(stage).length > 0) await this.stage(stage, input);
  }

  private videoStages(): StageName[] {
    const { plan, graph } = this.context();
    const durations = new Set(
      plan.items
        .filter((i) => i.action === "create" || i.action === "update")
        .map((i) => graph.byId.get(i.id)!)
        .filter((n) => n.kind === "scene-clip")
        .map((n) => Number(n.inputs.duration)),
    );
    return [...durations].sort((a, b) => a - b).map((d) => `videos@${d}` as StageName);
  }

  /** URLs of finished work: from the lockfile, and from stages that finished in this build. */
  private knownUrls(): KnownUrls {
    const { graph, remote } = this.context();
    const known: KnownUrls = { elements: new Map(), sceneImages: new Map(), narrations: new Map() };
    const urlOf = (id: string) => remote[id]?.url as string | undefined;
    const finished = this.finished;
    for (const node of graph.nodes) {
      const stale = this.stageNodes("elements").includes(node) || this.stageNodes("scenes").includes(node);
      const elementsStory = finished.get("elements")?.story;
      const scenesStory = finished.get("scenes")?.story;
      if (node.kind === "element") {
        const url = stale ? (elementsStory ? findElementUrl(elementsStory, node) : undefined) : urlOf(node.id);
        if (url) known.elements.set(node.id, url);
      } else if (node.kind === "music") {
        known.music = stale ? (elementsStory?.storyboard?.music?.music_url ?? undefined) : urlOf(node.id);
      } else if (node.kind === "scene-image") {
        const url = stale ? scenesStory?.storyboard?.scenes?.[node.scene!]?.image_url : urlOf(node.id);
        if (url) known.sceneImages.set(node.scene!, url);
      } else if (node.kind === "scene-narration") {
        const url = stale ? scenesStory?.storyboard?.scenes?.[node.scene!]?.narration_url : urlOf(node.id);
        if (url) known.narrations.set(node.scene!, url);
      }
    }
    return known;
  }

  private async runStage(name: StageName, input: RenderInput): Promise<StageResult> {
    await this.predecessors(name, input);
    const { story, settings, pending } = this.context();
    const nodes = this.stageNodes(name);
    const ids = nodes.map((n) => n.id);
    const storyId = await this.ensureStory(input, ids);
    const sceneIndexes = name.startsWith("videos@") ? [...new Set(nodes.map((n) => n.scene!))].sort((a, b) => a - b) : undefined;

    const submit = async (): Promise<void> => {
      const known = this.knownUrls();
      const board = JSON.stringify(toApiStoryboard(story, known, sceneIndexes));
      const api = this.api();
      if (name === "elements") await api.generateElements(storyId, { option: settings.image.model, aspect_ratio: settings.aspect_ratio, storyboard: board }, input.signal);
      else if (name === "scenes") await api.generateScenes(storyId, { option: settings.image.model, aspect_ratio: settings.aspect_ratio, storyboard: board, audio_option: audioOption(settings) }, input.signal);
      else if (name === "concat") {
        const clips = this.context().graph.nodes.filter((n) => n.kind === "scene-clip");
        const urls = await Promise.all(clips.map((c) => this.clipUrl(c, input)));
        await api.concat(storyId, { concat_video_urls: urls, ...(known.music ? { audio_urls: [known.music] } : {}) }, input.signal);
      } else {
        await api.generateVideos(
          storyId,
          {
            title: story.title ?? "",
            storyboard: board,
            is_transition: settings.transitions === "crossfade",
            motion_type: settings.motion.model,
            duration: Math.round(Number(name.split("@")[1])),
            loop: 1,
            ...(this.webhook ? { webhook_url: this.env.STORYC_WEBHOOK_URL ?? this.webhook.url } : {}),
          },
          input.signal,
        );
      }
    };

    // Never pay twice: a request recorded by an earlier build is polled, not sent again,
    // unless the story shows it never arrived.
    const earlier = ids.map((id) => pending[id]).find((p) => p?.stage === name && p.storyId === storyId);
    let submitted = earlier?.state === "submitted";
    if (earlier?.state === "requested") submitted = (await this.api().getStory(storyId, input.signal)).updated_at !== earlier.before;
    for (let attempt = 1; !submitted; attempt++) {
      const before = (await this.api().getStory(storyId, input.signal)).updated_at ?? "";
      const record: RemoteRecord = { storyId, stage: name, state: "requested", before };
      await input.recordPending(record, ids);
      try {
        await submit();
        submitted = true;
      } catch (error) {
        if (error instanceof VimmerseApiError && error.kind === "credit") {
          const needs = this.context().plan.credits;
          throw new VimmerseApiError("credit", `${error.message}; this build needs about ${needs} credits`, error.status, error.hint);
        }
        if (!(error instanceof VimmerseApiError) || error.kind !== "unavailable" || attempt >= 4) throw error;
        // The answer was lost: if the story moved, the request arrived and was paid for.
        const now = await this.api().getStory(storyId, input.signal);
        if (now.updated_at !== before) submitted = true;
        else await sleep(500 * 2 ** attempt, undefined, { signal: input.signal });
      }
    }
    await input.recordPending({ storyId, stage: name, state: "submitted" }, ids);
    const done = await this.waitFor(storyId, name, input.signal, Boolean(this.webhook) && name.startsWith("videos@"));
    const result: StageResult = { story: done, ...(sceneIndexes ? { scenes: sceneIndexes } : {}) };
    this.finished.set(name, result);
    return result;
  }

  /** A clip's URL: made in this build, or recorded by an earlier one. */
  private async clipUrl(clip: GraphNode<"scene-clip">, input: RenderInput): Promise<string> {
    const stale = this.stageNodes(`videos@${Number(clip.inputs.duration)}`).includes(clip);
    if (!stale) {
      const url = this.context().remote[clip.id]?.url;
      if (typeof url === "string") return url;
      throw new VimmerseApiError("malformed", `no remote URL is recorded for ${clip.id}`, null, `run storyc build --renderer vimmerse --force ${clip.id}`);
    }
    const result = await this.stage(`videos@${Number(clip.inputs.duration)}`, input);
    const url = videoUrlOf(result.story, result.scenes!.indexOf(clip.scene!));
    if (!url) throw new VimmerseApiError("malformed", `the Story API made no video for ${clip.label}`, null, "try the build again");
    return url;
  }

  private ensureStory(input: RenderInput, ids: string[]): Promise<string> {
    if (this.storyId) return Promise.resolve(this.storyId);
    this.creating ??= (async () => {
      const { story, settings } = this.context();
      await input.recordPending({ stage: "create", state: "requested" }, ids);
      const created = await this.api().createStory(
        {
          idea: story.idea ?? story.title ?? story.scenes?.[0]?.description ?? "story",
          ...(story.title ? { title: story.title } : {}),
          scene_count: story.scenes?.length ?? 3,
          language: languageName(settings.language),
          aspect_ratio: settings.aspect_ratio,
          audio_option: audioOption(settings),
          elements: JSON.stringify(toApiStoryboard(story, { elements: new Map(), sceneImages: new Map(), narrations: new Map() }, [])),
        },
        input.signal,
      );
      this.storyId = created.id;
      await input.recordPending({ storyId: created.id, stage: "create", state: "created" }, ids);
      return created.id;
    })();
    return this.creating;
  }

  /**
   * Polls the story until the stage is done: a quick first look, then longer
   * waits up to a cap. When the API was given a webhook for this stage, the
   * waits are long from the start: the webhook wakes the poller early.
   */
  private async waitFor(storyId: string, stage: StageName, signal: AbortSignal, hinted: boolean): Promise<ApiStory> {
    let delay = hinted ? this.pollMs : Math.min(this.pollMs, 500);
    for (;;) {
      const story = await this.api().getStory(storyId, signal);
      const pct = Number(story.progress_percentage ?? 0);
      for (const l of this.listeners.get(stage) ?? []) l(Math.max(0, Math.min(1, pct / 100)), `vimmerse ${stage}: ${story.status} ${pct}%`);
      if (story.status === "success") return story;
      if (story.status === "fail" || story.status === "failed") {
        throw new VimmerseApiError("invalid", `the Story API reports that ${stage} failed${story.message ? `: ${String(story.message)}` : ""}`, null, "check the story on Vimmerse, then build again");
      }
      await Promise.race([sleep(delay, undefined, { signal }), this.webhook?.next(storyId) ?? new Promise(() => undefined)]);
      delay = Math.min(this.pollMaxMs, Math.max(this.pollMs, Math.round(delay * 1.6)));
    }
  }
}

function findElementUrl(story: ApiStory, node: GraphNode<"element">): string | undefined {
  const kind = node.inputs.kind;
  const name = node.inputs.name.toLowerCase();
  return story.storyboard?.[kind]?.find((e) => e.name?.toLowerCase() === name)?.image_url ?? undefined;
}

function videoUrlOf(story: ApiStory, k: number): string | undefined {
  const fromScenes = (story.scenes?.[k] as { video_url?: string } | undefined)?.video_url;
  const fromBoard = story.storyboard?.scenes?.[k]?.video_url ?? undefined;
  const fromMedias = (story.medias?.[k] as { url?: string; video_url?: string } | undefined);
  return fromScenes ?? fromBoard ?? fromMedias?.video_url ?? fromMedias?.url;
}

function audioOption(settings: ResolvedSettings): string {
  return JSON.stringify({ has_bg_music: settings.background_music, has_narration: true, native_audio: false, narrator: settings.narrator });
}

const LANGUAGES: Record<string, string> = { ar: "Arabic", zh: "Chinese", en: "English", fr: "French", de: "German", hi: "Hindi", ja: "Japanese", ko: "Korean", es: "Spanish", tr: "Turkish" };

export function languageName(tag: string): string {
  return LANGUAGES[tag.split("-")[0]!.toLowerCase()] ?? "English";
}
