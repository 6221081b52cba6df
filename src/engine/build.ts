import { access, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { localMediaOf } from "../graph/inputs.js";
import { buildGraph, MediaError } from "../graph/build-graph.js";
import type { BuildGraph } from "../graph/nodes.js";
import { Cache } from "../lock/cache.js";
import { emptyLockfile, LockfileError, readLockfile, writeLockfile, type Lockfile } from "../lock/lockfile.js";
import { acquireWriterLock, LockTimeoutError, type HeldLock, type LockOwner } from "../lock/writer-lock.js";
import { makeDir, PathError } from "../project/os-errors.js";
import { storyPaths, type StoryPaths } from "../project/paths.js";
import { loadRenderer } from "../render/registry.js";
import { RendererUnavailableError, type Renderer } from "../render/types.js";
import type { Diagnostic } from "../story/diagnostics.js";
import { resolveSettings, type Story } from "../story/types.js";
import { loadValidStory } from "../story/valid-story-cache.js";
import type { BuildEvent, BuildSummary, EventSink } from "./events.js";
import { execute } from "./executor.js";
import type { JobPool } from "./pool.js";
import { materializeOutputs } from "./materialize.js";
import { removeOwnScratch } from "./scratch.js";
import { computePlan, forcedNodes, unmatchedPatterns, type Plan, type UnmatchedPattern } from "./plan.js";
import { openTeamCache, remoteSummary, type TeamCacheOption } from "./team-cache.js";
import type { FarmClient } from "../farm/farm-client.js";

export interface StoryOptions {
  /** A renderer by name ("local", "vimmerse", "test") or an instance. */
  renderer?: string | Renderer;
  /** Renderer options that change outputs (quality...). */
  rendererOptions?: Record<string, unknown>;
  cacheDir?: string;
  outDir?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * The team cache: its settings (URL, read-only), or one already open that
   * the caller closes (several stories sharing one). Secrets come from `env`.
   */
  remoteCache?: TeamCacheOption;
}

export interface BuildOptions extends StoryOptions {
  jobs?: number;
  /** Node ids (or patterns with *) to render again, with everything downstream. */
  force?: string[];
  /** Go on with independent nodes after one fails. */
  keepGoing?: boolean;
  /** How long to wait for another build of the same story, in ms. */
  lockTimeoutMs?: number;
  signal?: AbortSignal;
  onEvent?: EventSink;
  /** The command line, recorded in the lock for whoever waits on it. */
  command?: string;
  /** One pool of render slots shared with other stories' builds (see buildStories). */
  pool?: JobPool;
  /**
   * A render farm (FarmClient.open): free renderers' nodes are made by its
   * workers, with the same keys; paid renderers stay in this process. Needs a
   * writable remote cache, which carries the bytes.
   */
  queue?: FarmClient;
}

/** Why a build or plan could not run, for the CLI to turn into a message and an exit code. */
export type Failure =
  | { reason: "invalid-story"; diagnostics: Diagnostic[] }
  | { reason: "no-scenes"; message: string }
  | { reason: "lockfile"; file: string; message: string; hint: string; line: number; column: number }
  | { reason: "locked"; owner: LockOwner | null; message: string }
  | { reason: "renderer-unavailable"; message: string; hint: string }
  | { reason: "path"; path: string; message: string; hint: string }
  | { reason: "force-unmatched"; patterns: UnmatchedPattern[] }
  | { reason: "remote-cache"; message: string }
  | { reason: "blocked"; problems: Array<{ message: string; hint: string }> }
  | { reason: "nodes-failed"; summary: BuildSummary }
  | { reason: "cancelled"; summary: BuildSummary };

/** `warnings`: what the remote cache could not do while planning (each kind once). */
export type PlanResult = { ok: true; plan: Plan; graph: BuildGraph; paths: StoryPaths; renderer: Renderer; warnings: string[] } | { ok: false; failure: Failure };
export type BuildResult = { ok: true; summary: BuildSummary; plan: Plan; paths: StoryPaths } | { ok: false; failure: Failure; plan?: Plan };

interface Prepared {
  story: Story;
  paths: StoryPaths;
  renderer: Renderer;
  graph: BuildGraph;
  cache: Cache;
}

async function prepare(storyFile: string, options: StoryOptions): Promise<{ ok: true; value: Prepared } | { ok: false; failure: Failure }> {
  const paths = storyPaths(storyFile, { ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}), ...(options.outDir ? { outDir: options.outDir } : {}) });
  // The renderer comes first, so that its tools are identified (processes started, waited for) while the
  // story is validated; a story that is not valid is still reported before a renderer that cannot run.
  let renderer: Renderer | RendererUnavailableError;
  try {
    renderer =
      typeof options.renderer === "object"
        ? options.renderer
        : await loadRenderer({ name: options.renderer ?? "local", options: options.rendererOptions ?? {}, ...(options.env ? { env: options.env } : {}) });
  } catch (error) {
    if (!(error instanceof RendererUnavailableError)) throw error;
    renderer = error;
  }
  const toolchain = renderer instanceof RendererUnavailableError ? undefined : renderer.toolchain?.(paths.cacheDir);
  // Awaited below once the story is valid; a failure meanwhile is not left unhandled.
  toolchain?.catch(() => undefined);
  let loaded = await loadValidStory(paths.story, paths.cacheDir);
  if (!loaded.ok) return { ok: false, failure: { reason: "invalid-story", diagnostics: loaded.diagnostics } };
  if (renderer instanceof RendererUnavailableError) return { ok: false, failure: { reason: "renderer-unavailable", message: renderer.message, hint: renderer.hint } };
  const graphOptions = {
    renderer: renderer.identity,
    rendererOptions: renderer.options,
    ...(toolchain ? { toolchain: await toolchain } : {}),
    ...(renderer.inputsFor ? { inputsFor: renderer.inputsFor.bind(renderer) } : {}),
    ...(renderer.videoPieces ? { videoPieces: true } : {}),
  };
  let graph: BuildGraph;
  try {
    graph = await buildGraph(loaded.story, paths.story, graphOptions);
  } catch (error) {
    if (!(error instanceof MediaError) || !loaded.fromCache) throw error;
    // A file the story names changed since it was last validated: validate in full to say where.
    loaded = await loadValidStory(paths.story, paths.cacheDir, { useCache: false });
    if (!loaded.ok) return { ok: false, failure: { reason: "invalid-story", diagnostics: loaded.diagnostics } };
    graph = await buildGraph(loaded.story, paths.story, graphOptions);
  }
  // A story whose text validated before may name a file whose content changed since: each
  // media content is checked once, and a new one sends the story through full validation.
  const media = [...new Set(graph.nodes.flatMap((n) => localMediaOf(n.kind, n.inputs).map((m) => m.sha256)))];
  const unchecked = await Promise.all(media.map((sha) => access(join(paths.cacheDir, "valid", "media", sha)).then(() => null, () => sha)));
  if (unchecked.some(Boolean)) {
    if (loaded.fromCache) {
      const full = await loadValidStory(paths.story, paths.cacheDir, { useCache: false });
      if (!full.ok) return { ok: false, failure: { reason: "invalid-story", diagnostics: full.diagnostics } };
    }
    await mkdir(join(paths.cacheDir, "valid", "media"), { recursive: true })
      .then(() => Promise.all(unchecked.filter((s): s is string => s !== null).map((sha) => writeFile(join(paths.cacheDir, "valid", "media", sha), ""))))
      .catch(() => undefined);
  }
  const story = loaded.story;
  return { ok: true, value: { story, paths, renderer, graph, cache: new Cache(paths.cacheDir, paths.projectRoot) } };
}

async function readLock(paths: StoryPaths): Promise<{ ok: true; lock: Lockfile | null } | { ok: false; failure: Failure }> {
  try {
    return { ok: true, lock: await readLockfile(paths.lockfile) };
  } catch (error) {
    if (error instanceof LockfileError) {
      return { ok: false, failure: { reason: "lockfile", file: error.file, message: error.message, hint: error.hint, line: error.line, column: error.column } };
    }
    throw error;
  }
}

/** What a build would do, and why, without doing it. */
export async function plan(storyFile: string, options: StoryOptions & { force?: string[] } = {}): Promise<PlanResult> {
  const prepared = await prepare(storyFile, options);
  if (!prepared.ok) return prepared;
  const { graph, cache, paths, renderer, story } = prepared.value;
  const unmatched = unmatchedPatterns(graph, options.force ?? []);
  if (unmatched.length) return { ok: false, failure: { reason: "force-unmatched", patterns: unmatched } };
  const lock = await readLock(paths);
  if (!lock.ok) return lock;
  const warnings: string[] = [];
  const team = await openTeamCache(options, paths.projectRoot, (w) => warnings.push(w.message));
  if (!team.ok) return team;
  try {
    const result = await computePlan(graph, lock.lock, cache, {
      force: forcedNodes(graph, options.force ?? []),
      renderer,
      settings: resolveSettings(story.settings),
      ...(team.remote ? { remote: team.remote } : {}),
    });
    return { ok: true, plan: result, graph, paths, renderer, warnings };
  } finally {
    await team.close();
  }
}

/** Builds a story: renders what is stale, reuses the rest, and writes the video to the output folder. */
export async function build(storyFile: string, options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const emit: EventSink = options.onEvent ?? (() => undefined);
  const prepared = await prepare(storyFile, options);
  if (!prepared.ok) return prepared;
  const { graph, cache, paths, renderer, story } = prepared.value;
  if (graph.nodes.length === 0 || !graph.byId.has("video")) {
    return { ok: false, failure: { reason: "no-scenes", message: "the story has no scenes yet: there is nothing to render" } };
  }
  const unmatched = unmatchedPatterns(graph, options.force ?? []);
  if (unmatched.length) return { ok: false, failure: { reason: "force-unmatched", patterns: unmatched } };
  const signal = options.signal ?? new AbortController().signal;
  // An output folder that cannot exist is found before the lock is taken and anything is rendered.
  try {
    await makeDir(paths.outDir);
  } catch (error) {
    if (error instanceof PathError) return { ok: false, failure: { reason: "path", path: error.path, message: `cannot write the video to ${error.message}`, hint: error.hint } };
    throw error;
  }
  let warnings = 0;
  const team = await openTeamCache(options, paths.projectRoot, (w) => {
    warnings++;
    emit({ type: "remote-cache-warning", reason: w.reason, message: w.message });
  });
  if (!team.ok) return team;
  const remote = team.remote;
  let runner: Renderer = renderer;
  if (options.queue && !renderer.paid) {
    if (!remote || remote.readonly) {
      await team.close();
      return { ok: false, failure: { reason: "remote-cache", message: `building on the farm at ${options.queue.location} needs a writable remote cache: the workers read inputs from it and write outputs to it` } };
    }
    const { QueueRenderer } = await import("../farm/queue-renderer.js");
    runner = new QueueRenderer(renderer, options.queue, remote, cache);
  }

  let held: HeldLock;
  try {
    held = await acquireWriterLock(paths.writerLock, {
      timeoutMs: options.lockTimeoutMs ?? 0,
      command: options.command ?? "storyc build",
      onWait: (owner) => emit({ type: "lock-wait", owner }),
      signal,
    });
  } catch (error) {
    await team.close();
    if (error instanceof LockTimeoutError) return { ok: false, failure: { reason: "locked", owner: error.owner, message: error.message } };
    if (signal.aborted) return { ok: false, failure: { reason: "cancelled", summary: emptySummary(performance.now() - started) } };
    throw error;
  }
  try {
    const lockRead = await readLock(paths);
    if (!lockRead.ok) return lockRead;
    const settings = resolveSettings(story.settings);
    const thePlan = await computePlan(graph, lockRead.lock, cache, { force: forcedNodes(graph, options.force ?? []), renderer, settings, ...(remote ? { remote } : {}) });
    emit({ type: "plan", plan: thePlan });

    const storyRef = relative(dirname(paths.lockfile), paths.story);
    const lock: Lockfile = lockRead.lock ?? emptyLockfile(storyRef, renderer.identity.name);
    const before = JSON.stringify(lock);
    lock.renderer = renderer.identity.name;

    // Settled before anything runs: a paid renderer must not start work it would have to stop.
    if (thePlan.blocking?.length) return { ok: false, failure: { reason: "blocked", problems: thePlan.blocking }, plan: thePlan };
    const work = thePlan.items.some((i) => i.action === "create" || i.action === "update");
    if (work && runner.prepare) {
      try {
        await runner.prepare(signal);
      } catch (error) {
        if (error instanceof RendererUnavailableError) return { ok: false, failure: { reason: "renderer-unavailable", message: error.message, hint: error.hint }, plan: thePlan };
        throw error;
      }
    }
    const result = await execute({
      graph,
      plan: thePlan,
      lock,
      lockfilePath: paths.lockfile,
      cache,
      renderer: runner,
      story,
      storyFile: paths.story,
      settings,
      jobs: Math.max(1, options.jobs ?? 2),
      keepGoing: Boolean(options.keepGoing),
      signal,
      emit,
      ...(remote ? { remote } : {}),
      ...(options.pool ? { pool: options.pool } : {}),
    });
    // Uploads run in the background while nodes render; the build returns only after they finished or gave up.
    await remote?.drain();

    if (signal.aborted) await removeOwnScratch(paths.cacheDir);
    const ok = result.failed.length === 0 && result.cancelled.length === 0 && result.skipped.length === 0 && !signal.aborted;
    const removed: string[] = [];
    if (ok) {
      for (const item of thePlan.items) {
        if (item.action === "delete") {
          delete lock.nodes[item.id];
          removed.push(item.id);
        }
      }
    }
    if (JSON.stringify(lock) !== before) await writeLockfile(paths.lockfile, lock);

    let outputs: string[] = [];
    const video = result.outputs.get("video");
    if (ok && video) {
      outputs = await materializeOutputs(video, paths.outDir, paths.name);
      emit({ type: "outputs", files: outputs });
    }
    await runner.dispose?.();
    // Spend as the API reported it: each paid node records its share in the lockfile.
    const spent = result.rendered.map((id) => lock.nodes[id]?.remote?.credits).filter((c): c is number => typeof c === "number");
    // What the work not done would still cost (after a 402, what to add to the account).
    const made = new Set(result.rendered);
    const remaining = thePlan.items.filter((i) => (i.action === "create" || i.action === "update") && !made.has(i.id)).reduce((sum, i) => sum + (i.credits ?? 0), 0);
    const credits = thePlan.credits !== undefined ? { estimated: thePlan.credits, used: spent.length ? spent.reduce((a, b) => a + b, 0) : null, remaining } : undefined;
    const summary: BuildSummary = {
      ok,
      rendered: result.rendered,
      restored: result.restored,
      fresh: result.fresh,
      removed,
      failed: result.failed,
      cancelled: result.cancelled,
      skipped: result.skipped,
      durationMs: performance.now() - started,
      outputs,
      ...(remote ? { remote: remoteSummary(remote, result.remote, warnings) } : {}),
      ...(credits ? { credits } : {}),
    };
    emit({ type: "finished", summary });
    if (signal.aborted) return { ok: false, failure: { reason: "cancelled", summary }, plan: thePlan };
    if (!ok) return { ok: false, failure: { reason: "nodes-failed", summary }, plan: thePlan };
    return { ok: true, summary, plan: thePlan, paths };
  } finally {
    await team.close();
    await held.release();
  }
}

function emptySummary(durationMs: number): BuildSummary {
  return { ok: false, rendered: [], restored: [], fresh: [], removed: [], failed: [], cancelled: [], skipped: [], durationMs, outputs: [] };
}

export type { BuildEvent, BuildSummary };
