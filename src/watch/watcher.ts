import { watch as chokidarWatch, type FSWatcher } from "chokidar";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { build, type BuildOptions, type BuildResult } from "../engine/build.js";
import type { BuildEvent } from "../engine/events.js";
import type { Diagnostic } from "../story/diagnostics.js";
import type { Story } from "../story/types.js";
import { validateFile } from "../story/validate.js";
import { locateMedia } from "../story/media-path.js";
import { rememberValidStory } from "../story/valid-story-cache.js";
import { storyPaths } from "../project/paths.js";
import { transition, type WatchEffect, type WatchEvent, type WatchState } from "./state-machine.js";

/** What the watcher tells its reporters and the preview page. */
export type WatcherEvent =
  | { type: "state"; state: WatchState; reason?: string }
  | { type: "invalid"; diagnostics: Diagnostic[]; text: string | undefined }
  | { type: "valid"; story: Story }
  | { type: "build"; event: BuildEvent }
  | { type: "built"; result: BuildResult };

/** What the next build runs with, or why it cannot run (an invalid project config). */
export type PreparedBuild =
  | {
      ok: true;
      options: Omit<BuildOptions, "signal" | "onEvent">;
      /** Whether a save may cancel this build (false for a paid cloud renderer). */
      cancellable: boolean;
    }
  | { ok: false; diagnostics: Diagnostic[]; text: string | undefined };

/** chokidar's 50 ms throttle of a file's changes, and a margin for the write that falls at its end. */
const DEBOUNCE_MS = 60;

export interface WatcherOptions {
  /** Called before every build, so that a saved project config takes effect. */
  prepare: () => Promise<PreparedBuild>;
  /** More files whose saves start a build (the project config), whether they exist yet or not. */
  alsoWatch?: readonly string[];
  /**
   * How long the files must stay unchanged before a build starts. Not less than
   * chokidar's throttle (it drops a file's further changes for 50 ms after one
   * it reports): a save within that window is only seen if the build has not
   * read the file yet. Every millisecond beyond it is part of the writer's wait.
   */
  debounceMs?: number;
  onEvent: (event: WatcherEvent) => void;
}

/** The same build options every time. */
export function fixedBuild(options: Omit<BuildOptions, "signal" | "onEvent">, cancellable: boolean): () => Promise<PreparedBuild> {
  return async () => ({ ok: true, options, cancellable });
}

/**
 * Rebuilds a story when it, or a file it names, is saved. An explicit state
 * machine (state-machine.ts) decides what a save means at each moment.
 */
export class StoryWatcher {
  private state: WatchState = "idle";
  private timer: NodeJS.Timeout | null = null;
  private controller: AbortController | null = null;
  private running: Promise<void> | null = null;
  private fsWatcher: FSWatcher | null = null;
  private watched = new Set<string>();
  private cancellable = true;
  /** The story's text as the last build read it. */
  private readText: string | null = null;
  readonly story: string;

  constructor(
    storyFile: string,
    private readonly options: WatcherOptions,
  ) {
    this.story = resolve(storyFile);
  }

  async start(): Promise<void> {
    // No awaitWriteFinish: the debounce already waits out a write in progress (each chunk is
    // another event that restarts it), and a file read mid-write only fails validation until
    // its next event.
    this.fsWatcher = chokidarWatch(this.story, { ignoreInitial: true });
    this.fsWatcher.on("all", (_event, path) => this.dispatch({ type: "change", path }));
    this.watched.add(this.story);
    for (const file of this.options.alsoWatch ?? []) this.watchFile(resolve(file));
    await new Promise<void>((r) => this.fsWatcher!.once("ready", () => r()));
    this.dispatch({ type: "change", path: this.story });
  }

  async stop(): Promise<void> {
    this.dispatch({ type: "stop" });
    await this.running;
    await this.fsWatcher?.close();
  }

  /** The state the watcher is in. */
  get current(): WatchState {
    return this.state;
  }

  private dispatch(event: WatchEvent): void {
    const next = transition(this.state, event, { cancellable: this.cancellable });
    if (next.state !== this.state) {
      this.state = next.state;
      this.options.onEvent({ type: "state", state: next.state, ...(event.type === "change" ? { reason: event.path } : {}) });
    }
    for (const effect of next.effects) this.run(effect);
  }

  private run(effect: WatchEffect): void {
    switch (effect) {
      case "start-debounce":
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.timer = null;
          this.dispatch({ type: "debounce-elapsed" });
        }, this.options.debounceMs ?? DEBOUNCE_MS);
        break;
      case "start-build":
        this.running = this.buildOnce().finally(async () => {
          this.running = null;
          this.dispatch({ type: "build-finished" });
          // A save that landed while the story was being read may have been folded into an event
          // already handled (file watchers coalesce and throttle): look at the file itself once more.
          if (this.readText !== null && this.state === "idle" && (await readFile(this.story, "utf8").catch(() => null)) !== this.readText) {
            this.dispatch({ type: "change", path: this.story });
          }
        });
        break;
      case "cancel-build":
      case "stop-build":
        if (this.timer) clearTimeout(this.timer);
        // A paid cloud job is never cancelled by a save; only stopping storyc stops it.
        if (effect === "stop-build" || this.cancellable) this.controller?.abort(new Error(effect));
        break;
    }
  }

  private async buildOnce(): Promise<void> {
    this.readText = null;
    const prepared = await this.options.prepare();
    if (!prepared.ok) {
      this.options.onEvent({ type: "invalid", diagnostics: prepared.diagnostics, text: prepared.text });
      return;
    }
    this.cancellable = prepared.cancellable;
    const validation = await validateFile(this.story);
    this.readText = validation.source?.text ?? null;
    if (!validation.valid || !validation.story) {
      this.options.onEvent({ type: "invalid", diagnostics: validation.diagnostics, text: validation.source?.text });
      return;
    }
    this.options.onEvent({ type: "valid", story: validation.story });
    // The build would parse and check the same text again; it finds it in the valid-story cache instead.
    if (validation.source) {
      const { cacheDir } = storyPaths(this.story, prepared.options.cacheDir ? { cacheDir: prepared.options.cacheDir } : {});
      await rememberValidStory(cacheDir, validation.source.text, validation.story);
    }
    await this.watchMedia(validation.story);
    this.controller = new AbortController();
    const result = await build(this.story, {
      ...prepared.options,
      signal: this.controller.signal,
      onEvent: (event) => this.options.onEvent({ type: "build", event }),
    });
    this.controller = null;
    this.options.onEvent({ type: "built", result });
  }

  /** Local image and music files the story names are watched too. */
  private async watchMedia(story: Story): Promise<void> {
    const values = [
      ...(["characters", "environments", "objects"] as const).flatMap((k) => (story[k] ?? []).map((e) => e.image_url)),
      ...(story.scenes ?? []).map((s) => s.image_url),
      story.music?.music_url,
    ].filter((v): v is string => typeof v === "string" && v !== "");
    for (const value of values) {
      const where = await locateMedia(value, dirname(this.story));
      if (where.kind === "local") this.watchFile(where.path);
    }
  }

  private watchFile(path: string): void {
    if (this.watched.has(path)) return;
    this.watched.add(path);
    this.fsWatcher?.add(path);
  }
}
