import type { AspectRatio, ElementKind, Transition } from "../story/types.js";

/**
 * The typed inputs of each node kind: everything a renderer may read of the
 * story for that node, and so exactly what its key covers. A renderer is
 * handed one of these records and the outputs of the node's dependencies,
 * never the story: what it cannot reach, it cannot leak into its output.
 */

/** A file the story names: in the repo (by content hash), at a URL, or none. */
export type MediaRef = LocalMedia | RemoteMedia | null;
export interface LocalMedia {
  /** The path as written in the story, relative to the story's folder; for messages and to find the bytes. */
  file: string;
  sha256: string;
}
export interface RemoteMedia {
  url: string;
}

export interface ImageSettings {
  aspect_ratio: AspectRatio;
  model: string;
  seed: number | null;
}

export interface ElementInputs {
  kind: ElementKind;
  name: string;
  description: string;
  image: MediaRef;
  settings: ImageSettings;
}

export interface MusicInputs {
  description: string;
  lyrics: string;
  source: MediaRef;
}

export interface TitleInputs {
  title: string;
  description: string;
  aspect_ratio: AspectRatio;
  transitions: Transition;
}

export interface SceneImageInputs {
  description: string;
  image: MediaRef;
  /** The descriptions of the environments the scene names: the colours of its ground when no picture is given. */
  ground: string[];
  settings: ImageSettings;
}

export interface SceneNarrationInputs {
  text: string;
  voice: string;
  language: string;
}

export interface SceneClipInputs {
  motion_description: string;
  duration: number;
  settings: { aspect_ratio: AspectRatio; model: string; transitions: Transition };
}

/** A scene's camera move as its clip makes it: what a crossfade out of or into the scene continues. */
export interface SceneMove {
  motion_description: string;
  /** The scene's set duration: with its narration's length, the clip's length and so the move's pace. */
  duration: number;
}

/**
 * A crossfade into a scene, for a renderer that makes the video's pieces as
 * nodes of their own (GraphOptions.videoPieces): from the end of the title card's or
 * the previous scene's move, or from nothing before the first scene, into the
 * start of this scene's move.
 */
export interface CrossfadeInputs {
  from: "title" | SceneMove | null;
  to: SceneMove;
  aspect_ratio: AspectRatio;
}

/**
 * A scene's piece of the sound track, its narration over the music, or the
 * title card's, the music alone (GraphOptions.videoPieces).
 */
export interface SoundInputs {
  /** The scene's set duration (with its narration's length, the piece's length); null for the title card. */
  duration: number | null;
}

export interface VideoInputs {
  title: string;
  /** In play order: the position of each scene is an input of the video alone. */
  scenes: Array<{ label: string; narration: string }>;
  settings: { aspect_ratio: AspectRatio; transitions: Transition; show_title: boolean; background_music: boolean };
}

export interface NodeInputs {
  element: ElementInputs;
  music: MusicInputs;
  title: TitleInputs;
  "scene-image": SceneImageInputs;
  "scene-narration": SceneNarrationInputs;
  "scene-clip": SceneClipInputs;
  crossfade: CrossfadeInputs;
  sound: SoundInputs;
  video: VideoInputs;
}

export function isLocalMedia(media: unknown): media is LocalMedia {
  return typeof media === "object" && media !== null && typeof (media as LocalMedia).file === "string" && typeof (media as LocalMedia).sha256 === "string";
}

/** The local files a node's inputs name: the executor hands the renderer verified copies of exactly these. */
export function localMediaOf(kind: keyof NodeInputs, inputs: NodeInputs[keyof NodeInputs]): LocalMedia[] {
  const refs: unknown[] = [];
  if (kind === "element" || kind === "scene-image") refs.push((inputs as ElementInputs | SceneImageInputs).image);
  if (kind === "music") refs.push((inputs as MusicInputs).source);
  return refs.filter(isLocalMedia);
}
