import type { Story } from "../../story/types.js";
import { ELEMENT_KINDS } from "../../story/types.js";
import type { ApiStoryboard } from "./client.js";

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
