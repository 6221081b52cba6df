import type { Scene, Story } from "../../story/types.js";
import { ELEMENT_KINDS } from "../../story/types.js";
import type { ApiScene, ApiStoryboard } from "./client.js";

/** Remote URLs of work already done, so that the API makes only what is missing. */
export interface KnownUrls {
  elements: Map<string, string>;
  music?: string | undefined;
  sceneImages: Map<number, string>;
  narrations: Map<number, string>;
  /**
   * The URL the API can fetch a file the story names from: the value itself when it
   * is a URL, a configured base URL's copy of a local file, or none (the API makes it).
   */
  media?: (value: string) => string | undefined;
}

const remoteOnly = (value: string) => (/^https?:/i.test(value) ? value : undefined);

/**
 * The storyboard as the API expects it. Scenes carry both spellings the API
 * documents (description/motion_description of its guide, and
 * image_description/video_description of its OpenAPI examples).
 */
export function toApiStoryboard(story: Story, known: KnownUrls, sceneIndexes?: readonly number[]): ApiStoryboard {
  const board: ApiStoryboard = {};
  for (const kind of ELEMENT_KINDS) {
    board[kind] = (story[kind] ?? []).map((e) => {
      const url = known.elements.get(`element/${kind}/${e.name}`) ?? (e.image_url ? (known.media ?? remoteOnly)(e.image_url) : undefined);
      return { name: e.name, description: e.description, ...(url ? { image_url: url } : {}) };
    });
  }
  if (story.music) {
    const url = known.music ?? (story.music.music_url ? (known.media ?? remoteOnly)(story.music.music_url) : undefined);
    board.music = { description: story.music.description ?? "", lyrics: story.music.lyrics ?? "", ...(url ? { music_url: url } : {}) };
  }
  board.title_scene = { title: story.title_scene?.title ?? story.title ?? "", description: story.title_scene?.description ?? "" };
  const indexes = sceneIndexes ?? (story.scenes ?? []).map((_, i) => i);
  board.scenes = indexes.map((i) => apiScene(story.scenes![i]!, i, known));
  return board;
}

function apiScene(scene: Scene, index: number, known: KnownUrls): ApiScene {
  const image = known.sceneImages.get(index) ?? (scene.image_url ? (known.media ?? remoteOnly)(scene.image_url) : undefined);
  const narration = known.narrations.get(index);
  return {
    name: scene.id ?? scene.title ?? `Scene ${index + 1}`,
    ...(scene.title ? { title: scene.title } : {}),
    description: scene.description,
    image_description: scene.description,
    narrator: scene.narrator,
    motion_description: scene.motion_description ?? "",
    video_description: scene.motion_description ?? "",
    ...(image ? { image_url: image } : {}),
    ...(narration ? { narration_url: narration } : {}),
  };
}

/** A story file's content from an API storyboard, reading either spelling of scene fields. */
export function fromApiStoryboard(board: ApiStoryboard, extra: { title?: string; idea?: string; aspect_ratio?: string }): Story {
  const story: Story = { storyc: 1 };
  if (extra.title) story.title = extra.title;
  if (extra.idea) story.idea = extra.idea;
  if (extra.aspect_ratio) story.settings = { aspect_ratio: extra.aspect_ratio as NonNullable<Story["settings"]>["aspect_ratio"] };
  for (const kind of ELEMENT_KINDS) {
    const list = (board[kind] ?? []).filter((e) => typeof e?.name === "string" && e.name.trim());
    if (list.length) story[kind] = list.map((e) => ({ name: e.name.trim().replace(/\*/g, ""), description: String(e.description ?? e.name) }));
  }
  if (board.music && (board.music.description || board.music.lyrics)) {
    story.music = { ...(board.music.description ? { description: board.music.description } : {}), ...(board.music.lyrics ? { lyrics: board.music.lyrics } : {}) };
  }
  if (board.title_scene && (board.title_scene.title || board.title_scene.description)) {
    story.title_scene = { ...(board.title_scene.title ? { title: board.title_scene.title } : {}), ...(board.title_scene.description ? { description: board.title_scene.description } : {}) };
  }
  const scenes = (board.scenes ?? []).map((s, i) => {
    const description = String(s.description ?? s.image_description ?? "").trim() || `Scene ${i + 1}`;
    const narrator = String(s.narrator ?? "").trim() || String(s.title ?? description).trim();
    const motion = String(s.motion_description ?? s.video_description ?? "").trim();
    return { description, narrator, ...(motion ? { motion_description: motion } : {}), ...(s.title ? { title: String(s.title) } : {}) };
  });
  if (scenes.length) story.scenes = scenes;
  return story;
}
