import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { formatDiagnostic } from "../report/diagnostics.js";
import { palette } from "../report/color.js";
import { sceneNodePrefix } from "../graph/build-graph.js";
import type { StoryPaths } from "../project/paths.js";
import type { Story } from "../story/types.js";
import type { WatcherEvent } from "./watcher.js";
import { FPS } from "../render/local/layout.js";

export type SceneState = "fresh" | "rendering" | "failed" | "waiting";

export interface PreviewScene {
  index: number;
  label: string;
  narration: string;
  state: SceneState;
  /** Version of the scene's still (its sha256), to refresh the picture only when it changed. */
  image: string | null;
  /** Where the scene starts in the current video, in seconds (null when the renderer does not say). */
  start: number | null;
}

/** What the preview page shows; sent whole on every change (it is small). */
export interface PreviewModel {
  title: string;
  status: "starting" | "building" | "ready" | "invalid" | "failed" | "cancelled";
  message: string;
  video: string | null;
  /** Versions of the video's poster and subtitle track, when the renderer made them. */
  poster: string | null;
  subtitles: string | null;
  scenes: PreviewScene[];
  diagnostics: string[];
  /** Bumped on every change. */
  revision: number;
}

/** Folds watcher events into the preview's model, and knows where the served files are. */
export class PreviewState {
  model: PreviewModel = { title: "", status: "starting", message: "starting", video: null, poster: null, subtitles: null, scenes: [], diagnostics: [], revision: 0 };
  private story: Story | null = null;
  /** Cache paths of the current scene stills and the video, by route. */
  readonly files = new Map<string, string>();

  constructor(
    private readonly paths: StoryPaths,
    private readonly cwd: string,
  ) {}

  async apply(event: WatcherEvent): Promise<boolean> {
    const m = this.model;
    switch (event.type) {
      case "state":
        if (event.state === "building") {
          m.status = "building";
          m.message = "building";
        } else if (event.state === "cancelling") {
          m.message = "a newer save arrived: cancelling this build";
        } else if (event.state === "queued") {
          m.message = "a newer save arrived: one more build follows this one";
        } else return false;
        break;
      case "invalid":
        m.status = "invalid";
        m.message = "the story is invalid: fix it and save";
        m.diagnostics = event.diagnostics.map((d) => formatDiagnostic({ ...d, file: relative(this.cwd, d.file) || d.file }, event.text, palette(false)));
        break;
      case "valid":
        this.story = event.story;
        m.diagnostics = [];
        m.title = event.story.title ?? this.paths.name;
        m.scenes = (event.story.scenes ?? []).map((s, i) => ({
          index: i,
          label: s.id ?? s.title ?? `Scene ${i + 1}`,
          narration: s.narrator,
          state: "waiting",
          image: m.scenes[i]?.image ?? null,
          start: m.scenes[i]?.start ?? null,
        }));
        break;
      case "build": {
        const e = event.event;
        if (e.type === "plan") {
          for (const scene of m.scenes) {
            const prefix = this.prefix(scene.index);
            const stale = e.plan.items.some((i) => i.id.startsWith(prefix) && (i.action === "create" || i.action === "update"));
            scene.state = stale ? "rendering" : "fresh";
          }
        } else if (e.type === "node-failed") {
          const scene = this.sceneOf(e.id);
          if (scene) scene.state = "failed";
          m.message = `${e.label} failed: ${e.error}`;
        } else if (e.type === "node-done") {
          m.message = `${e.label} done`;
        } else return false;
        break;
      }
      case "built": {
        const r = event.result;
        if (r.ok) {
          m.status = "ready";
          m.message = `built in ${(r.summary.durationMs / 1000).toFixed(1)} s: ${r.summary.rendered.length} rendered`;
          await this.refreshFiles();
          for (const scene of m.scenes) if (scene.state !== "failed") scene.state = "fresh";
        } else if (r.failure.reason === "cancelled") {
          m.status = "cancelled";
          m.message = "build cancelled";
        } else if (r.failure.reason === "invalid-story") {
          m.status = "invalid";
        } else {
          m.status = "failed";
          const failure = r.failure;
          if ("message" in failure) m.message = failure.message;
        }
        break;
      }
    }
    m.revision++;
    return true;
  }

  private prefix(index: number): string {
    return `${sceneNodePrefix(this.story?.scenes?.[index] ?? {}, index)}/`;
  }

  private sceneOf(id: string): PreviewScene | undefined {
    return this.model.scenes.find((s) => id.startsWith(this.prefix(s.index)));
  }

  /** Reads the lockfile for the current stills and video, so the server hands out only those. */
  private async refreshFiles(): Promise<void> {
    const lock = JSON.parse(await readFile(this.paths.lockfile, "utf8")) as {
      nodes: Record<string, { outputs: Array<{ name: string; sha256: string; cache: string }>; meta?: Record<string, unknown> }>;
    };
    this.files.clear();
    // Scenes follow the title card back to back; a crossfade overlaps the next scene's head, not its start.
    let frame = this.model.scenes.length && lock.nodes.title ? Number(lock.nodes.title.meta?.frames ?? NaN) : 0;
    for (const scene of this.model.scenes) {
      const frames = Number(lock.nodes[`${this.prefix(scene.index)}clip`]?.meta?.frames ?? NaN);
      scene.start = Number.isFinite(frame) ? Number((frame / FPS).toFixed(3)) : null;
      frame += frames;
      const out = lock.nodes[`${this.prefix(scene.index)}image`]?.outputs[0];
      if (!out) continue;
      this.files.set(`/media/scene/${scene.index}`, join(this.paths.projectRoot, out.cache));
      scene.image = out.sha256.slice(0, 12);
    }
    const outputs = lock.nodes.video?.outputs ?? [];
    const serve = (route: string, test: (name: string) => boolean): string | null => {
      const out = outputs.find((o) => test(o.name));
      if (!out) return null;
      this.files.set(route, join(this.paths.projectRoot, out.cache));
      return out.sha256.slice(0, 12);
    };
    this.model.video = serve("/media/video", (n) => n.endsWith(".mp4")) ?? this.model.video;
    this.model.poster = serve("/media/poster", (n) => /poster\.(jpe?g|png)$/.test(n));
    this.model.subtitles = serve("/media/subtitles", (n) => n.endsWith(".vtt"));
  }
}
