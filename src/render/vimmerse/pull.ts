import { rm, writeFile } from "node:fs/promises";
import { dirname, extname, join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildGraph } from "../../graph/build-graph.js";
import type { GraphNode } from "../../graph/nodes.js";
import { Cache } from "../../lock/cache.js";
import { emptyLockfile, writeLockfile, type LockEntry } from "../../lock/lockfile.js";
import { storyPaths } from "../../project/paths.js";
import { writeDraft } from "../../project/draft.js";
import type { AspectRatio, Story } from "../../story/types.js";
import { loadValidStory } from "../../story/valid-story-cache.js";
import { DEFAULT_API_URL, VimmerseApiError, VimmerseClient, type ApiStory } from "./client.js";
import { download } from "./download.js";
import { findElementUrl, mapClips } from "./answers.js";
import { VimmerseRenderer } from "./index.js";
import { fromApiStoryboard } from "./storyboard.js";

export interface PullOptions {
  storyId: string;
  /** Where to write the story file; its lockfile goes beside it. */
  output: string;
  env?: NodeJS.ProcessEnv;
  overwrite?: boolean;
  signal?: AbortSignal;
  cacheDir?: string;
}

export interface PullSummary {
  storyFile: string;
  lockfile: string;
  storyId: string;
  /** Nodes whose finished media were downloaded, cached and recorded. */
  recorded: string[];
  /** Nodes the remote story has no finished media for (a build would make them), with why. */
  missing: Array<{ id: string; why: string }>;
}

export type PullResult = { ok: true; summary: PullSummary } | { ok: false; message: string; hint: string };

/**
 * Turns a story made elsewhere (the Vimmerse web app, idea-2-video) into a
 * story file and a lockfile whose finished media are downloaded into the
 * cache and recorded under the keys a cloud build computes for that story
 * file, so that `storyc build --renderer vimmerse` renders nothing and pays
 * nothing. Media are mapped to nodes by identity: elements by name, scene
 * images and narrations by the order of the remote storyboard, clips by the
 * scene image they were made from.
 */
export async function pullStory(options: PullOptions): Promise<PullResult> {
  const env = options.env ?? process.env;
  const client = clientFrom(env);
  if (!client) return { ok: false, message: "VIMMERSE_API_KEY is not set", hint: "export VIMMERSE_API_KEY with the key of your Vimmerse account" };
  let remote: ApiStory;
  try {
    remote = await client.getStory(options.storyId, options.signal);
  } catch (error) {
    return apiFailure(error);
  }
  if (remote.status !== "success") {
    return { ok: false, message: `story ${options.storyId} is ${remote.status} (${Number(remote.progress_percentage ?? 0)}%), not finished`, hint: "wait until it finishes on Vimmerse, then pull it again" };
  }
  return record(remote, options, env);
}

/**
 * `storyc new --idea ... --render`: POST /story/idea-2-video, wait for the
 * video, then pull the result.
 */
export async function ideaToStory(
  fields: { idea: string; scene_count?: number; aspect_ratio?: string; title?: string },
  options: Omit<PullOptions, "storyId"> & { pollMs?: number; onProgress?: (percent: number, status: string) => void },
): Promise<PullResult> {
  const env = options.env ?? process.env;
  const client = clientFrom(env);
  if (!client) return { ok: false, message: "VIMMERSE_API_KEY is not set", hint: "export VIMMERSE_API_KEY with the key of your Vimmerse account, or draft without --render" };
  let story: ApiStory;
  try {
    story = await client.ideaToVideo({ ...fields, is_transition: false }, options.signal);
    let delay = options.pollMs ?? (Number(env.STORYC_VIMMERSE_POLL_MS) || 2000);
    while (story.status !== "success") {
      if (story.status === "fail" || story.status === "failed") {
        return { ok: false, message: `the Story API could not make story ${story.id}${story.message ? `: ${String(story.message)}` : ""}`, hint: "try another idea, or draft without --render" };
      }
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
      delay = Math.min(30_000, Math.round(delay * 1.5));
      story = await client.getStory(story.id, options.signal);
      options.onProgress?.(Number(story.progress_percentage ?? 0), story.status);
    }
  } catch (error) {
    return apiFailure(error);
  }
  return record(story, { ...options, storyId: story.id }, env);
}

function clientFrom(env: NodeJS.ProcessEnv): VimmerseClient | null {
  if (!env.VIMMERSE_API_KEY) return null;
  return new VimmerseClient({ apiKey: env.VIMMERSE_API_KEY, baseUrl: env.VIMMERSE_API_URL ?? DEFAULT_API_URL });
}

function apiFailure(error: unknown): PullResult {
  if (error instanceof VimmerseApiError) return { ok: false, message: error.message, hint: error.hint };
  throw error;
}

/** The story file a remote story stands for: its storyboard, and the settings the API reports. */
export function storyFromRemote(remote: ApiStory): Story {
  const aspect = String((remote.submit_params as Record<string, unknown> | undefined)?.aspect_ratio ?? remote.aspect_ratio ?? "16:9");
  const story = fromApiStoryboard(remote.storyboard ?? {}, {
    ...(remote.title ? { title: remote.title } : {}),
    ...(typeof remote.idea === "string" && remote.idea ? { idea: remote.idea } : {}),
    aspect_ratio: aspect,
  });
  const preset = ((remote.pose_preset as unknown[] | undefined)?.[0] ?? {}) as Record<string, unknown>;
  const params = Object.fromEntries(String(preset.Params ?? "").split("|").map((kv) => kv.split("=") as [string, string]));
  const duration = Number(preset.motion_length ?? params.MotionLength ?? 5);
  const model = String(preset.motion_type ?? preset.MotionType ?? "Auto");
  story.settings = {
    ...story.settings,
    aspect_ratio: (["16:9", "4:3", "1:1", "3:4", "9:16"].includes(aspect) ? aspect : "16:9") as AspectRatio,
    motion: { model, duration: Number.isInteger(duration) && duration >= 1 && duration <= 10 ? duration : 5 },
    ...(typeof remote.narrator === "string" && remote.narrator ? { narrator: remote.narrator } : {}),
    background_music: remote.background_music !== false && remote.has_bg_music !== false,
    show_title: remote.show_title === true,
    // The API's /concat joins clips with cuts; pulled clips are kept as they were made.
    transitions: "cut",
  };
  return story;
}

async function record(remote: ApiStory, options: PullOptions, env: NodeJS.ProcessEnv): Promise<PullResult> {
  const file = options.output;
  try {
    await writeDraft(file, { story: storyFromRemote(remote), source: "vimmerse" }, { overwrite: Boolean(options.overwrite) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return { ok: false, message: `${file} already exists`, hint: "choose another file with -o, or pass --force to replace it and its lockfile" };
    throw error;
  }
  const paths = storyPaths(file, options.cacheDir ? { cacheDir: options.cacheDir } : {});
  // The graph of the story as a build will read it back, so that the keys are the build's own.
  const loaded = await loadValidStory(paths.story, paths.cacheDir, { useCache: false });
  if (!loaded.ok) return { ok: false, message: `the story pulled from ${remote.id} does not validate (${loaded.diagnostics[0]?.message ?? "unknown problem"})`, hint: `fix ${relative(process.cwd(), file)} by hand, then build it` };
  const renderer = new VimmerseRenderer({ env });
  const graph = await buildGraph(loaded.story, paths.story, { renderer: renderer.identity, rendererOptions: renderer.options, inputsFor: renderer.inputsFor.bind(renderer) });
  const cache = new Cache(paths.cacheDir, paths.projectRoot);
  const lock = emptyLockfile(relative(dirname(paths.lockfile), paths.story), renderer.identity.name);

  const sceneImages = (remote.storyboard?.scenes ?? []).map((s) => s.image_url ?? "");
  const clips = mapClips(remote, sceneImages);
  const urlOf = (node: GraphNode): { url?: string; why?: string } => {
    switch (node.kind) {
      case "element": {
        const url = findElementUrl(remote, node);
        return url ? { url } : { why: "the remote story has no image for it" };
      }
      case "music": {
        const url = remote.storyboard?.music?.music_url ?? (remote.audio_urls as string[] | undefined)?.[0];
        return url ? { url } : { why: "the remote story has no music" };
      }
      case "scene-image":
      case "scene-narration": {
        const scene = remote.storyboard?.scenes?.[node.scene!];
        const url = node.kind === "scene-image" ? scene?.image_url : scene?.narration_url;
        return url ? { url } : { why: `the remote storyboard's scene ${node.scene! + 1} has no ${node.kind === "scene-image" ? "image" : "narration"}` };
      }
      case "scene-clip": {
        const outcome = clips[node.scene!];
        return outcome && "url" in outcome ? { url: outcome.url } : { why: outcome && "error" in outcome ? outcome.error.message : "no clip" };
      }
      case "video":
        return remote.video_url ? { url: remote.video_url } : { why: "the remote story has no final video" };
      case "title":
      case "crossfade":
      case "sound":
        return {};
    }
  };

  const recorded: string[] = [];
  const missing: PullSummary["missing"] = [];
  const work = await cache.scratch("pull");
  try {
    for (const node of graph.nodes) {
      let path: string;
      let name: string;
      const { url, why } = urlOf(node);
      if (node.kind === "title") {
        // As the cloud renderer makes it: the title is part of the storyboard, a file of its inputs.
        name = "title.json";
        path = join(work, name);
        await writeFile(path, JSON.stringify(node.inputs, null, 2));
      } else if (!url) {
        missing.push({ id: node.id, why: why ?? "no finished media" });
        continue;
      } else {
        const base = { element: "element", music: "music", "scene-image": "scene", "scene-narration": "narration", "scene-clip": "clip", crossfade: "crossfade", sound: "sound", video: "video" }[node.kind];
        const fallback = node.kind === "music" || node.kind === "scene-narration" ? ".mp3" : node.kind === "element" || node.kind === "scene-image" ? ".png" : ".mp4";
        const ext = /^\.[a-z0-9]{2,4}$/i.test(extname(new URL(url).pathname)) ? extname(new URL(url).pathname).toLowerCase() : fallback;
        name = `${base}${ext}`;
        path = join(work, `${node.id.replace(/[^\w.-]+/g, "_")}${ext}`);
        await download(url, path, options.signal ? { signal: options.signal } : {});
      }
      const stored = await cache.put(path, name, { move: true });
      // The same meta a cloud build records: the URL later requests restate, a clip's length, an element's description.
      const meta: Record<string, string | number> = { ...(url ? { url } : {}) };
      if (node.kind === "scene-clip") meta.seconds = Number(node.inputs.duration);
      if (node.kind === "element") meta.description = node.inputs.description;
      await cache.putAction(node.key, { outputs: [stored], meta });
      const entry: LockEntry = {
        key: node.key,
        digests: node.digests,
        outputs: [cache.lockOutput(stored)],
        ...(Object.keys(meta).length ? { meta } : {}),
        ...(url ? { remote: { storyId: remote.id, url } } : {}),
      };
      lock.nodes[node.id] = entry;
      recorded.push(node.id);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await writeLockfile(paths.lockfile, lock);
  return { ok: true, summary: { storyFile: paths.story, lockfile: paths.lockfile, storyId: remote.id, recorded, missing } };
}
