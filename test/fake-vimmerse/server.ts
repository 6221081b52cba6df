import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { audioBytes, clipBytes, clipLook, LOOK_COLOURS, pngBytes, type ClipLook } from "./media.js";

/**
 * A fake Vimmerse Story API for tests: real HTTP on 127.0.0.1 that checks the
 * key and every form field against the OpenAPI description (422 with FastAPI's
 * details when wrong), moves stories through new, processing and success with
 * progress, serves the media it returns, and injects faults on demand.
 */

const openapi = JSON.parse(readFileSync(fileURLToPath(new URL("../fixtures/vimmerse-openapi-story.json", import.meta.url)), "utf8")) as OpenApi;

interface OpenApi {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>>;
  components: { schemas: Record<string, SchemaObject> };
}
interface SchemaObject {
  type?: string;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  items?: SchemaObject;
  anyOf?: SchemaObject[];
  $ref?: string;
  default?: unknown;
}

export type FaultKind = "429" | "500" | "503" | "reset" | "reset-after-processing" | "slow" | "402" | "malformed";

export interface Fault {
  kind: FaultKind;
  method?: string;
  path?: RegExp;
  times?: number;
  retryAfterSeconds?: number;
  delayMs?: number;
}

export interface CallRecord {
  method: string;
  path: string;
  fields: Record<string, unknown>;
  status: number;
  paid: boolean;
}

interface Job {
  kind: "elements" | "scenes" | "videos" | "concat" | "idea";
  ticks: number;
  fields: Record<string, unknown>;
}

interface FakeStory {
  id: string;
  used_credits: number;
  failed_medias: unknown[];
  is_transition: boolean;
  title: string;
  idea: string;
  status: string;
  progress_percentage: number;
  storyboard: Record<string, any>;
  scenes: Array<Record<string, unknown>>;
  medias: unknown[];
  video_url: string;
  aspect_ratio: string;
  /** The language narration is made in: set when the story is created, or again by POST /story with its story_id. */
  language: string;
  updated_at: string;
  story_version: number;
  job: Job | null;
  deleted?: boolean;
}

export interface Generated {
  elementImages: number;
  music: number;
  sceneImages: number;
  narrations: number;
  videos: number;
  concats: number;
  transitions: number;
}

/**
 * What the fake charges. Deliberately not storyc's estimates, so that a test
 * can tell credits reported by the API from credits storyc guessed.
 */
export const FAKE_PRICES = { element: 3, music: 4, sceneImage: 3, narration: 1, perClipSecond: 9, transition: 20, concat: 2 } as const;

const PAID = /^POST \/story(\/idea-2-video|\/[^/]+\/(elements|scenes|videos|concat))?$/;
const TINY_PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000" + "1f15c4890000000d49444154789c6360f8ffbf1e0005fe02fea7d6a1d40000000049454e44ae426082", "hex");

export interface FakeOptions {
  /**
   * Serve real media (H.264 + AAC clips, MP3 audio, PNGs) instead of text: for
   * tests that decode what the API made. Off by default, which keeps other tests fast.
   */
  realMedia?: boolean;
}

export class FakeVimmerse {
  realMedia: boolean;
  /**
   * The look of each scene image made (a clip made from it shows that look's colour),
   * by the scene's description: the same scene looks the same in every build.
   */
  private readonly looks = new Map<string, number>();
  private readonly imageLooks = new Map<string, number>();
  readonly key = `test-key-${randomUUID()}`;
  readonly calls: CallRecord[] = [];
  /** Every request as it arrived ("GET /story/..."), answered or not. */
  readonly arrivals: string[] = [];
  readonly generated: Generated = { elementImages: 0, music: 0, sceneImages: 0, narrations: 0, videos: 0, concats: 0, transitions: 0 };
  /**
   * Where element images are returned: `URL` as the OpenAPI example of
   * /elements does, or `image_url` as its prose allows.
   */
  elementUrlField: "URL" | "image_url" = "URL";
  /** The order of \`scenes\` and \`medias\` in a videos answer: the documents promise none. */
  answerOrder: "storyboard" | "reversed" = "storyboard";
  /** A scene whose clip fails: its image URL is matched by this test, and the reason is given in failed_medias. */
  failClip: { when: (imageUrl: string) => boolean; reason: string } | null = null;
  /** Files fetched from /files/, the fake's stand-in for a user's published story folder. */
  readonly fileRequests: string[] = [];
  /** A folder published under /files/<prefix>: its files are served as they are, where a test needs their real bytes. */
  published: { prefix: string; dir: string } | null = null;
  /** Paid requests that arrived while an earlier paid job of the same story was still running. */
  overlaps = 0;
  /** Which image each clip URL was made from, and for how long: the truth a test checks mappings against. */
  readonly clipSources = new Map<string, { imageUrl: string; duration: number }>();
  /** The story's language when each narration was made, so that a test can tell by content which language it is in. */
  readonly narrationLanguages = new Map<string, string>();
  readonly stories = new Map<string, FakeStory>();
  /** GETs a job takes to finish. */
  ticksPerJob = 2;
  /** When set, jobs also finish on their own after this many ms, and call their webhook_url. */
  timedJobsMs: number | null = null;
  /** Webhook deliveries made: [url, body]. */
  readonly webhooks: Array<[string, unknown]> = [];
  /** Called when a paid request arrives, before it is answered (to kill a client at that moment). */
  onPaid: ((call: { method: string; path: string }) => void | Promise<void>) | null = null;
  /** Called for every API request before it is processed. */
  onRequest: ((call: { method: string; path: string }) => void | Promise<void>) | null = null;
  private faults: Fault[] = [];
  private server: Server | null = null;
  private clock = 0;
  url = "";

  constructor(options: FakeOptions = {}) {
    this.realMedia = options.realMedia ?? false;
  }

  /** The look of clips made from this image: a colour, a size, a frame rate, sound or not. */
  lookOfImage(imageUrl: string): ClipLook {
    let index = this.imageLooks.get(imageUrl);
    if (index === undefined) index = [...imageUrl].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % LOOK_COLOURS.length;
    return clipLook(index);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  fault(f: Fault): void {
    this.faults.push({ times: 1, ...f });
  }

  paidCalls(): CallRecord[] {
    return this.calls.filter((c) => c.paid && c.status === 200);
  }

  private now(): string {
    this.clock++;
    return new Date(Date.UTC(2026, 0, 1, 0, 0, this.clock)).toISOString().replace("Z", "000+00:00");
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const body = await readBody(req);
    if (url.pathname.startsWith("/media/")) return void (await this.serveMedia(url.pathname.slice(7), res));
    // A stand-in for where a user publishes the story's own files (STORYC_MEDIA_BASE_URL).
    if (url.pathname.startsWith("/files/")) {
      const name = decodeURIComponent(url.pathname.slice(7));
      this.fileRequests.push(name);
      if (this.published && name.startsWith(this.published.prefix) && !name.split("/").includes("..")) {
        const bytes = await readFile(join(this.published.dir, name.slice(this.published.prefix.length))).catch(() => null);
        return void (bytes ? res.writeHead(200, { "content-type": "application/octet-stream" }).end(bytes) : res.writeHead(404).end());
      }
      return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(`published ${url.pathname}\n`);
    }

    const path = url.pathname;
    this.arrivals.push(`${method} ${path}`);
    const paid = PAID.test(`${method} ${path}`);
    const fault = this.takeFault(method, path);
    if (fault) {
      if (fault.kind === "slow") await new Promise((r) => setTimeout(r, fault.delayMs ?? 2000));
      else if (fault.kind === "reset") return void req.socket.destroy();
      else if (fault.kind === "429") return this.send(res, 429, { detail: "Too Many Requests" }, { "retry-after": String(fault.retryAfterSeconds ?? 1) }, method, path, {}, paid);
      else if (fault.kind === "500" || fault.kind === "503") return this.send(res, Number(fault.kind), { detail: "Internal Server Error" }, {}, method, path, {}, paid);
      else if (fault.kind === "402") return this.send(res, 402, { detail: "Insufficient credit: 0 credits left" }, {}, method, path, {}, paid);
      else if (fault.kind === "malformed") {
        this.calls.push({ method, path, fields: {}, status: 200, paid });
        res.writeHead(200, { "content-type": "application/json" }).end("<html>upstream error</html>");
        return;
      }
    }

    const key = req.headers["x-api-key"];
    if (!key) return this.send(res, 403, { detail: "Not authenticated" }, {}, method, path, {}, paid);
    if (key !== this.key) return this.send(res, 401, { detail: "Invalid API key" }, {}, method, path, {}, paid);

    if (this.onRequest) await this.onRequest({ method, path });
    const route = matchRoute(method, path);
    if (!route) return this.send(res, 404, { detail: "Not Found" }, {}, method, path, {}, paid);
    const parsed = await parseAndValidate(route.template, method, req.headers["content-type"] ?? "", body);
    if ("errors" in parsed) return this.send(res, 422, { detail: parsed.errors }, {}, method, path, {}, paid);
    const fields = parsed.fields;

    if (paid && this.onPaid) await this.onPaid({ method, path });
    const result = this.apply(method, route.template, route.params, fields);
    if (fault?.kind === "reset-after-processing") {
      this.calls.push({ method, path, fields, status: 200, paid });
      return void req.socket.destroy();
    }
    this.send(res, result.status, result.body, {}, method, path, fields, paid);
  }

  private takeFault(method: string, path: string): Fault | null {
    const i = this.faults.findIndex((f) => (!f.method || f.method === method) && (!f.path || f.path.test(path)));
    if (i < 0) return null;
    const f = this.faults[i]!;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.faults.splice(i, 1);
    return f;
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>, method: string, path: string, fields: Record<string, unknown>, paid: boolean): void {
    this.calls.push({ method, path, fields, status, paid });
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
  }

  private media(kind: string, ext: string): string {
    return `${this.url}/media/${kind}-${randomUUID()}.${ext}`;
  }

  private clip(imageUrl: string, duration: number): string {
    const url = this.media("clip", "mp4");
    this.clipSources.set(url, { imageUrl, duration });
    return url;
  }

  private async serveMedia(name: string, res: ServerResponse): Promise<void> {
    if (!/^[a-z]+-[0-9a-f-]+\.(png|mp3|mp4)$/.test(name)) return void res.writeHead(404).end();
    // A clip's bytes name the image it was made from, so a test can check by content which scene it shows.
    const source = this.clipSources.get(`${this.url}/media/${name}`);
    const language = this.narrationLanguages.get(`${this.url}/media/${name}`);
    const text = source ? `fake ${name} from ${source.imageUrl} for ${source.duration}s\n` : language ? `fake ${name} in ${language}\n` : `fake ${name}\n`;
    let bytes: Buffer;
    if (!this.realMedia) bytes = name.endsWith(".png") ? Buffer.concat([TINY_PNG, Buffer.from(name)]) : Buffer.from(text.repeat(20));
    else if (name.endsWith(".png")) bytes = await pngBytes(this.lookOfImage(`${this.url}/media/${name}`).colour);
    else if (name.endsWith(".mp3")) bytes = await audioBytes(name.startsWith("music-") ? 220 : 440, name.startsWith("music-") ? 6 : 2, text.trim());
    // The final cut of /concat or idea-2-video: a clip of its own, black.
    else bytes = await clipBytes(source ? this.lookOfImage(source.imageUrl) : { ...clipLook(0), colour: [0, 0, 0] }, source?.duration ?? 2, text.trim());
    res.writeHead(200, { "content-type": name.endsWith(".png") ? "image/png" : name.endsWith(".mp3") ? "audio/mpeg" : "video/mp4", "content-length": String(bytes.length) }).end(bytes);
  }

  private view(s: FakeStory): Record<string, unknown> {
    // The contract's story answers do not show the language: storyc cannot read it back.
    const { job: _job, deleted: _deleted, language: _language, ...rest } = s;
    return { ...rest, email: "user@example.com", customer_id: "customer", version: "2" };
  }

  private createStory(fields: Record<string, unknown>, status: string, elements: Record<string, unknown>, job: FakeStory["job"]): { status: number; body: unknown } {
    const story: FakeStory = {
      id: randomUUID(),
      used_credits: 0,
      failed_medias: [],
      is_transition: Boolean(fields.is_transition),
      title: String(fields.title ?? ""),
      idea: String(fields.idea),
      status,
      progress_percentage: 0,
      storyboard: draftStoryboard(String(fields.idea), Number(fields.scene_count ?? 3), elements),
      scenes: [],
      medias: [],
      video_url: "",
      aspect_ratio: String(fields.aspect_ratio ?? "16:9"),
      language: String(fields.language ?? "English"),
      updated_at: this.now(),
      story_version: 0,
      job,
    };
    this.stories.set(story.id, story);
    return { status: 200, body: { data: this.view(story) } };
  }

  /**
   * POST /story with a story_id: "updates the existing storyboard instead of
   * creating a new one", drafted again from the idea, in the language given.
   * It is a request on the story like the others: one in flight replaces it.
   */
  private editStory(fields: Record<string, unknown>): { status: number; body: unknown } {
    const story = this.stories.get(String(fields.story_id));
    if (!story || story.deleted) return { status: 404, body: { detail: "Story not found" } };
    if (story.job) this.overlaps++;
    story.idea = String(fields.idea);
    if (typeof fields.language === "string") story.language = fields.language;
    if (typeof fields.aspect_ratio === "string") story.aspect_ratio = fields.aspect_ratio;
    story.storyboard = draftStoryboard(story.idea, Number(fields.scene_count ?? 3), {});
    story.story_version++;
    story.updated_at = this.now();
    return { status: 200, body: { data: this.view(story) } };
  }

  private apply(method: string, template: string, params: Record<string, string>, fields: Record<string, unknown>): { status: number; body: unknown } {
    if (template === "/story" && method === "POST" && typeof fields.story_id === "string") return this.editStory(fields);
    if (template === "/story" && method === "POST") {
      const elements = typeof fields.elements === "string" ? (JSON.parse(fields.elements) as Record<string, unknown>) : {};
      return this.createStory(fields, "new", elements, null);
    }
    if (template === "/story/idea-2-video") return this.createStory(fields, "processing", {}, { kind: "idea", ticks: this.ticksPerJob, fields });
    const story = this.stories.get(params.story_id ?? "");
    if (!story || story.deleted) return { status: 404, body: { detail: "Story not found" } };
    if (method === "GET") {
      this.tick(story);
      return { status: 200, body: { data: this.view(story) } };
    }
    if (method === "DELETE") {
      story.deleted = true;
      return { status: 200, body: { data: this.view(story) } };
    }
    if (method === "PUT") {
      if (typeof fields.title === "string") story.title = fields.title;
      story.updated_at = this.now();
      return { status: 200, body: { data: this.view(story) } };
    }
    // The API keeps one storyboard and one medias list per story: a request that arrives while
    // another runs replaces it, and the earlier one's work is lost. storyc must never do this.
    if (story.job) this.overlaps++;
    const kind = template.split("/").pop() as Job["kind"];
    if (typeof fields.storyboard === "string") story.storyboard = JSON.parse(fields.storyboard) as Record<string, any>;
    if (kind === "videos") story.is_transition = fields.is_transition === true;
    story.job = { kind, ticks: this.ticksPerJob, fields };
    if (this.timedJobsMs !== null) {
      const job = story.job;
      setTimeout(() => {
        if (story.job !== job) return;
        job.ticks = 1;
        this.tick(story);
        const hook = typeof fields.webhook_url === "string" ? fields.webhook_url : "";
        if (hook) {
          const body = { customer_id: "customer", batch_id: story.id, status: story.status };
          this.webhooks.push([hook, body]);
          void fetch(hook, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).catch(() => undefined);
        }
      }, this.timedJobsMs);
    }
    story.status = "processing";
    story.progress_percentage = 0;
    story.story_version++;
    story.updated_at = this.now();
    return { status: 200, body: { data: this.view(story) } };
  }

  private tick(story: FakeStory): void {
    const job = story.job;
    if (!job) return;
    job.ticks--;
    story.progress_percentage = Math.min(99, Math.round(100 * (1 - job.ticks / (this.ticksPerJob + 1))));
    if (job.ticks > 0) return;
    const board = story.storyboard;
    if (job.kind === "elements" || job.kind === "idea") {
      for (const kind of ["characters", "environments", "objects"]) {
        for (const e of (board[kind] ?? []) as Array<Record<string, unknown>>) {
          if (!e.image_url && !e.URL) {
            e[this.elementUrlField] = this.media("element", "png");
            this.generated.elementImages++;
            story.used_credits += FAKE_PRICES.element;
          }
        }
      }
      if (board.music && !board.music.music_url) {
        board.music.music_url = this.media("music", "mp3");
        this.generated.music++;
        story.used_credits += FAKE_PRICES.music;
      }
    }
    if (job.kind === "scenes" || job.kind === "idea") {
      for (const s of (board.scenes ?? []) as Array<Record<string, unknown>>) {
        if (!s.image_url) {
          s.image_url = this.media("scene", "png");
          const description = String(s.image_description ?? s.description ?? "");
          if (!this.looks.has(description)) this.looks.set(description, this.looks.size);
          this.imageLooks.set(String(s.image_url), this.looks.get(description)!);
          this.generated.sceneImages++;
          story.used_credits += FAKE_PRICES.sceneImage;
        }
        // Narration is made for a scene that has narrator text and no narration yet.
        if (!s.narration_url && String(s.narrator ?? "").trim()) {
          s.narration_url = this.media("narration", "mp3");
          this.narrationLanguages.set(s.narration_url as string, story.language);
          this.generated.narrations++;
          story.used_credits += FAKE_PRICES.narration;
        }
      }
    }
    if (job.kind === "videos" || job.kind === "idea") {
      // A videos request replaces the story's scenes and medias with the clips of the storyboard it sent.
      const duration = Number(job.fields.duration ?? job.fields.scene_duration ?? 5);
      const scenes: Array<Record<string, unknown>> = [];
      const medias: Array<Record<string, unknown>> = [];
      const failed: unknown[] = [];
      const sent = (board.scenes ?? []) as Array<Record<string, unknown>>;
      for (const [i, s] of sent.entries()) {
        const imageUrl = String(s.image_url ?? "");
        const source = { image_url: imageUrl, prompt: String(s.video_description ?? s.motion_description ?? ""), narration_url: String(s.narration_url ?? "") };
        if (this.failClip?.when(imageUrl)) {
          failed.push({ media_id: randomUUID(), source, item: `item-${i + 1}`, message: this.failClip.reason });
          continue;
        }
        const videoUrl = this.clip(imageUrl, duration);
        this.generated.videos++;
        story.used_credits += FAKE_PRICES.perClipSecond * duration;
        s.video_url = videoUrl;
        scenes.push({ ...source, video_url: videoUrl });
        medias.push({ media_id: randomUUID(), source, item: `item-${medias.length + 1}`, video_url: videoUrl });
        const next = sent[i + 1];
        if (story.is_transition && next) {
          // AI transition videos: listed in medias between the clips they join, and paid for.
          this.generated.transitions++;
          story.used_credits += FAKE_PRICES.transition;
          medias.push({ media_id: randomUUID(), source: { image_url: imageUrl, end_image_url: String(next.image_url ?? "") }, item: `transition-${i + 1}`, is_transition: true, video_url: this.media("transition", "mp4") });
        }
      }
      story.scenes = this.answerOrder === "reversed" ? scenes.reverse() : scenes;
      story.medias = this.answerOrder === "reversed" ? medias.reverse() : medias;
      story.failed_medias = failed;
      story.video_url = this.media("video", "mp4");
    }
    if (job.kind === "concat") {
      this.generated.concats++;
      story.used_credits += FAKE_PRICES.concat;
      story.video_url = this.media("video", "mp4");
    }
    story.job = null;
    story.status = "success";
    story.progress_percentage = 100;
    story.updated_at = this.now();
  }
}

function draftStoryboard(idea: string, count: number, elements: Record<string, unknown>): Record<string, unknown> {
  const hero = "Pip";
  const board: Record<string, unknown> = {
    characters: [{ name: hero, description: `The hero of the story: ${idea.slice(0, 60)}` }],
    environments: [{ name: "Meadow", description: "A green meadow under a wide blue sky." }],
    objects: [],
    music: { description: "Gentle, playful strings.", lyrics: "" },
    title_scene: { title: idea.slice(0, 40), description: "Title letters over the meadow." },
    scenes: Array.from({ length: count }, (_, i) => ({
      image_description: `lighting: morning, **${hero}** in the **Meadow**, moment ${i + 1}.`,
      narrator: `Moment ${i + 1} of the story.`,
      video_description: "camera motion: zoom in, camera angle: eye level",
    })),
  };
  for (const kind of ["characters", "environments", "objects"]) if (Array.isArray(elements[kind]) && (elements[kind] as unknown[]).length) board[kind] = elements[kind];
  return board;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function matchRoute(method: string, path: string): { template: string; params: Record<string, string> } | null {
  for (const template of Object.keys(openapi.paths)) {
    if (!openapi.paths[template]![method.toLowerCase()]) continue;
    const names: string[] = [];
    const re = new RegExp("^" + template.replace(/\{(\w+)\}/g, (_, n: string) => (names.push(n), "([^/]+)")) + "$");
    const m = re.exec(path);
    if (m) return { template, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
  }
  return null;
}

function resolve(schema: SchemaObject | undefined): SchemaObject | undefined {
  if (schema?.$ref) return openapi.components.schemas[schema.$ref.split("/").pop()!];
  return schema;
}

type Detail = { loc: Array<string | number>; msg: string; type: string };

async function parseAndValidate(template: string, method: string, contentType: string, body: Buffer): Promise<{ fields: Record<string, unknown> } | { errors: Detail[] }> {
  const op = openapi.paths[template]![method.toLowerCase()]!;
  if (!op.requestBody) return { fields: {} };
  const declared = Object.keys(op.requestBody.content);
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (!declared.includes(type)) {
    return { errors: [{ loc: ["body"], msg: `expected ${declared.join(" or ")}, got ${type || "no content type"}`, type: "value_error.content_type" }] };
  }
  const schema = resolve(op.requestBody.content[type]!.schema)!;
  const errors: Detail[] = [];
  const fields: Record<string, unknown> = {};
  if (type === "application/json") {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(body.toString()) as Record<string, unknown>;
    } catch {
      return { errors: [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }] };
    }
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      if (json[name] === undefined) continue;
      const err = checkValue(json[name], prop);
      if (err) errors.push({ loc: ["body", name], msg: err, type: "value_error" });
      fields[name] = json[name];
    }
  } else {
    const form = await new Request("http://fake/", { method: "POST", headers: { "content-type": contentType }, body: new Uint8Array(body) }).formData();
    // Fields the OpenAPI body does not declare are ignored by FastAPI, but the guide's examples
    // send some (seed): they are recorded as sent, so tests can see them.
    form.forEach((value, name) => {
      if (!schema.properties?.[name]) fields[name] = String(value);
    });
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      const values = form.getAll(name).map(String);
      if (values.length === 0) continue;
      if (prop.type === "array") {
        fields[name] = values;
        continue;
      }
      const raw = values[values.length - 1]!;
      const err = checkValue(coerce(raw, prop), prop, raw);
      if (err) errors.push({ loc: ["body", name], msg: err, type: "value_error" });
      fields[name] = coerce(raw, prop);
    }
  }
  for (const name of schema.required ?? []) if (fields[name] === undefined) errors.push({ loc: ["body", name], msg: "Field required", type: "missing" });
  return errors.length ? { errors } : { fields };
}

function coerce(raw: string, prop: SchemaObject): unknown {
  if (prop.type === "integer" && /^-?\d+$/.test(raw)) return Number(raw);
  if (prop.type === "boolean") {
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
  }
  return raw;
}

function checkValue(value: unknown, prop: SchemaObject, raw?: string): string | null {
  const type = prop.type ?? prop.anyOf?.find((a) => a.type && a.type !== "null")?.type;
  if (type === "integer" && !Number.isInteger(value)) return `Input should be a valid integer, unable to parse ${JSON.stringify(raw ?? value)}`;
  if (type === "boolean" && typeof value !== "boolean") return `Input should be a valid boolean, unable to interpret ${JSON.stringify(raw ?? value)}`;
  if (type === "string" && typeof value !== "string") return "Input should be a valid string";
  if (prop.enum && !prop.enum.includes(value)) return `Input should be ${prop.enum.map((e) => `'${String(e)}'`).join(", ")}`;
  if (typeof value === "number" && prop.minimum !== undefined && value < prop.minimum) return `Input should be greater than or equal to ${prop.minimum}`;
  if (typeof value === "number" && prop.maximum !== undefined && value > prop.maximum) return `Input should be less than or equal to ${prop.maximum}`;
  return null;
}
