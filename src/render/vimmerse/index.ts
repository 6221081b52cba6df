import { copyFile, readFile, writeFile } from "node:fs/promises";
import { extname, join, posix, sep } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { hashJson } from "../../graph/hash.js";
import { isLocalMedia, type MediaRef } from "../../graph/inputs.js";
import type { GraphNode } from "../../graph/nodes.js";
import type { RemoteRecord } from "../../lock/lockfile.js";
import type { ResolvedSettings } from "../../story/types.js";
import { RendererUnavailableError, type BuildContext, type Renderer, type RendererReview, type RenderInput, type RenderNode, type RenderResult } from "../types.js";
import { VimmerseApiError, VimmerseClient, type ApiStory } from "./client.js";
import { download } from "./download.js";
import { TransientError, withRetries } from "./retry.js";
import { toApiStoryboard, type KnownUrls } from "./storyboard.js";
import { WebhookReceiver } from "./webhook.js";

/** Estimated credits of each kind of work (the API charges about 10 credits per scene-second of video). */
export const CREDITS = { element: 2, music: 5, sceneImage: 2, narration: 1, perVideoSecond: 10, concat: 1 } as const;

type StageName = "elements" | "scenes" | `videos@${number}` | "concat";

/** A scene's clip as the answer to a videos request names it, or why it has none. */
type ClipOutcome = { url: string } | { error: VimmerseApiError };

interface StageResult {
  story: ApiStory;
  /** For a videos stage: each scene's clip, by scene index, mapped by the scene image it was made from. */
  clips?: Map<number, ClipOutcome>;
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
 * The cloud renderer. The API works on a whole story in stages (element
 * images and music; scene images and narration; scene videos; the final
 * cut), so nodes of one stage share one request. Work that is still fresh is
 * sent with its URL so that the API makes only what is missing; clips that
 * did not change are reused by URL in the final concatenation.
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
  /** Nodes rendered in this build, for what a 402 says the rest of the work needs. */
  private readonly made = new Set<string>();
  private ctx: BuildContext | null = null;
  private client: VimmerseClient | null = null;
  private storyId: string | null = null;
  private creating: Promise<string> | null = null;
  /** The story was created by this build: what the first request costs includes the creation. */
  private createdHere = false;
  private readonly stages = new Map<StageName, Promise<StageResult>>();
  /** Stages that have finished in this build, for the URLs they made. */
  private readonly finished = new Map<StageName, StageResult>();
  private readonly listeners = new Map<string, Set<(f: number, m: string) => void>>();
  private readonly env: NodeJS.ProcessEnv;
  private webhook: WebhookReceiver | null = null;
  private readonly pollMs: number;
  private readonly pollMaxMs: number;

  constructor(private readonly config: VimmerseOptions = {}) {
    this.env = config.env ?? process.env;
    this.pollMs = config.pollMs ?? (Number(this.env.STORYC_VIMMERSE_POLL_MS) || 2000);
    this.pollMaxMs = config.pollMaxMs ?? Math.max(this.pollMs, 30_000);
    const base = this.env.STORYC_MEDIA_BASE_URL?.trim();
    this.localMedia = { ...(base ? { baseUrl: base.endsWith("/") ? base : `${base}/` } : {}), generate: this.env.STORYC_VIMMERSE_LOCAL_MEDIA === "generate" };
    this.options = this.localMedia.generate && !this.localMedia.baseUrl ? { local_media: "generate" } : {};
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
    for (const node of nodes) {
      const ref = mediaOf(node);
      if (!ref) continue;
      const note = (line: string) => (notes[node.id] ??= []).push(line);
      if (!isLocalMedia(ref)) {
        note(`${ref.url} is sent to the API as its URL`);
        continue;
      }
      const url = this.mediaUrl(ref.file);
      if (url) note(`${ref.file} reaches the API as ${url} (STORYC_MEDIA_BASE_URL)`);
      else if (this.localMedia.generate) note(`${ref.file} cannot be sent to the API: it generates this instead (~${this.generationCredits(node)} credits)`);
      else stranded.set(ref.file, [...(stranded.get(ref.file) ?? []), node.id]);
    }
    const blocking = [...stranded].map(([file, ids]) => ({
      message: `${file} (${ids.join(", ")}) is a local file, and the Story API takes images and music only as URLs: it would be dropped and paid for again`,
      hint: `host it at a public URL and write that URL in the story, or publish the story's folder and set STORYC_MEDIA_BASE_URL to its URL, or set STORYC_VIMMERSE_LOCAL_MEDIA=generate to let the API generate it (~${ids.reduce((sum, id) => sum + this.generationCredits(nodes.find((n) => n.id === id)!), 0)} credits)`,
    }));
    return { notes, blocking };
  }

  private generationCredits(node: RenderNode): number {
    return node.kind === "music" ? CREDITS.music : node.kind === "element" ? CREDITS.element : CREDITS.sceneImage;
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
        return CREDITS.concat;
      case "title":
        return 0;
    }
  }

  /** Whether the API is given this file (and so makes nothing for it). */
  private sent(ref: MediaRef): boolean {
    if (!ref) return false;
    return isLocalMedia(ref) ? this.mediaUrl(ref.file) !== undefined : true;
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
    const result = await this.renderNode(node, input);
    this.made.add(node.id);
    const credits = this.spent.get(node.id);
    return credits !== undefined && result.remote ? { ...result, remote: { ...result.remote, credits } } : result;
  }

  private async renderNode(node: GraphNode, input: RenderInput): Promise<RenderResult> {
    const answered = node.kind === "video" || node.kind === "title" ? undefined : this.answered(node.id);
    if (answered) {
      const [base, ext] = node.kind === "music" ? ["music", ".mp3"] : node.kind === "element" ? ["element", ".png"] : node.kind === "scene-image" ? ["scene", ".png"] : node.kind === "scene-narration" ? ["narration", ".mp3"] : ["clip", ".mp4"];
      const fetched = await this.fetch(input, answered, base, ext);
      return node.kind === "scene-clip" ? { ...fetched, meta: { seconds: Number(node.inputs.duration) } } : fetched;
    }
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
        return this.fetch(input, url ?? undefined, node.kind === "music" ? "music" : "element", node.kind === "music" ? ".mp3" : ".png", story);
      }
      case "scene-image":
      case "scene-narration": {
        const { story } = await this.stage("scenes", input);
        const scene = story.storyboard?.scenes?.[node.scene!];
        const url = node.kind === "scene-image" ? scene?.image_url : scene?.narration_url;
        return this.fetch(input, url ?? undefined, node.kind === "scene-image" ? "scene" : "narration", node.kind === "scene-image" ? ".png" : ".mp3", story);
      }
      case "scene-clip": {
        const result = await this.stage(`videos@${Number(node.inputs.duration)}`, input);
        const outcome = result.clips?.get(node.scene!);
        if (!outcome) throw new VimmerseApiError("malformed", `no videos request carried ${node.label}`, null, "this is a storyc bug; please report it");
        if ("error" in outcome) throw outcome.error;
        const fetched = await this.fetch(input, outcome.url, "clip", ".mp4");
        return { ...fetched, meta: { seconds: Number(node.inputs.duration) } };
      }
      case "video":
        return this.renderVideo(input);
    }
  }

  /**
   * The final cut. When the clips and music it joins are the ones an earlier
   * /concat joined (only the title or a label changed, say), that video is
   * reused: the API would make the same cut and charge for it again.
   */
  private async renderVideo(input: RenderInput): Promise<RenderResult> {
    const joined = await this.concatFields(input);
    const memoKey = `vimmerse-concat:${hashJson(joined)}`;
    const [video, record] = await Promise.all([input.memo.get(memoKey), input.memo.get(`${memoKey}:url`)]);
    if (video && record) {
      const { url, storyId } = JSON.parse(await readFile(record, "utf8")) as { url: string; storyId: string };
      const path = join(input.workDir, `video${extname(video) || ".mp4"}`);
      await copyFile(video, path);
      this.spent.set(input.node.id, 0);
      return { files: [{ name: `video${extname(path)}`, path }], remote: { storyId, url, reused: true } };
    }
    const { story } = await this.stage("concat", input);
    const fetched = await this.fetch(input, story.video_url, "video", ".mp4", story);
    const file = fetched.files[0]!;
    await copyFile(file.path, `${file.path}.memo`);
    await input.memo.put(memoKey, `${file.path}.memo`);
    await writeFile(`${file.path}.url.json`, JSON.stringify({ url: story.video_url, storyId: this.storyId }));
    await input.memo.put(`${memoKey}:url`, `${file.path}.url.json`);
    return fetched;
  }

  /** What /concat joins: every clip in play order (only clips: never an AI transition) and the music. */
  private async concatFields(input: RenderInput): Promise<{ concat_video_urls: string[]; audio_urls?: string[] }> {
    const clips = this.context().graph.nodes.filter((n): n is GraphNode<"scene-clip"> => n.kind === "scene-clip");
    const urls = await Promise.all(clips.map((c) => this.clipUrl(c, input)));
    const music = this.knownUrls().music;
    return { concat_video_urls: urls, ...(music ? { audio_urls: [music] } : {}) };
  }

  private context(): BuildContext {
    if (!this.ctx) throw new Error("the vimmerse renderer was not given the build context");
    return this.ctx;
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
    return { files: [{ name: `${base}${ext}`, path }], remote: { storyId: this.storyId!, url } };
  }

  /** Stale nodes of the plan that a stage makes. */
  /**
   * The URL an earlier build was answered with for this node and did not download
   * (it was stopped, or another node failed): fetched again, never paid for again.
   */
  private answered(id: string): string | undefined {
    const p = this.context().pending[id];
    return p?.state === "answered" && typeof p.url === "string" ? p.url : undefined;
  }

  /** Records each node's URL in an answer at once, so a build stopped before downloading it does not pay again. */
  private async recordAnswer(input: RenderInput, stage: string, urls: Array<[GraphNode, string | undefined]>): Promise<void> {
    for (const [node, url] of urls) await input.recordPending({ storyId: this.storyId!, stage, state: "answered", ...(url ? { url } : {}) }, [node.id]);
  }

  private stageNodes(name: StageName): GraphNode[] {
    const { plan, graph } = this.context();
    const stale = plan.items
      .filter((i) => (i.action === "create" || i.action === "update") && !this.answered(i.id))
      .map((i) => graph.byId.get(i.id)!);
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
    const known: KnownUrls = { elements: new Map(), sceneImages: new Map(), narrations: new Map(), media: (value) => this.mediaUrl(value) };
    const urlOf = (id: string) => remote[id]?.url as string | undefined;
    const finished = this.finished;
    const elementsStory = finished.get("elements")?.story;
    const scenesStory = finished.get("scenes")?.story;
    const staleIds = new Set([...this.stageNodes("elements"), ...this.stageNodes("scenes")].map((n) => n.id));
    for (const node of graph.nodes) {
      const stale = staleIds.has(node.id);
      const answered = this.answered(node.id);
      if (answered && (node.kind === "element" || node.kind === "scene-image" || node.kind === "scene-narration" || node.kind === "music")) {
        if (node.kind === "element") known.elements.set(node.id, answered);
        else if (node.kind === "music") known.music = answered;
        else (node.kind === "scene-image" ? known.sceneImages : known.narrations).set(node.scene!, answered);
      } else if (node.kind === "element") {
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
    const { story, settings } = this.context();
    const nodes = this.stageNodes(name);
    const storyId = await this.ensureStory(input, nodes.map((n) => n.id));
    const seed = settings.image.seed !== null ? { seed: settings.image.seed } : {};
    const api = this.api();

    if (name === "elements" || name === "scenes") {
      const done = await this.request(name, nodes, input, async () => {
        const board = JSON.stringify(toApiStoryboard(story, this.knownUrls()));
        if (name === "elements") await api.generateElements(storyId, { option: settings.image.model, aspect_ratio: settings.aspect_ratio, storyboard: board, ...seed }, input.signal);
        else await api.generateScenes(storyId, { option: settings.image.model, aspect_ratio: settings.aspect_ratio, storyboard: board, audio_option: audioOption(settings), ...seed }, input.signal);
      });
      // Scene images and narrations are read by the order of the storyboard that was sent: the whole story's.
      if (name === "scenes" && (done.storyboard?.scenes?.length ?? 0) !== (story.scenes?.length ?? 0)) {
        throw new VimmerseApiError("malformed", `the Story API answered /scenes with ${done.storyboard?.scenes?.length ?? 0} scenes for the ${story.scenes?.length ?? 0} it was sent`, null, "build again; if it persists, report it");
      }
      await this.recordAnswer(
        input,
        name,
        nodes.map((n) => [n, n.kind === "element" ? findElementUrl(done, n) : n.kind === "music" ? (done.storyboard?.music?.music_url ?? undefined) : ((n.kind === "scene-image" ? done.storyboard?.scenes?.[n.scene!]?.image_url : done.storyboard?.scenes?.[n.scene!]?.narration_url) ?? undefined)]),
      );
      const result = { story: done };
      this.finished.set(name, result);
      return result;
    }
    if (name === "concat") {
      const fields = await this.concatFields(input);
      const done = await this.request(name, nodes, input, async () => void (await api.concat(storyId, fields, input.signal)));
      return { story: done };
    }

    // Scene videos of one duration. The answer names each clip by the scene image it was made
    // from, so scenes that share an image go in separate requests: every clip is then found by
    // identity, never by its place in a list.
    const known = this.knownUrls();
    const clipNodes = nodes.filter((n): n is GraphNode<"scene-clip"> => n.kind === "scene-clip").sort((a, b) => a.scene! - b.scene!);
    const clips = new Map<number, ClipOutcome>();
    const rounds: Array<Array<GraphNode<"scene-clip">>> = [];
    for (const clip of clipNodes) {
      const image = known.sceneImages.get(clip.scene!);
      if (!image) {
        clips.set(clip.scene!, { error: new VimmerseApiError("malformed", `no image URL is known for ${clip.label}'s scene`, null, `run storyc build --renderer vimmerse --force '${clip.id.replace(/clip$/, "image")}'`) });
        continue;
      }
      const round = rounds.find((r) => r.every((c) => known.sceneImages.get(c.scene!) !== image));
      if (round) round.push(clip);
      else rounds.push([clip]);
    }
    let story2: ApiStory | undefined;
    for (const [r, round] of rounds.entries()) {
      const scenes = round.map((c) => c.scene!);
      const sentImages = scenes.map((i) => known.sceneImages.get(i)!);
      const board = toApiStoryboard(story, known, scenes);
      const stageName = rounds.length > 1 ? `${name}#${r + 1}` : name;
      story2 = await this.request(stageName, round, input, async () => {
        await api.generateVideos(
          storyId,
          {
            title: story.title ?? "",
            storyboard: JSON.stringify(board),
            // Never AI transition videos: `transitions` is how the clips are joined, not extra paid clips.
            is_transition: false,
            motion_type: settings.motion.model,
            duration: Math.round(Number(name.split("@")[1])),
            loop: 1,
            ...(this.webhook ? { webhook_url: this.env.STORYC_WEBHOOK_URL ?? this.webhook.url } : {}),
          },
          input.signal,
        );
      });
      const mapped = mapClips(story2, sentImages);
      for (const [k, scene] of scenes.entries()) clips.set(scene, mapped[k]!);
      await this.recordAnswer(input, stageName, round.map((c, k) => [c, "url" in mapped[k]! ? (mapped[k] as { url: string }).url : undefined]));
    }
    const result: StageResult = { story: story2 ?? (await api.getStory(storyId, input.signal)), clips };
    this.finished.set(name, result);
    return result;
  }

  /**
   * One paid request and the wait for its work, one at a time per story: the API
   * keeps one storyboard and one medias list per story, so a second request in
   * flight would replace the first. Never pays twice: a request recorded by an
   * earlier build is polled, not sent again, unless the story shows it never arrived.
   */
  private request(stage: string, nodes: GraphNode[], input: RenderInput, submit: () => Promise<void>): Promise<ApiStory> {
    const run = async (): Promise<ApiStory> => {
      const storyId = this.storyId!;
      const ids = nodes.map((n) => n.id);
      const api = this.api();
      const earlier = ids.map((id) => this.context().pending[id]).find((p) => p?.stage === stage && p.storyId === storyId);
      let submitted = earlier?.state === "submitted";
      let creditsBefore = typeof earlier?.creditsBefore === "number" ? earlier.creditsBefore : undefined;
      if (earlier?.state === "requested") submitted = (await api.getStory(storyId, input.signal)).updated_at !== earlier.before;
      if (!submitted) {
        try {
          await withRetries(
            async () => {
              const current = await api.getStory(storyId, input.signal);
              const before = current.updated_at ?? "";
              creditsBefore = this.createdHere ? 0 : Number(current.used_credits ?? 0);
              await input.recordPending({ storyId, stage, state: "requested", before, creditsBefore }, ids);
              try {
                await submit();
              } catch (error) {
                if (error instanceof VimmerseApiError && error.kind === "credit") {
                  throw new VimmerseApiError("credit", `${error.message}; the work that remains needs about ${this.remainingCredits()} credits`, error.status, error.hint);
                }
                if (!(error instanceof VimmerseApiError) || error.kind !== "unavailable") throw error;
                // The answer was lost: if the story moved, the request arrived and was paid for.
                if ((await api.getStory(storyId, input.signal)).updated_at !== before) return;
                throw new TransientError(error.message);
              }
            },
            { attempts: 4, backoffMs: 1000, signal: input.signal },
          );
        } catch (error) {
          if (error instanceof TransientError) throw new VimmerseApiError("unavailable", error.reason, null, "the Story API is unavailable; build again later: nothing was paid twice");
          throw error;
        }
      }
      await input.recordPending({ storyId, stage, state: "submitted", ...(creditsBefore !== undefined ? { creditsBefore } : {}) }, ids);
      this.createdHere = false;
      const done = await this.waitFor(storyId, stage, input.signal, Boolean(this.webhook) && stage.startsWith("videos@"));

      if (typeof done.used_credits === "number" && creditsBefore !== undefined) this.attribute(nodes, done.used_credits - creditsBefore);
      return done;
    };
    const next = this.paidQueue.then(run, run);
    this.paidQueue = next.catch(() => undefined);
    return next;
  }

  /** Splits what one request cost over its nodes, in proportion to their estimates, so that the shares add up. */
  private attribute(nodes: GraphNode[], credits: number): void {
    const weights = nodes.map((n) => this.estimateCredits(n) || 1);
    const total = weights.reduce((a, b) => a + b, 0);
    let left = Math.max(0, credits);
    nodes.forEach((n, i) => {
      const share = i === nodes.length - 1 ? left : Math.floor((Math.max(0, credits) * weights[i]!) / total);
      left -= share;
      this.spent.set(n.id, share);
    });
  }

  /** Estimated credits of the stale nodes not made yet in this build. */
  private remainingCredits(): number {
    const { plan, graph } = this.context();
    return plan.items
      .filter((i) => (i.action === "create" || i.action === "update") && !this.made.has(i.id))
      .reduce((sum, i) => sum + this.estimateCredits(graph.byId.get(i.id)!), 0);
  }

  /** A clip's URL: made in this build, or recorded by an earlier one. */
  private async clipUrl(clip: GraphNode<"scene-clip">, input: RenderInput): Promise<string> {
    const answered = this.answered(clip.id);
    if (answered) return answered;
    const stale = this.stageNodes(`videos@${Number(clip.inputs.duration)}`).includes(clip);
    if (!stale) {
      const url = this.context().remote[clip.id]?.url;
      if (typeof url === "string") return url;
      throw new VimmerseApiError("malformed", `no remote URL is recorded for ${clip.id}`, null, `run storyc build --renderer vimmerse --force ${clip.id}`);
    }
    const result = await this.stage(`videos@${Number(clip.inputs.duration)}`, input);
    const outcome = result.clips?.get(clip.scene!);
    if (!outcome || "error" in outcome) throw outcome?.error ?? new VimmerseApiError("malformed", `the Story API made no video for ${clip.label}`, null, "build again");
    return outcome.url;
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
      this.createdHere = true;
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
  private async waitFor(storyId: string, stage: string, signal: AbortSignal, hinted: boolean): Promise<ApiStory> {
    let delay = hinted ? this.pollMs : Math.min(this.pollMs, 500);
    for (;;) {
      const story = await this.api().getStory(storyId, signal);
      const pct = Number(story.progress_percentage ?? 0);
      for (const l of this.listeners.get(stage.split("#")[0]!) ?? []) l(Math.max(0, Math.min(1, pct / 100)), `vimmerse ${stage}: ${story.status} ${pct}%`);
      if (story.status === "success") return story;
      if (story.status === "fail" || story.status === "failed") {
        throw new VimmerseApiError("invalid", `the Story API reports that ${stage} failed${story.message ? `: ${String(story.message)}` : ""}`, null, "check the story on Vimmerse, then build again");
      }
      await Promise.race([sleep(delay, undefined, { signal }), this.webhook?.next(storyId) ?? new Promise(() => undefined)]);
      delay = Math.min(this.pollMaxMs, Math.max(this.pollMs, Math.round(delay * 1.6)));
    }
  }
}

/** An element's image in an answer: under `image_url` or `URL`, both of which the documents show. */
export function findElementUrl(story: ApiStory, node: { inputs: { kind: "characters" | "environments" | "objects"; name: string } }): string | undefined {
  const name = node.inputs.name.toLowerCase();
  const found = story.storyboard?.[node.inputs.kind]?.find((e) => e.name?.toLowerCase() === name);
  return (found?.image_url || found?.URL) ?? undefined;
}

type Loose = Record<string, unknown> | undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

/** What a media entry says about its source image, and whether it is an AI transition between two scenes. */
function mediaSource(m: Loose): { image?: string; transition: boolean } {
  const source = (m?.source ?? {}) as Record<string, unknown>;
  const image = str(source.image_url) ?? str(m?.image_url);
  const transition = m?.is_transition === true || m?.is_transition === "Yes" || Boolean(str(source.end_image_url)) || /transition/i.test(String(m?.type ?? ""));
  return { ...(image ? { image } : {}), transition };
}

/** The API's words for failed media, for a message. */
function failureReasons(story: ApiStory | undefined, image?: string): string | undefined {
  const failed = ((story?.failed_medias ?? []) as Loose[]).filter((m) => image === undefined || mediaSource(m).image === image);
  if (!failed.length) return undefined;
  return failed.map((m) => str(m?.message) ?? str(m?.error) ?? str(m?.reason) ?? str(m?.status) ?? "a failed media without a reason").join("; ");
}

/**
 * Maps each scene sent in a videos request to its clip by identity: the scene
 * image a clip was made from, wherever the answer places clips (`scenes`,
 * `storyboard.scenes`, `medias`). The storyboard the answer holds must be the
 * one that was sent, in order; a scene with no clip, or with two different
 * ones, is refused, and a failed media fails its scene with the API's reason.
 */
export function mapClips(story: ApiStory, sentImages: readonly string[]): ClipOutcome[] {
  const board = (story.storyboard?.scenes ?? []) as Loose[];
  const boardImages = board.map((s) => str(s?.image_url));
  if (boardImages.length === sentImages.length && boardImages.some((u, k) => u !== undefined && u !== sentImages[k])) {
    const error = new VimmerseApiError("malformed", "the story's storyboard is not the one this videos request sent (another request on the same story replaced it)", null, "make sure no other client works on this story, then build again");
    return sentImages.map(() => ({ error }));
  }
  const candidates = new Map<string, Set<string>>(sentImages.map((u) => [u, new Set<string>()]));
  const add = (image: string | undefined, url: string | undefined) => image && url && candidates.get(image)?.add(url);
  for (const s of (story.scenes ?? []) as Loose[]) add(str(s?.image_url), str(s?.video_url));
  for (const s of board) add(str(s?.image_url), str(s?.video_url));
  for (const m of (story.medias ?? []) as Loose[]) {
    const { image, transition } = mediaSource(m);
    if (!transition) add(image, str(m?.video_url) ?? str(m?.url) ?? str(m?.URL));
  }
  return sentImages.map((image): ClipOutcome => {
    const urls = [...candidates.get(image)!];
    const reasons = failureReasons(story, image);
    if (reasons && urls.length === 0) return { error: new VimmerseApiError("invalid", `the Story API failed to make this clip: ${reasons}`, null, "change the scene or its motion, or build again to retry it") };
    if (urls.length === 1 && !reasons) return { url: urls[0]! };
    if (urls.length === 0) return { error: new VimmerseApiError("malformed", `the Story API's answer names no clip made from this scene's image (${image})`, null, "build again to retry this clip; if it persists, report it") };
    return { error: new VimmerseApiError("malformed", `the Story API's answer is ambiguous for this scene's image (${image}): ${urls.length} different clips${reasons ? ` and a failure (${reasons})` : ""}; storyc will not guess which is this scene's`, null, "build again to retry this clip; if it persists, report it") };
  });
}

/** The local or remote file a node's inputs name, if any. */
function mediaOf(node: RenderNode): MediaRef {
  if (node.kind === "element" || node.kind === "scene-image") return node.inputs.image;
  if (node.kind === "music") return node.inputs.source;
  return null;
}

function audioOption(settings: ResolvedSettings): string {
  return JSON.stringify({ has_bg_music: settings.background_music, has_narration: true, native_audio: false, narrator: settings.narrator });
}

const LANGUAGES: Record<string, string> = { ar: "Arabic", zh: "Chinese", en: "English", fr: "French", de: "German", hi: "Hindi", ja: "Japanese", ko: "Korean", es: "Spanish", tr: "Turkish" };

export function languageName(tag: string): string {
  return LANGUAGES[tag.split("-")[0]!.toLowerCase()] ?? "English";
}
