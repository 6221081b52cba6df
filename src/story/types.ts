/** The story format, version 1, as schemas/story.schema.json describes it. */

export type AspectRatio = "16:9" | "4:3" | "1:1" | "3:4" | "9:16";
export type Transition = "crossfade" | "cut";

export interface Settings {
  aspect_ratio?: AspectRatio;
  image?: { model?: string; seed?: number };
  motion?: { model?: string; duration?: number };
  narrator?: string;
  language?: string;
  background_music?: boolean;
  show_title?: boolean;
  transitions?: Transition;
}

export interface Element {
  name: string;
  description: string;
  image_url?: string;
}

export interface Music {
  description?: string;
  lyrics?: string;
  music_url?: string | null;
}

export interface TitleScene {
  title?: string;
  description?: string;
}

export interface Scene {
  id?: string;
  title?: string;
  description: string;
  narrator: string;
  motion_description?: string;
  image_url?: string;
  duration?: number;
}

export interface Story {
  storyc: 1;
  title?: string;
  idea?: string;
  settings?: Settings;
  characters?: Element[];
  environments?: Element[];
  objects?: Element[];
  music?: Music;
  title_scene?: TitleScene;
  scenes?: Scene[];
}

export const ELEMENT_KINDS = ["characters", "environments", "objects"] as const;
export type ElementKind = (typeof ELEMENT_KINDS)[number];

/** Settings with every default filled in. */
export interface ResolvedSettings {
  aspect_ratio: AspectRatio;
  image: { model: string; seed: number | null };
  motion: { model: string; duration: number };
  narrator: string;
  language: string;
  background_music: boolean;
  show_title: boolean;
  transitions: Transition;
}

export function resolveSettings(settings: Settings | undefined): ResolvedSettings {
  const s = settings ?? {};
  return {
    aspect_ratio: s.aspect_ratio ?? "16:9",
    image: { model: s.image?.model ?? "Seedream", seed: s.image?.seed ?? null },
    motion: { model: s.motion?.model ?? "Auto", duration: s.motion?.duration ?? 5 },
    narrator: s.narrator ?? "Rachel",
    language: s.language ?? "en",
    background_music: s.background_music ?? true,
    show_title: s.show_title ?? true,
    transitions: s.transitions ?? "crossfade",
  };
}
