import { dirname } from "node:path";
import { locateMedia } from "../story/media-path.js";
import { ElementIndex, referencedElements, type ElementRef } from "../story/references.js";
import { ELEMENT_KINDS, resolveSettings, type Story } from "../story/types.js";
import { hashJson, sha256File } from "./hash.js";
import type { MediaRef, NodeInputs, SceneMove } from "./inputs.js";
import type { BuildGraph, GraphNode, NodeKind, RendererIdentity, ToolchainOf } from "./nodes.js";

/** A file the story names that cannot be used (it moved or vanished since the story was validated). */
export class MediaError extends Error {
  constructor(
    readonly value: string,
    message: string,
    readonly hint: string,
  ) {
    super(`${value}: ${message}`);
  }
}

/** Bumped when the meaning of a key changes, so that every output is made again. */
export const GRAPH_FORMAT = 1;

export interface GraphOptions {
  renderer: RendererIdentity;
  /** Renderer options that change outputs (quality, size): part of every key. */
  rendererOptions?: Record<string, unknown>;
  /**
   * What identifies the tools that make each kind of node (the ffmpeg build, the
   * fonts): part of that kind's keys only, so a teammate with another ffmpeg
   * still shares the stills and the narration.
   */
  toolchain?: ToolchainOf;
  /**
   * The inputs a renderer actually uses, from the story's: a renderer that ignores a
   * field (the cloud's clips do not depend on transitions) fixes it, so that the key,
   * and what the renderer may read, cover only what changes its output.
   */
  inputsFor?: <K extends NodeKind>(kind: K, inputs: NodeInputs[K]) => NodeInputs[K];
  /**
   * The video's pieces besides the clips are nodes of their own, which the video
   * joins: the crossfade into each scene, made from the stills and narrations of
   * the scenes it joins, and each scene's piece of the sound track (the title
   * card's too), made from its narration and the music. They render beside the
   * clips instead of after them, and an edit makes again only those of its
   * scene. For a renderer that draws crossfades from stills and mixes the sound
   * per scene (the local one); the cloud's crossfades are cut from the paid clips
   * when its video is joined.
   */
  videoPieces?: boolean;
}

export function elementNodeId(ref: Pick<ElementRef, "kind" | "name">): string {
  return `element/${ref.kind}/${ref.name}`;
}

/** A scene's nodes are named by its id when it has one, else by its position (1-based). */
export function sceneNodePrefix(scene: { id?: string }, index: number): string {
  return `scene/${scene.id ?? index + 1}`;
}

/**
 * The build graph of a valid story. Keys are computed here, bottom-up, so a
 * node's key covers its whole upstream. A scene's position is not an input of
 * its own nodes: only the video, which plays the clips in order, sees it.
 */
export async function buildGraph(story: Story, storyFile: string, options: GraphOptions): Promise<BuildGraph> {
  const settings = resolveSettings(story.settings);
  const storyDir = dirname(storyFile);
  const fileHashes = new Map<string, Promise<MediaRef>>();
  const media = (value: string | null | undefined): Promise<MediaRef> => {
    if (!value) return Promise.resolve(null);
    let hashed = fileHashes.get(value);
    if (!hashed) {
      hashed = locateMedia(value, storyDir).then(async (where) => {
        if (where.kind === "remote") return { url: where.url };
        if (where.kind === "local") return { file: value, sha256: (await sha256File(where.path)).sha256 };
        throw new MediaError(value, where.message, where.hint);
      });
      fileHashes.set(value, hashed);
    }
    return hashed;
  };

  const nodes: GraphNode[] = [];
  const byId = new Map<string, GraphNode>();
  // The key is a hash over the hashes of each input, so that each input is
  // serialised once and its short hash can be kept to explain a change.
  const rendererDigest = hashJson({ ...options.renderer, options: options.rendererOptions ?? {} });
  const add = <K extends NodeKind>(id: string, kind: K, label: string, storyInputs: NodeInputs[K], deps: Record<string, string | string[]>, scene?: number): GraphNode => {
    const inputs = options.inputsFor ? options.inputsFor(kind, storyInputs) : storyInputs;
    const inputDigests: Record<string, string> = {};
    for (const [name, value] of Object.entries(inputs)) inputDigests[name] = hashJson(value ?? null);
    const toolchain = options.toolchain?.(kind, inputs);
    if (toolchain !== undefined) inputDigests.toolchain = hashJson(toolchain);
    const depKeys = Object.fromEntries(
      Object.entries(deps).map(([role, d]) => [role, Array.isArray(d) ? d.map((x) => byId.get(x)!.key) : byId.get(d)!.key]),
    );
    const key = hashJson({ format: GRAPH_FORMAT, kind, renderer: rendererDigest, inputs: inputDigests, deps: depKeys });
    const digests: Record<string, string> = { renderer: rendererDigest.slice(0, 12) };
    for (const [name, digest] of Object.entries(inputDigests)) digests[name] = digest.slice(0, 12);
    for (const [role, k] of Object.entries(depKeys)) digests[`deps.${role}`] = (typeof k === "string" ? k : hashJson(k)).slice(0, 12);
    const node = { id, kind, label, inputs, deps, key, digests, ...(scene !== undefined ? { scene } : {}) } as unknown as GraphNode;
    nodes.push(node);
    byId.set(id, node);
    return node;
  };

  const imageSettings = { aspect_ratio: settings.aspect_ratio, model: settings.image.model, seed: settings.image.seed };
  for (const kind of ELEMENT_KINDS) {
    for (const element of story[kind] ?? []) {
      add(
        elementNodeId({ kind, name: element.name }),
        "element",
        `${kind.slice(0, -1)} "${element.name}"`,
        { kind, name: element.name, description: element.description, image: await media(element.image_url), settings: imageSettings },
        {},
      );
    }
  }

  const index = new ElementIndex(story);
  const elementDeps = (text: string | undefined) =>
    referencedElements(text ?? "", index)
      .map(elementNodeId)
      .sort();

  if (settings.background_music && story.music) {
    add(
      "music",
      "music",
      "music",
      { description: story.music.description ?? "", lyrics: story.music.lyrics ?? "", source: await media(story.music.music_url) },
      {},
    );
  }

  if (settings.show_title) {
    add(
      "title",
      "title",
      "title card",
      {
        title: story.title_scene?.title ?? story.title ?? "",
        description: story.title_scene?.description ?? "",
        aspect_ratio: settings.aspect_ratio,
        transitions: settings.transitions,
      } satisfies NodeInputs["title"],
      { elements: elementDeps(story.title_scene?.description) },
    );
  }
  const music: Record<string, string> = byId.has("music") ? { music: "music" } : {};
  const sounds: string[] = [];
  if (options.videoPieces && byId.has("title")) sounds.push(add("title/sound", "sound", "title card sound", { duration: null }, music).id);

  const scenes = story.scenes ?? [];
  const clips: string[] = [];
  const narrations: string[] = [];
  const crossfades: string[] = [];
  const playOrder: NodeInputs["video"]["scenes"] = [];
  const crossfading = options.videoPieces === true && settings.transitions === "crossfade";
  // What the next crossfade fades out of: the title card, the previous scene, or nothing.
  let previous: { move: NodeInputs["crossfade"]["from"]; deps: Record<string, string> } = byId.has("title") ? { move: "title", deps: { title: "title" } } : { move: null, deps: {} };
  for (const [i, scene] of scenes.entries()) {
    const prefix = sceneNodePrefix(scene, i);
    const name = scene.id ? `scene "${scene.id}"` : `scene ${i + 1}`;
    const image = add(
      `${prefix}/image`,
      "scene-image",
      `${name} image`,
      {
        description: scene.description,
        image: await media(scene.image_url),
        ground: referencedElements(scene.description ?? "", index)
          .filter((ref) => ref.kind === "environments")
          .map((ref) => story.environments?.[ref.index]?.description ?? ""),
        settings: imageSettings,
      },
      { elements: elementDeps(scene.description) },
      i,
    );
    const narration = add(
      `${prefix}/narration`,
      "scene-narration",
      `${name} narration`,
      { text: scene.narrator, voice: settings.narrator, language: settings.language },
      {},
      i,
    );
    const move: SceneMove = { motion_description: scene.motion_description ?? "", duration: scene.duration ?? settings.motion.duration };
    const clip = add(
      `${prefix}/clip`,
      "scene-clip",
      `${name} clip`,
      {
        ...move,
        settings: { aspect_ratio: settings.aspect_ratio, model: settings.motion.model, transitions: settings.transitions },
      },
      { image: image.id, narration: narration.id },
      i,
    );
    clips.push(clip.id);
    narrations.push(narration.id);
    if (options.videoPieces) sounds.push(add(`${prefix}/sound`, "sound", `${name} sound`, { duration: move.duration }, { narration: narration.id, ...music }, i).id);
    if (crossfading) {
      const crossfade = add(
        `${prefix}/crossfade`,
        "crossfade",
        `crossfade into ${name}`,
        { from: previous.move, to: move, aspect_ratio: settings.aspect_ratio },
        { ...previous.deps, image: image.id, narration: narration.id },
        i,
      );
      crossfades.push(crossfade.id);
      previous = { move, deps: { previousImage: image.id, previousNarration: narration.id } };
    }
    playOrder.push({ label: scene.id ?? scene.title ?? `scene ${i + 1}`, narration: scene.narrator });
  }

  if (scenes.length > 0) {
    const deps: Record<string, string | string[]> = { clips, narrations };
    if (crossfading) deps.crossfades = crossfades;
    if (options.videoPieces) deps.sounds = sounds;
    if (byId.has("title")) deps.title = "title";
    // With the sound in pieces of its own, the video only joins them: the music is theirs.
    if (byId.has("music") && !options.videoPieces) deps.music = "music";
    add(
      "video",
      "video",
      "video",
      {
        title: story.title ?? "",
        scenes: playOrder,
        settings: {
          aspect_ratio: settings.aspect_ratio,
          transitions: settings.transitions,
          show_title: settings.show_title,
          background_music: settings.background_music,
        },
      },
      deps,
    );
  }
  return { nodes, byId, renderer: options.renderer };
}
